"""Checking and normalising rows, a chunk at a time, into staging records.

Each chunk is processed column by column with precompiled rules and lookup tables (the
same shape of work pandas would do on object columns, without materialising a frame); the
only per-row work that cannot be column-wise is what the archive needs in Python anyway:
the GB 11643 / GB 32100 check characters, encrypting and hashing the ID number
(:mod:`bankcrm.pii`) and the pinyin search keys (:mod:`bankcrm_customer_archive.names`).
Duplicates within the file and against the archive are decided set-wise in SQL after
staging (:mod:`.staging`), not here.

Errors are ``{"field", "column", "value", "message"}`` with the value as the file had it,
personal data masked (ID numbers, phones, streets, account numbers).
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from bankcrm import pii
from bankcrm.organisation.directory import Outcome, StaffDirectory
from bankcrm.tabular import Cell, as_text
from bankcrm.text import UNSAFE_CHARACTERS
from bankcrm_customer_archive import names
from bankcrm_customer_archive.demo_data import (
    is_valid_resident_id,
    is_valid_uscc,
    resident_id_check_digit,
)
from bankcrm_customer_archive.importing.address import AddressError, split_address
from bankcrm_customer_archive.importing.mapping import ColumnMapping
from bankcrm_customer_archive.search import services as search
from bankcrm_customer_archive.validation import (
    EARLIEST_BIRTH,
    MAX_AMOUNT,
    PASSPORT,
    normalise_phone,
    resident_id_facts,
)

_DATE_SEPARATED = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_DATE_TIME_SUFFIX = re.compile(r"[ T]00:00(:00(\.0+)?)?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_POSTCODE = re.compile(r"^\d{6}$")
_ACCOUNT = re.compile(r"^[0-9A-Z]{6,32}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_TAG_SPLIT = re.compile(r"[,，;；、|/\s]+")
_FORMULA_START = ("=", "+", "-", "@")
_EXCEL_EPOCH = date(1899, 12, 30)
_PROVINCES = frozenset((
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65", "71", "81", "82", "83",
))  # fmt: skip


_LABEL_NOISE = re.compile(r"[\s_\-()（）]+")


@functools.lru_cache(maxsize=4096)
def _key(text: str) -> str:
    # Enumeration columns repeat a handful of values over a million rows: cached.
    return _LABEL_NOISE.sub("", unicodedata.normalize("NFKC", text).strip().lower())


def _labels(table: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    return {_key(label): value for value, labels in table.items() for label in (value, *labels)}


KIND = _labels({
    "individual": ("个人", "个人客户", "对私", "自然人", "person", "personal", "retail", "p"),
    "corporate": ("企业", "公司", "对公", "企业客户", "单位", "法人", "company", "business",
                  "organisation", "organization", "c"),
})  # fmt: skip
ID_TYPE = _labels(
    {
        "resident_id": ("身份证", "居民身份证", "身份证号", "id card", "resident id", "idcard"),
        "passport": ("护照", "passport"),
        "uscc": ("统一社会信用代码", "营业执照", "信用代码", "social credit code"),
    }
)
GENDER = _labels({"M": ("男", "male", "m", "1", "先生"), "F": ("女", "female", "f", "2", "女士")})
EDUCATION = _labels({
    "primary": ("小学", "primary school"),
    "secondary": ("初中", "高中", "中学", "secondary school", "high school"),
    "vocational": ("中专", "大专", "专科", "高职", "职高", "技校", "vocational", "college"),
    "bachelor": ("本科", "大学本科", "学士", "大学", "bachelors", "undergraduate"),
    "master": ("硕士", "研究生", "硕士研究生", "masters", "mba"),
    "doctorate": ("博士", "博士研究生", "doctor", "phd"),
})  # fmt: skip
INCOME = _labels({
    "lt_100k": ("10万以下", "10万元以下", "<10万", "低于10万", "below 100k"),
    "100k_300k": ("10-30万", "10万-30万", "10至30万", "10~30万", "100k-300k"),
    "300k_1m": ("30-100万", "30万-100万", "30至100万", "30~100万", "300k-1m"),
    "1m_5m": ("100-500万", "100万-500万", "100至500万", "100~500万", "1m-5m"),
    "gt_5m": ("500万以上", "500万元以上", ">500万", "高于500万", "above 5m"),
})  # fmt: skip
MARITAL = _labels({
    "single": ("未婚", "单身"), "married": ("已婚", "在婚"), "divorced": ("离异", "离婚"),
    "widowed": ("丧偶",),
})  # fmt: skip
COMPANY_SIZE = _labels({
    "micro": ("微型", "微型企业", "微"), "small": ("小型", "小型企业", "小"),
    "medium": ("中型", "中型企业", "中"), "large": ("大型", "大型企业", "大"),
})  # fmt: skip
HOLDING_STATUS = _labels({
    "active": ("正常", "有效", "开户", "活跃"), "frozen": ("冻结", "止付"),
    "closed": ("销户", "已销户", "关闭", "注销"),
})  # fmt: skip

_MASKERS: dict[str, Callable[[str], str | None]] = {
    "id_number": pii.mask_id_number,
    "phone": pii.mask,
    "account_no": pii.mask_account,
    "street": lambda text: text[:6] + "***" if len(text) > 6 else "***",
    "address": lambda text: text[:9] + "***" if len(text) > 9 else "***",
}


def masked(field_name: str, text: str) -> str:
    masker = _MASKERS.get(field_name)
    return (masker(text) or "") if masker and text else text


def for_correction(field_name: str, text: str) -> str:
    """A refused value as the report shows it: personal data stays masked, but with its
    length and any character that is neither a letter nor a digit, so the clerk can see
    what to fix (``*******`` alone says nothing about a phone number one digit short)."""
    shown = masked(field_name, text)
    if shown == text or not text:
        return shown
    odd = "".join(sorted({c for c in text if not c.isalnum()}))
    return f"{shown} ({len(text)}" + (f", {odd!r}" if odd else "") + ")"


@dataclass
class RowErrors:
    mapping: ColumnMapping
    items: list[dict[str, str]] = field(default_factory=list)

    def add(self, field_name: str, message: str, raw: str = "") -> None:
        self.items.append(
            {
                "field": field_name,
                "column": self.mapping.header_of(field_name),
                "value": for_correction(field_name, raw),
                "message": message,
            }
        )

    def warn(self, field_name: str, message: str, raw: str = "") -> None:
        """A note on a row that is imported all the same (``severity: warning``)."""
        self.add(field_name, message, raw)
        self.items[-1]["severity"] = "warning"

    @property
    def refused(self) -> bool:
        return any(item.get("severity") != "warning" for item in self.items)

    def control_characters(self, cells: list[Cell]) -> None:
        """Blank every cell holding a control or bidi-override character (PostgreSQL text
        cannot hold NUL, and the others hide what a reader sees), with an error naming the
        row's column."""
        for position, cell in enumerate(cells):
            if isinstance(cell, str) and (found := UNSAFE_CHARACTERS.search(cell)):
                field_name = (
                    self.mapping.fields[position] if position < len(self.mapping.fields) else None
                )
                self.items.append(
                    {
                        "field": field_name or "",
                        "column": self.mapping.headers[position]
                        if position < len(self.mapping.headers)
                        else f"#{position + 1}",
                        "value": "",
                        "message": f"contains the control character U+{ord(found.group()):04X}",
                    }
                )
                cells[position] = ""

    def json(self) -> str | None:
        return json.dumps(self.items, ensure_ascii=False) if self.items else None


