"""Importing leads from a CSV or xlsx file (线索批量导入): every cell checked, then all rows
written or none.

The file goes through the kernel's checked reader (:mod:`bankcrm.tabular`: encoding,
formulas, zip bombs, size bounds). Headers are recognised in Chinese and English; every
problem names the row (as numbered in the file, the header is row 1) and the column as
the file heads it. A row is checked by the same rules as a lead created through the API,
and written by the same code: the branch's assignment rules choose the owner through the
kernel's engine, the rule score (or the mining plugin's) is computed with its reasons,
and each lead is audited, announced and notified to its owner, as is the import itself.

Rerunning a file creates nothing twice: a row's key is its external id, or the file's
SHA-256 and the row's number when the file has no external ids; keys already imported into
the branch are skipped and reported. Two imports into one branch run one after the other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import msgspec

from bankcrm import audit, db, tabular
from bankcrm.web.problems import FieldError, Problem, invalid
from bankcrm_sales import leads
from bankcrm_sales.common import INTAKE_KEY, branch_for_new
from bankcrm_sales.enumerations import ENUMERATIONS

IMPORT_ENTITY = "sales.lead_import"
INTAKE_CLIENT = "sales.import"
"""The client name under which imported rows' keys are kept with the intake keys."""
MAX_ROWS = 10_000
HEADERS: dict[str, tuple[str, ...]] = {
    "external_id": ("external_id", "external id", "external_ref", "外部编号", "外部id",
                    "线索编号", "来源编号"),
    "prospect_name": ("prospect_name", "name", "prospect", "姓名", "客户姓名", "潜客姓名",
                      "联系人"),
    "customer_id": ("customer_id", "customer", "客户id", "客户编号"),
    "phone": ("phone", "mobile", "电话", "手机", "手机号", "联系电话"),
    "email": ("email", "e-mail", "邮箱", "电子邮箱"),
    "company": ("company", "公司", "单位", "工作单位"),
    "channel": ("channel", "渠道", "来源渠道", "线索来源"),
    "campaign": ("campaign", "活动", "营销活动"),
    "product_interest": ("product_interest", "product", "意向产品", "产品", "产品代码"),
    "need": ("need", "需求", "客户需求", "需求描述"),
    "estimated_amount": ("estimated_amount", "amount", "预计金额", "金额"),
}  # fmt: skip
REQUIRED = ("prospect_name",)
LIMITS = {
    "external_id": 100, "prospect_name": 100, "phone": 32, "email": 200, "company": 200,
    "campaign": 100, "product_interest": 32, "need": 4000,
}  # fmt: skip
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _channels() -> dict[str, str]:
    """A channel cell (its code, or its Chinese or English name) -> the code."""
    found: dict[str, str] = {}
    for spec in ENUMERATIONS:
        if spec.name == "sales.channel":
            for code, label in spec.labels.items():
                for text in (code, label.zh, label.en):
                    found[text.strip().lower()] = code
    return found


CHANNELS = _channels()


class RowError(msgspec.Struct):
    row: int
    """The row's number in the file (the header is row 1)."""
    column: str
    """The column as the file heads it."""
    message: str


class ImportReport(msgspec.Struct):
    file_name: str
    file_sha256: str
    branch_id: int
    rows: int
    created: int
    already_imported: int
    """Rows whose key an earlier import of this branch already brought in (skipped)."""
    committed: bool
    lead_ids: list[int]
    errors: list[RowError]
    unknown_columns: list[str]
    """Headers that named no field (ignored)."""


@dataclass
class _Row:
    line: int
    values: dict[str, str]
    key: str = ""
    data: leads.LeadIn | None = None
    checked: tuple[dict[str, Any], str] | None = None
    errors: list[tuple[str, str]] = field(default_factory=list)


def _field_for(header: str) -> str | None:
    wanted = header.strip().lower()
    for name, synonyms in HEADERS.items():
        if wanted in synonyms:
            return name
    return None


def _title(name: str) -> str:
    return f"{name} ({HEADERS[name][3] if len(HEADERS[name]) > 3 else HEADERS[name][0]})"


def _cells(row: _Row) -> None:
    """Cell by cell: lengths, numbers, the e-mail's form, the channel."""
    values = row.values
    for name, limit in LIMITS.items():
        if len(values.get(name, "")) > limit:
            row.errors.append((name, f"at most {limit} characters"))
    customer_id: int | None = None
    if values.get("customer_id"):
        try:
            customer_id = int(values["customer_id"])
            if not 1 <= customer_id <= 2**31 - 1:
                raise ValueError
        except ValueError:
            row.errors.append(("customer_id", f"{values['customer_id']!r} is not a customer id"))
    email = values.get("email", "")
    if email and not EMAIL.match(email):
        row.errors.append(("email", f"{email!r} is not an e-mail address"))
    amount: Decimal | None = None
    if values.get("estimated_amount"):
        text = values["estimated_amount"].replace(",", "").replace("，", "")
        try:
            amount = Decimal(text)
            if not amount.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            row.errors.append(
                ("estimated_amount", f"{values['estimated_amount']!r} is not an amount")
            )
    channel = "import"
    if values.get("channel"):
        found = CHANNELS.get(values["channel"].lower())
        if found is None:
            known = ", ".join(sorted(set(CHANNELS.values())))
            row.errors.append(
                ("channel", f"{values['channel']!r} is not a channel; one of {known}")
            )
        else:
            channel = found
    if row.errors:
        return
    row.data = leads.LeadIn(
        channel=channel,  # type: ignore[arg-type]
        prospect_name=values.get("prospect_name") or None,
        customer_id=customer_id,
        phone=values.get("phone") or None,
        email=email or None,
        company=values.get("company", ""),
        campaign=values.get("campaign", ""),
        product_interest=values.get("product_interest", ""),
        need=values.get("need", ""),
        estimated_amount=amount,
        external_ref=row.key[:100],
    )


