"""Which column of a file holds which field: Chinese and English headers, synonyms.

Headers are compared after normalisation (full-width to half-width, lower case, without
spaces, punctuation and a trailing hint in brackets such as ``客户经理（用户名）``), so
``证件号码``, ``证件 号码``, ``ID Number`` and ``id_number`` all name the same field. A
saved mapping of a source, or one given with the upload, takes precedence per header.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bankcrm.web.problems import FieldError, Problem

_HINT = re.compile(r"[(（\[【][^)）\]】]*[)）\]】]\s*$")
_NOISE = re.compile(r"[\W_]+", re.UNICODE)

CUSTOMER_FIELDS: dict[str, tuple[str, ...]] = {
    "kind": ("客户类型", "客户类别", "客户性质", "对公对私", "kind", "customer type", "type"),
    "name": ("客户名称", "客户姓名", "姓名", "名称", "户名", "企业名称", "公司名称", "name",
             "customer name", "full name"),
    "id_type": ("证件类型", "证件种类", "id type", "document type"),
    "id_number": ("证件号码", "证件号", "身份证号", "身份证号码", "居民身份证号码",
                  "统一社会信用代码", "信用代码", "id number", "id no", "id", "document number",
                  "id card", "uscc"),
    "gender": ("性别", "gender", "sex"),
    "birth_date": ("出生日期", "生日", "出生年月日", "birth date", "date of birth", "birthday",
                   "dob"),
    "phone": ("手机号", "手机号码", "手机", "联系电话", "电话", "电话号码", "移动电话", "phone",
              "mobile", "phone number", "mobile phone", "telephone", "tel"),
    "email": ("电子邮箱", "邮箱", "电子邮件", "email", "e-mail", "mail"),
    "occupation": ("职业", "occupation", "job"),
    "employer": ("工作单位", "单位", "单位名称", "employer", "company", "work unit"),
    "industry": ("行业", "所属行业", "行业类别", "industry"),
    "education": ("学历", "最高学历", "教育程度", "education"),
    "income_band": ("收入", "年收入", "收入区间", "年收入区间", "income", "annual income",
                    "income band"),
    "marital_status": ("婚姻状况", "婚姻", "marital status", "marriage"),
    "company_size": ("企业规模", "规模", "company size", "enterprise size"),
    "registered_capital": ("注册资本", "registered capital"),
    "established_on": ("成立日期", "注册日期", "established on", "date of establishment",
                       "established"),
    "relationship_manager": ("客户经理", "管户经理", "客户经理用户名", "relationship manager",
                             "rm", "account manager", "manager"),
    "branch": ("机构", "机构代码", "机构号", "所属机构", "网点", "branch", "branch code"),
    "province": ("省", "省份", "province"),
    "city": ("市", "城市", "city"),
    "district": ("区", "区县", "县区", "district", "county"),
    "street": ("详细地址", "地址", "街道地址", "street", "address", "street address"),
    "postcode": ("邮编", "邮政编码", "postcode", "zip", "zip code", "postal code"),
    "tags": ("标签", "客户标签", "tags", "tag", "labels"),
}  # fmt: skip
CUSTOMER_REQUIRED = ("name", "id_number")

HOLDING_FIELDS: dict[str, tuple[str, ...]] = {
    "id_number": CUSTOMER_FIELDS["id_number"],
    "product_code": ("产品代码", "产品编号", "产品号", "product code", "product"),
    "account_no": ("账号", "账户", "卡号", "账号卡号", "账户号码", "account no", "account number",
                   "account", "card number"),
    "balance": ("余额", "账户余额", "balance", "amount"),
    "currency": ("币种", "货币", "currency"),
    "opened_on": ("开户日期", "开户日", "opened on", "open date", "opening date"),
    "status": ("状态", "账户状态", "status"),
    "branch": CUSTOMER_FIELDS["branch"],
}  # fmt: skip
HOLDING_REQUIRED = ("id_number", "product_code", "account_no")

FIELD_LABELS = {
    "kind": "客户类型", "name": "客户名称", "id_type": "证件类型", "id_number": "证件号码",
    "gender": "性别", "birth_date": "出生日期", "phone": "手机号", "email": "电子邮箱",
    "occupation": "职业", "employer": "工作单位", "industry": "行业", "education": "学历",
    "income_band": "收入", "marital_status": "婚姻状况", "company_size": "企业规模",
    "registered_capital": "注册资本", "established_on": "成立日期",
    "relationship_manager": "客户经理", "branch": "机构", "province": "省", "city": "市",
    "district": "区", "street": "详细地址", "postcode": "邮编", "tags": "标签",
    "product_code": "产品代码", "account_no": "账号", "balance": "余额", "currency": "币种",
    "opened_on": "开户日期", "status": "状态",
}  # fmt: skip


def normalise_header(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).strip().lower()
    return _NOISE.sub("", folded)


def _without_hint(text: str) -> str:
    return _HINT.sub("", unicodedata.normalize("NFKC", text).strip())


def fields_of(kind: str) -> dict[str, tuple[str, ...]]:
    return CUSTOMER_FIELDS if kind == "customer" else HOLDING_FIELDS


def required_of(kind: str) -> tuple[str, ...]:
    return CUSTOMER_REQUIRED if kind == "customer" else HOLDING_REQUIRED


def _synonyms(kind: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for field_name, names in fields_of(kind).items():
        for name in (field_name, *names):
            found.setdefault(normalise_header(name), field_name)
    return found


@dataclass(frozen=True)
class ColumnMapping:
    """The field of each column (``None``: not imported) and what could not be mapped."""

    fields: tuple[str | None, ...]
    headers: tuple[str, ...]
    unknown: tuple[str, ...]

    def index_of(self, field_name: str) -> int | None:
        try:
            return self.fields.index(field_name)
        except ValueError:
            return None

    def as_dict(self) -> dict[str, str]:
        return {h: f for h, f in zip(self.headers, self.fields, strict=True) if f is not None}

    def header_of(self, field_name: str) -> str:
        index = self.index_of(field_name)
        return self.headers[index] if index is not None else FIELD_LABELS.get(field_name, "")


def resolve(
    kind: str,
    headers: Sequence[str],
    saved: Mapping[str, str] | None = None,
    explicit: Mapping[str, str] | None = None,
) -> ColumnMapping:
    """Map ``headers``: the explicit mapping first, then the saved one, then synonyms.

    Raises a 422 problem naming a field mapped twice, a mapping to an unknown field, and
    the required fields no column provides.
    """
    known = fields_of(kind)
    synonyms = _synonyms(kind)
    overrides: dict[str, str] = {}
    for given in (saved or {}), (explicit or {}):
        for header, wanted in given.items():
            overrides[normalise_header(header)] = wanted
    errors: list[FieldError] = []
    target: str | None
    fields: list[str | None] = []
    unknown: list[str] = []
    for position, header in enumerate(headers):
        key = normalise_header(header)
        if key in overrides:
            target = overrides[key] or None
            if target is not None and target not in known:
                errors.append(
                    FieldError(f"body.mapping.{header}", f"no import field named {target!r}")
                )
                target = None
        else:
            target = synonyms.get(key) or synonyms.get(normalise_header(_without_hint(header)))
        if target is not None and target in fields:
            errors.append(
                FieldError(
                    f"file.header[{position + 1}]",
                    f"column {header!r} maps to {target}, which column "
                    f"{headers[fields.index(target)]!r} already provides",
                )
            )
            target = None
        if target is None and header.strip():
            unknown.append(header)
        fields.append(target)
    missing = [f for f in required_of(kind) if f not in fields]
    for field_name in missing:
        errors.append(
            FieldError(
                "file.header",
                f"no column for the required field {field_name} ({FIELD_LABELS[field_name]});"
                " name a column so, or map one explicitly",
            )
        )
    if errors:
        detail = "; ".join(e.message for e in errors)
        raise Problem(422, f"the columns cannot be mapped: {detail}", errors, "mapping")
    return ColumnMapping(tuple(fields), tuple(headers), tuple(unknown))