def parse_date(cell: Cell) -> date | None:
    """A date from a cell: a date, an Excel serial number or common written forms.

    Raises ValueError with the reason.
    """
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        return _from_serial(float(cell))
    text = as_text(cell)
    if not text:
        return None
    text = _DATE_TIME_SUFFIX.sub("", text)
    match = _DATE_SEPARATED.match(text) or _DATE_COMPACT.match(text)
    if match:
        year, month, day = (int(part) for part in match.groups())
        try:
            return date(year, month, day)
        except ValueError:
            raise ValueError(f"{text} is not a calendar date") from None
    if text.isdigit() and len(text) <= 5:
        return _from_serial(float(text))
    raise ValueError("not a date (write 1985-06-14, 1985/6/14 or 19850614)")


def _from_serial(serial: float) -> date:
    if not 1 <= serial < 2958466:
        raise ValueError("not a date (a number outside Excel's date range)")
    # Excel's serial 60 is the fictitious 1900-02-29; later serials count from 1899-12-30.
    return _EXCEL_EPOCH + timedelta(days=int(serial) if serial >= 61 else int(serial) + 1)


def parse_amount(cell: Cell) -> Decimal | None:
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        value = Decimal(repr(cell)) if isinstance(cell, float) else Decimal(cell)
    else:
        text = as_text(cell).replace(",", "").replace("，", "").replace("¥", "").strip()
        if not text:
            return None
        factor = Decimal(1)
        if text.endswith(("万元", "万")):
            factor, text = Decimal(10_000), text.rstrip("元").rstrip("万")
        elif text.endswith("元"):
            text = text[:-1]
        try:
            value = Decimal(text) * factor
        except InvalidOperation:
            raise ValueError("not a number") from None
    if not value.is_finite():
        raise ValueError("not a number")
    if value < 0 or value > MAX_AMOUNT:
        raise ValueError(f"must lie between 0 and {MAX_AMOUNT}")
    if value != value.quantize(Decimal("0.01")):
        raise ValueError("at most two decimal places")
    return value.quantize(Decimal("0.01"))


