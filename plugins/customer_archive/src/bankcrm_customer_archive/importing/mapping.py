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
from dataclasses import dataclass, field

from bankcrm.web.problems import FieldError, Problem

_HINT = re.compile(r"[(（\[【][^)）\]】]*[)）\]】]\s*$")
_NOISE = re.compile(r"[\W_]+", re.UNICODE)

CUSTOMER_FIELDS: dict[str, tuple[str, ...]] = {
    "kind": ("客户类型", "客户类别", "客户性质", "客户种类", "对公对私", "对公对私标志",
             "对公对私标识", "kind", "customer type", "customer category", "type"),
    "name": ("客户名称", "客户姓名", "姓名", "户名", "客户全称", "名称", "账户名称", "企业名称",
             "公司名称", "name", "customer name", "full name", "account name", "client name"),
    "id_type": ("证件类型", "证件种类", "证件类别", "证件名称", "id type", "document type",
                "certificate type"),
    "id_number": ("证件号码", "证件号", "证件编号", "身份证号", "身份证号码", "身份证",
                  "居民身份证号码", "统一社会信用代码", "信用代码", "id number", "id no",
                  "id", "document number", "document no", "certificate number",
                  "certificate no", "id card", "uscc"),
    "gender": ("性别", "gender", "sex"),
    "birth_date": ("出生日期", "生日", "出生年月日", "出生年月", "birth date", "date of birth",
                   "birthday", "dob"),
    "phone": ("手机号", "手机号码", "手机", "移动电话", "联系手机", "联系电话", "电话",
              "电话号码", "联系方式", "phone", "mobile", "mobile no", "mobile number",
              "phone number", "mobile phone", "telephone", "tel", "contact number"),
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
    "relationship_manager": ("客户经理", "管户经理", "客户经理姓名", "客户经理工号",
                             "客户经理编号", "客户经理用户名", "管户客户经理", "归属客户经理",
                             "主管客户经理", "管户人", "管户员工", "relationship manager", "rm",
                             "rm name", "rm no", "rm id", "account manager", "account officer",
                             "customer manager", "manager"),
    "branch": ("机构", "开户网点", "开户机构", "所属机构", "所属网点", "网点", "机构代码",
               "机构号", "机构编号", "机构名称", "网点号", "网点代码", "网点名称", "开户行",
               "开户支行", "所属支行", "所属分行", "归属机构", "管户机构", "营业网点", "branch",
               "branch code", "branch name", "opening branch", "home branch", "branch no"),
    "province": ("省", "省份", "所在省", "province"),
    "city": ("市", "城市", "地市", "所在市", "city"),
    "district": ("区", "区县", "县区", "所在区县", "district", "county"),
    "address": ("联系地址", "通讯地址", "通信地址", "邮寄地址", "地址", "客户地址", "家庭住址",
                "家庭地址", "居住地址", "现居住地址", "现住址", "住址", "常住地址", "户籍地址",
                "单位地址", "办公地址", "注册地址", "经营地址", "address", "contact address",
                "mailing address", "postal address", "home address", "residential address",
                "registered address", "office address"),
    "street": ("详细地址", "街道地址", "街道", "门牌地址", "street", "street address",
               "address line"),
    "postcode": ("邮编", "邮政编码", "postcode", "zip", "zip code", "postal code"),
    "tags": ("标签", "客户标签", "tags", "tag", "labels"),
}  # fmt: skip
"""The headers each field is recognised under. When a file has two columns of one field
(手机号码 and 联系电话, 通讯地址 and 家庭住址), the one named earlier here is imported and the
other is listed with the columns not imported."""
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
    "district": "区", "address": "地址", "street": "详细地址", "postcode": "邮编", "tags": "标签",
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


def _synonyms(kind: str) -> dict[str, tuple[str, int]]:
    """Normalised header -> (field, rank among the field's names: lower is preferred)."""
    found: dict[str, tuple[str, int]] = {}
    for field_name, names in fields_of(kind).items():
        for rank, name in enumerate((*names, field_name)):
            found.setdefault(normalise_header(name), (field_name, rank))
    return found


@dataclass(frozen=True)
class ColumnMapping:
    """The field of each column (``None``: not imported) and what could not be mapped."""

    fields: tuple[str | None, ...]
    headers: tuple[str, ...]
    unknown: tuple[str, ...]
    """Every column that is not imported: not recognised, or a second column of a field
    (listed in the preview and the report, never dropped silently)."""
    superseded: Mapping[str, str] = field(default_factory=dict)
    """Of ``unknown``, the columns not imported because another column provides their
    field: header -> the header imported instead."""

    def index_of(self, field_name: str) -> int | None:
        try:
            return self.fields.index(field_name)
        except ValueError:
            return None

    def as_dict(self) -> dict[str, str]:
        return {h: f for h, f in zip(self.headers, self.fields, strict=True) if f is not None}

    def not_imported(self) -> list[dict[str, str]]:
        """Each column not imported, and why (for the preview and the report)."""
        return [
            {"column": header, "reason": "superseded", "instead": self.superseded[header]}
            if header in self.superseded
            else {"column": header, "reason": "not_recognised", "instead": ""}
            for header in self.unknown
        ]

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
    fields: list[str | None] = []
    ranks: list[int] = []
    explicit_positions: set[int] = set()
    for header in headers:
        key = normalise_header(header)
        target: str | None
        rank = -1
        if key in overrides:
            target = overrides[key] or None
            if target is not None and target not in known:
                errors.append(
                    FieldError(f"body.mapping.{header}", f"no import field named {target!r}")
                )
                target = None
            explicit_positions.add(len(fields))
        else:
            target, rank = (
                synonyms.get(key)
                or synonyms.get(normalise_header(_without_hint(header)))
                or (None, -1)
            )
        fields.append(target)
        ranks.append(rank)
    superseded: dict[str, str] = {}
    chosen: dict[str, int] = {}
    for position, target in enumerate(fields):
        if target is None:
            continue
        earlier = chosen.get(target)
        if earlier is None:
            chosen[target] = position
            continue
        if position in explicit_positions and earlier in explicit_positions:
            errors.append(
                FieldError(
                    f"file.header[{position + 1}]",
                    f"column {headers[position]!r} maps to {target}, which column "
                    f"{headers[earlier]!r} already provides",
                )
            )
            fields[position] = None
            continue
        # Two columns of one field by their headers (手机号码 and 联系电话): the mapped
        # column wins, else the header named earlier in the field's list.
        keep_new = earlier not in explicit_positions and (
            position in explicit_positions or ranks[position] < ranks[earlier]
        )
        loser, winner = (earlier, position) if keep_new else (position, earlier)
        fields[loser] = None
        chosen[target] = winner
        superseded[headers[loser]] = headers[winner]
    for loser_header in list(superseded):
        instead = superseded[loser_header]
        while instead in superseded:  # the winner lost later to a third column
            instead = superseded[instead]
        superseded[loser_header] = instead
    unknown = [h for h, f in zip(headers, fields, strict=True) if f is None and h.strip()]
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
    return ColumnMapping(tuple(fields), tuple(headers), tuple(unknown), superseded)