async def _check(rows: list[_Row], branch_id: int, header_of: dict[str, str]) -> list[RowError]:
    seen: dict[str, int] = {}
    for row in rows:
        _cells(row)
        if row.key in seen:
            row.errors.append(("external_id", f"{row.key!r} is also on row {seen[row.key]}"))
        else:
            seen[row.key] = row.line
        if row.data is None:
            continue
        try:  # the API's own rules: name or customer, a way to reach them, product, amount
            row.checked = await leads.checked_values(row.data, branch_id, "")
        except Problem as exc:
            for error in exc.errors or [FieldError("", exc.detail)]:
                name = error.field
                row.errors.append((name, error.message))
    errors = [
        RowError(row.line, header_of.get(name, name), message)
        for row in rows
        for name, message in row.errors
    ]
    errors.sort(key=lambda e: (e.row, e.column))
    return errors


def _read(path: Path, file_name: str, sha256: str) -> tuple[list[_Row], dict[str, str], list[str]]:
    records = tabular.read_records(path, file_name, _field_for, REQUIRED, _title)
    rows = []
    for line, values in records.rows:
        if not any(values.values()):
            continue  # a blank line
        external = values.get("external_id", "")
        rows.append(_Row(line, values, external or f"file:{sha256[:16]}:{line}"))
    if len(rows) > MAX_ROWS:
        raise tabular.refuse(f"at most {MAX_ROWS:,} rows per file: split it", 413, "too_large")
    return rows, records.header_of, records.unknown


async def import_leads(
    path: Path, file_name: str, sha256: str, branch_text: str | None, *, commit: bool
) -> ImportReport:
    """Check every row; with ``commit``, write them all in one transaction or none (422
    naming each bad cell by row and column)."""
    branch_id: int | None = None
    if branch_text:
        try:
            branch_id = int(branch_text)
        except ValueError:
            raise invalid("body.branch_id", "must be a branch id") from None
    branch = branch_for_new(branch_id)
    rows, header_of, unknown = _read(path, file_name, sha256)
    report = ImportReport(file_name, sha256, branch, len(rows), 0, 0, False, [], [], unknown)
    async with db.transaction():
        # Imports into one branch run one after the other, so a rerun racing the first run
        # sees its keys.
        await db.fetch("SELECT pg_advisory_xact_lock(hashtext('sales.import'), $1::int)", branch)
        known = {
            r["key"]
            for r in await db.fetch(
                f"SELECT key FROM {INTAKE_KEY} WHERE client = $1 AND key = ANY($2::text[])",
                INTAKE_CLIENT,
                sorted({f"{branch}:{row.key}" for row in rows}),
            )
        }
        fresh = [row for row in rows if f"{branch}:{row.key}" not in known]
        report.already_imported = len(rows) - len(fresh)
        report.errors = await _check(fresh, branch, header_of)
        if report.errors:
            if not commit:
                return report
            first = report.errors[0]
            raise Problem(
                422,
                f"{len(report.errors)} problem(s), nothing was imported; first: row"
                f" {first.row}, column {first.column}: {first.message}",
                # The rows are in the uploaded file: the field is its part, the message
                # says where inside it.
                [
                    FieldError("body.file", f"row {e.row}, column {e.column}: {e.message}")
                    for e in report.errors
                ],
                "import_refused",
            )
        if not commit:
            return report
        for row in fresh:
            assert row.data is not None
            assert row.checked is not None
            values, category = row.checked
            try:
                created = await leads.insert_lead(values, category, row.data)
            except Problem as exc:  # e.g. the rules chose someone without a login
                raise Problem(
                    exc.status, f"row {row.line}: {exc.detail}; nothing was imported",
                    exc.errors, exc.code or "invalid",
                ) from exc  # fmt: skip
            report.lead_ids.append(created["id"])
            await db.fetch(
                f"INSERT INTO {INTAKE_KEY} (branch_id, client, key, request_hash, lead,"
                " created_at) VALUES ($1, $2, $3, $4, $5, now())",
                branch, INTAKE_CLIENT, f"{branch}:{row.key}", sha256, created["id"],
            )  # fmt: skip
        report.created = len(report.lead_ids)
        report.committed = True
        await audit.record(
            audit.Action.CREATE, IMPORT_ENTITY, sha256, branch_id=branch,
            after={"file": file_name, "rows": report.rows, "created": report.created,
                   "already_imported": report.already_imported},
        )  # fmt: skip
    return report