def resident_id_problem(number: str) -> str | None:
    """Why ``number`` is not a valid resident ID (GB 11643-1999), or None."""
    if len(number) == 15 and number.isdigit():
        return "a 15-digit ID number is the pre-1999 format: give the 18-digit number"
    if len(number) != 18:
        return f"a resident ID number has 18 characters, not {len(number)}"
    body = number[:17]
    if not body.isascii() or not body.isdigit() or number[17] not in "0123456789X":
        return "a resident ID number is 17 digits and a digit or X"
    if body[:2] not in _PROVINCES:
        return f"region code {body[:6]} is not a Chinese administrative division"
    try:
        born = date(int(body[6:10]), int(body[10:12]), int(body[12:14]))
    except ValueError:
        return f"{body[6:14]} in the ID number is not a date of birth"
    if born < EARLIEST_BIRTH or born > date.today():
        return f"the date of birth {born} in the ID number is out of range"
    if number[17] != resident_id_check_digit(body):
        return "the check digit is wrong (GB 11643): the number has a typo"
    return None if is_valid_resident_id(number) else "not a valid resident ID number"


def _target_branch(row: _Row, ctx: Context) -> int:
    """The branch a row names by code or name (开户网点, 所属机构 …), else the batch's."""
    text = row.text("branch")
    if not text:
        return ctx.branch_id
    key = branch_key(text)
    found = ctx.branch_codes.get(key) or ctx.branch_names.get(key)
    if found is not None:
        return found
    why = ctx.outside.get(key)
    row.errors.add(
        "branch",
        why or "no branch has this code or name (write the code, e.g. BJ-HD, or the full name)",
        text,
    )
    return ctx.branch_id


def _formula_like(text: str) -> bool:
    return text.startswith(_FORMULA_START)


@dataclass(frozen=True)
class Context:
    """What validation of one batch needs to know (loaded once)."""

    batch_id: int
    branch_id: int
    branch_codes: Mapping[str, int]
    """Codes of the branches rows may name: the batch's branch and its sub-branches in
    the uploader's scope."""
    staff: StaffDirectory = field(default_factory=StaffDirectory)
    """Relationship managers by name, employee number or username (the kernel's)."""
    products: Mapping[str, tuple[int, str]] = field(default_factory=dict)
    """Products by code: (id, currency)."""
    today: date = field(default_factory=date.today)
    branch_names: Mapping[str, int] = field(default_factory=dict)
    """The same branches by their names (北京海淀支行; normalised, see :func:`branch_key`)."""
    outside: Mapping[str, str] = field(default_factory=dict)
    """Codes and names of branches the rows may not name (outside the uploader's scope
    or not under the import's branch) -> why, so the error says which."""
    unknown_manager_refused: frozenset[int] = frozenset()
    """Branches whose settings refuse a row with an unknown manager (else: unassigned)."""


def branch_key(text: str) -> str:
    """Branch codes and names compared without case, spaces and full-width forms."""
    return "".join(unicodedata.normalize("NFKC", text).split()).upper()


CUSTOMER_COLUMNS = (
    "branch_id", "batch", "row_no", "state", "errors", "target_branch_id", "kind", "name",
    "name_pinyin", "name_initials", "gender", "birth_date", "id_type", "id_number_encrypted",
    "id_number_hash", "id_number_masked", "phone", "email", "occupation", "employer",
    "industry", "education", "income_band", "marital_status", "company_size",
    "registered_capital", "established_on", "relationship_manager", "province", "city",
    "district", "street", "postcode", "tags", "search_keys",
)  # fmt: skip
HOLDING_COLUMNS = (
    "branch_id", "batch", "row_no", "state", "errors", "target_branch_id", "id_number_hash",
    "id_number_masked", "product", "product_code", "account_no", "balance", "currency",
    "opened_on", "status",
)  # fmt: skip

_TEXT_LIMITS = {
    "name": 200, "occupation": 100, "employer": 200, "industry": 100, "province": 50,
    "city": 50, "district": 50, "street": 200, "address": 300, "email": 254,
}  # fmt: skip


class _Row:
    """Cells of one row by field, with the error list."""

    __slots__ = ("cells", "errors", "index")

    def __init__(self, cells: list[Cell], index: dict[str, int], errors: RowErrors) -> None:
        self.cells = cells
        self.index = index
        self.errors = errors

    def cell(self, field_name: str) -> Cell:
        position = self.index.get(field_name)
        if position is None or position >= len(self.cells):
            return None
        return self.cells[position]

    def text(self, field_name: str) -> str:
        return as_text(self.cell(field_name))

    def free_text(self, field_name: str) -> str | None:
        text = self.text(field_name)
        if not text:
            return None
        if _formula_like(text):
            self.errors.add(
                field_name, "starts with = + - or @ like a spreadsheet formula; remove it", text
            )
            return None
        limit = _TEXT_LIMITS.get(field_name)
        if limit and len(text) > limit:
            self.errors.add(field_name, f"longer than {limit} characters", text)
            return None
        return text

    def label(self, field_name: str, table: Mapping[str, str], what: str) -> str | None:
        text = self.text(field_name)
        if not text:
            return None
        value = table.get(_key(text))
        if value is None:
            self.errors.add(field_name, f"not a known {what}", text)
        return value

    def date(self, field_name: str, today: date) -> date | None:
        try:
            value = parse_date(self.cell(field_name))
        except ValueError as exc:
            self.errors.add(field_name, str(exc), self.text(field_name))
            return None
        if value is not None and value > today:
            self.errors.add(field_name, "must not lie in the future", self.text(field_name))
            return None
        return value

    def amount(self, field_name: str) -> Decimal | None:
        try:
            return parse_amount(self.cell(field_name))
        except ValueError as exc:
            self.errors.add(field_name, str(exc), self.text(field_name))
            return None


_FORCED_TEXT = re.compile(r'^="(.*)"$')


def as_forced_text(text: str) -> str:
    """A number an export forced to stay text in Excel, without the trick: ``'110108…``
    (a leading apostrophe) and ``="110108…"`` (a formula of a constant) are the number.
    Only for ID numbers, phones and accounts, which are never formulas."""
    if text.startswith("'"):
        return text[1:].strip()
    match = _FORCED_TEXT.match(text)
    return match.group(1).strip() if match else text


def _identity_number(row: _Row) -> str | None:
    cell = row.cell("id_number")
    if isinstance(cell, float) and cell >= 1e15:
        row.errors.add(
            "id_number",
            "stored as a number in Excel, which loses the last digits: format the column as"
            " text and enter the numbers again",
            as_text(cell),
        )
        return None
    number = "".join(as_forced_text(as_text(cell)).split()).upper()
    if not number:
        row.errors.add("id_number", "required")
        return None
    return number


def _income(row: _Row) -> str | None:
    cell = row.cell("income_band")
    if (isinstance(cell, int | float) and not isinstance(cell, bool)) or row.text(
        "income_band"
    ).replace(",", "").isdigit():
        try:
            amount = parse_amount(cell) or Decimal(0)
        except ValueError:
            amount = Decimal(0)
        for limit, band in ((100_000, "lt_100k"), (300_000, "100k_300k"),
                            (1_000_000, "300k_1m"), (5_000_000, "1m_5m")):  # fmt: skip
            if amount < limit:
                return band
        return "gt_5m"
    return row.label("income_band", INCOME, "income band (10万以下, 10-30万, 30-100万 ...)")


def _manager(row: _Row, ctx: Context, branch_id: int) -> int | None:
    """The user id of the row's relationship manager, written as a name, an employee
    number or a username; an unknown one is a warning or an error per branch setting."""
    text = row.text("relationship_manager")
    if not text:
        return None
    match = ctx.staff.resolve(text, branch_id)
    if match.outcome is Outcome.found:
        return match.user_id
    if match.outcome is Outcome.unknown and branch_id not in ctx.unknown_manager_refused:
        row.errors.warn(
            "relationship_manager",
            f"{match.message}: imported without a relationship manager",
            text,
        )
    else:
        row.errors.add("relationship_manager", match.message, text)
    return None


def _address(row: _Row) -> tuple[str | None, str | None, str | None, str | None]:
    """Province, city, district and street: from their columns, and from a one-column
    address (联系地址 …) split with the national division list."""
    province = row.free_text("province")
    city = row.free_text("city")
    district = row.free_text("district")
    street = row.free_text("street")
    whole = row.free_text("address")
    if whole is None:
        return province, city, district, street
    try:
        parts = split_address(whole)
    except AddressError as exc:
        if province or city or district:
            # The old convention: 省/市/区 columns and the rest in 地址.
            return province, city, district, street or whole
        row.errors.add("address", str(exc), whole)
        return None, None, None, None
    for given, found, field_name in (
        (province, parts.province, "province"),
        (city, parts.city, "city"),
        (district, parts.district, "district"),
    ):
        if given and found and not _same_place(given, found):
            row.errors.add(field_name, f"differs from the address, which says {found}", given)
    return (
        province or parts.province,
        city or parts.city,
        district or parts.district or None,
        street or parts.street,
    )


_PLACE_SUFFIX = re.compile(r"(省|市|自治区|特别行政区|地区|自治州|盟|区|县|旗)$")


def _same_place(given: str, found: str) -> bool:
    def key(text: str) -> str:
        return _PLACE_SUFFIX.sub("", branch_key(text))

    return key(given) == key(found) or found.startswith(branch_key(given))


class CustomerValidator:
    columns = CUSTOMER_COLUMNS

    def __init__(self, context: Context, mapping: ColumnMapping) -> None:
        self.context = context
        self.mapping = mapping
        self.index = {f: i for i, f in enumerate(mapping.fields) if f is not None}

    def chunk(self, rows: list[tuple[int, list[Cell]]]) -> list[tuple[Any, ...]]:
        return [self.row(row_no, cells) for row_no, cells in rows]

    def row(self, row_no: int, cells: list[Cell]) -> tuple[Any, ...]:
        ctx = self.context
        errors = RowErrors(self.mapping)
        errors.control_characters(cells)
        row = _Row(cells, self.index, errors)
        name = row.free_text("name")
        if name is None and not errors.items:
            errors.add("name", "required")
        target_branch = _target_branch(row, ctx)
        kind = row.label("kind", KIND, "customer kind (个人 or 企业)")
        id_type = row.label("id_type", ID_TYPE, "ID type (身份证, 护照, 统一社会信用代码)")
        number = _identity_number(row)
        if kind is None and number is not None:
            if id_type == "uscc" or (
                id_type is None and not number[:17].isdigit() and is_valid_uscc(number)
            ):
                kind = "corporate"
            else:
                kind = "individual"
        if id_type is None and number is not None:
            if kind == "corporate":
                id_type = "uscc"
            elif number[:17].isdigit() and len(number) in (15, 18):
                id_type = "resident_id"
            else:
                id_type = "passport"
        born_from_id: date | None = None
        gender_from_id: str | None = None
        id_ok = False
        if kind == "corporate" and id_type not in (None, "uscc"):
            errors.add("id_type", "a corporate customer is identified by its uscc", row.text(
                "id_type") or id_type or "")  # fmt: skip
        elif kind == "individual" and id_type == "uscc":
            errors.add("id_type", "an individual cannot be identified by a uscc", row.text(
                "id_type"))  # fmt: skip
        elif number is not None:
            if id_type == "resident_id":
                problem = resident_id_problem(number)
                if problem:
                    errors.add("id_number", problem, number)
                else:
                    id_ok = True
                    born_from_id, gender_from_id = resident_id_facts(number)
            elif id_type == "uscc":
                if is_valid_uscc(number):
                    id_ok = True
                else:
                    errors.add(
                        "id_number",
                        "not a valid unified social credit code (GB 32100: 18 characters,"
                        " check character)",
                        number,
                    )
            elif PASSPORT.match(number):
                id_ok = True
            else:
                errors.add("id_number", "a passport number is 5 to 17 letters or digits", number)
        gender = row.label("gender", GENDER, "gender (男 or 女)")
        birth_date = row.date("birth_date", ctx.today)
        if kind == "corporate":
            for field_name, value in (("gender", gender), ("birth_date", birth_date)):
                if value is not None:
                    errors.add(field_name, "a corporate customer has no gender or birth date",
                               row.text(field_name))  # fmt: skip
            gender = birth_date = None
        if birth_date is not None and birth_date < EARLIEST_BIRTH:
            errors.add("birth_date", "must lie after 1900-01-01", row.text("birth_date"))
        if born_from_id is not None:
            if birth_date is not None and birth_date != born_from_id:
                errors.add("birth_date", f"differs from the ID number's {born_from_id}",
                           row.text("birth_date"))  # fmt: skip
            if gender is not None and gender != gender_from_id:
                errors.add("gender", "differs from the gender in the ID number", row.text(
                    "gender"))  # fmt: skip
            birth_date, gender = born_from_id, gender_from_id
        phone_text = as_forced_text(row.text("phone"))
        phone = None
        if phone_text:
            phone = normalise_phone(phone_text)
            if phone is None:
                errors.add("phone", "not a mainland mobile (11 digits from 13-19) or landline"
                           " number (010-62345678)", phone_text)  # fmt: skip
        email = row.free_text("email")
        if email is not None and not _EMAIL.match(email):
            errors.add("email", "not an e-mail address", email)
            email = None
        occupation = row.free_text("occupation")
        employer = row.free_text("employer")
        industry = row.free_text("industry")
        education = row.label("education", EDUCATION, "education (小学 ... 博士)")
        income = _income(row)
        marital = row.label("marital_status", MARITAL, "marital status (未婚, 已婚, 离异, 丧偶)")
        size = row.label("company_size", COMPANY_SIZE, "company size (微型, 小型, 中型, 大型)")
        capital = row.amount("registered_capital")
        established = row.date("established_on", ctx.today)
        if kind == "individual":
            corporate_only: tuple[tuple[str, object], ...] = (
                ("company_size", size), ("registered_capital", capital),
                ("established_on", established),
            )  # fmt: skip
            for field_name, given in corporate_only:
                if given is not None:
                    errors.add(field_name, "only corporate customers have this",
                               row.text(field_name))  # fmt: skip
        manager = _manager(row, ctx, target_branch)
        province, city, district, street = _address(row)
        postcode = row.text("postcode") or None
        if postcode is not None and not _POSTCODE.match(postcode):
            errors.add("postcode", "a postcode is 6 digits", postcode)
        if province or city or street or district:
            for field_name, value in (("province", province), ("city", city),
                                      ("street", street)):  # fmt: skip
                if not value and not any(e["field"] == field_name for e in errors.items):
                    errors.add(field_name, "required when an address is given")
        tags: list[str] | None = None
        tag_text = row.text("tags")
        if tag_text:
            tags = sorted({t for t in _TAG_SPLIT.split(tag_text) if t})
            if any(len(t) > 32 or _formula_like(t) for t in tags):
                errors.add("tags", "a tag has at most 32 characters and is no formula", tag_text)
                tags = None
        id_hash = pii.lookup_hash(number) if number is not None and id_ok else None
        valid = not errors.refused
        pinyin = initials = None
        keys: list[str] | None = None
        encrypted = masked_id = None
        if valid and name is not None and number is not None:
            individual = kind == "individual"
            pinyin, initials = names.pinyin_keys(name, individual=individual)
            keys = names.search_keys(name, individual=individual, phone=phone)
            # The employer and address keys of the search (search.text_keys), derived
            # here so that the commit only unnests the staged array.
            places = ((district or "", street),) if street else ()
            keys += search.text_keys(employer, places)
            encrypted = pii.encrypt(number)
            masked_id = pii.mask_id_number(number)
        elif number is not None:
            masked_id = pii.mask_id_number(number)
        return (
            ctx.branch_id, ctx.batch_id, row_no, "valid" if valid else "invalid", errors.json(),
            target_branch, kind, name, pinyin, initials, gender, birth_date, id_type,
            encrypted, id_hash, masked_id, phone, email, occupation, employer, industry,
            education, income, marital, size, capital, established, manager, province, city,
            district, street, postcode, tags, keys,
        )  # fmt: skip


class HoldingValidator:
    columns = HOLDING_COLUMNS

    def __init__(self, context: Context, mapping: ColumnMapping) -> None:
        self.context = context
        self.mapping = mapping
        self.index = {f: i for i, f in enumerate(mapping.fields) if f is not None}

    def chunk(self, rows: list[tuple[int, list[Cell]]]) -> list[tuple[Any, ...]]:
        return [self.row(row_no, cells) for row_no, cells in rows]

    def row(self, row_no: int, cells: list[Cell]) -> tuple[Any, ...]:
        ctx = self.context
        errors = RowErrors(self.mapping)
        errors.control_characters(cells)
        row = _Row(cells, self.index, errors)
        target_branch = _target_branch(row, ctx)
        number = _identity_number(row)
        product_code = row.text("product_code").upper() or None
        product = None
        currency = row.text("currency").upper() or None
        if product_code is None:
            errors.add("product_code", "required")
        else:
            found_product = ctx.products.get(product_code)
            if found_product is None:
                errors.add("product_code", "no product with this code", product_code)
            else:
                product = found_product[0]
                currency = currency or found_product[1]
        if currency is not None and not _CURRENCY.match(currency):
            errors.add("currency", "a currency is 3 letters (CNY, USD ...)", currency)
        account = "".join(as_forced_text(row.text("account_no")).split()).upper() or None
        if account is None:
            errors.add("account_no", "required")
        elif not _ACCOUNT.match(account):
            errors.add("account_no", "an account number is 6 to 32 letters or digits", account)
        balance = row.amount("balance")
        opened_on = row.date("opened_on", ctx.today)
        status = row.label("status", HOLDING_STATUS, "status (正常, 冻结, 销户)") or "active"
        valid = not errors.items
        return (
            ctx.branch_id, ctx.batch_id, row_no, "valid" if valid else "invalid", errors.json(),
            target_branch, pii.lookup_hash(number) if number else None,
            pii.mask_id_number(number) if number else None, product, product_code, account,
            balance if balance is not None else Decimal("0.00"), currency or "CNY", opened_on,
            status,
        )  # fmt: skip
