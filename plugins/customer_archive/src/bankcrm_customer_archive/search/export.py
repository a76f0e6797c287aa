"""Streamed exports of search results to CSV and Excel.

An export is one read transaction on one pooled connection: a server-side cursor walks
the matching customers newest first, a thousand rows at a time, and each batch is
formatted (in a worker thread, so the event loop stays responsive) and sent before the
next is read; memory does not grow with the number of rows.

- **CSV**: UTF-8 with a byte-order mark (Excel then reads Chinese correctly); every text
  cell starting with ``= + - @`` (or a tab or carriage return) is prefixed with ``'`` so a
  spreadsheet shows it instead of running it as a formula.
- **xlsx**: xlsxwriter in ``constant_memory`` mode (each row is flushed to a temporary
  file as it is written) into a spooled temporary file, streamed once complete; text is
  always written as text, never as a formula. A sheet holds 1,048,575 customers; more go
  on further sheets.
- **Masked** by default, exactly as the API masks. Clear values (ID number, phone, e-mail,
  street) need ``customer_archive.pii.reveal`` and a stated reason, and are audited as
  ``reveal`` besides the export.
- **Audited** in the same transaction as the read, once the last row is read and before
  it commits: one ``export`` row per branch with the filter (searched-for personal data
  masked), the format, the row count and, for up to :data:`LISTED_IDS` rows, the
  customer ids. An export cut short (the client went away) is still audited, with the
  rows read so far and ``complete: false``.
- **Bounded** by the ``export_max_rows`` setting of the actor's home branch (default
  1,000,000): a larger result is refused before anything is sent.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import tempfile
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import IO, Annotated, Any, Literal

import anyio
import asyncpg
import msgspec
from msgspec import Meta, Struct

from bankcrm import audit, branches, business_calendar, db, pii
from bankcrm.context import Scope, bind_scope, require_scope
from bankcrm.web.problems import Problem, invalid
from bankcrm_customer_archive.access import PII_REVEAL
from bankcrm_customer_archive.enumerations import ENUMERATIONS
from bankcrm_customer_archive.manifest import MANIFEST
from bankcrm_customer_archive.search import services as search
from bankcrm_customer_archive.search.services import CustomerFilter
from bankcrm_customer_archive.settings import CustomerArchiveSettings

log = logging.getLogger(__name__)

ExportFormat = Literal["csv", "xlsx"]
ENTITY_CUSTOMER = "customer_archive.customer"
BATCH = 1000
"""Rows read from the cursor per round trip and formatted per thread hop."""
LISTED_IDS = 10_000
"""Exports of up to this many customers list their ids in the audit row."""
XLSX_SHEET_ROWS = 1_048_575
"""Excel's 1,048,576 rows per sheet, less the header."""
SPOOL_BYTES = 8 * 2**20
"""A workbook up to this size stays in memory; a larger one goes to a temporary file."""
READ_CHUNK = 256 * 2**10

MEDIA_TYPES = {
    # The framework adds "; charset=utf-8" to text types itself (twice if written here).
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

COLUMNS = (
    "id", "branch_id", "kind", "name", "name_pinyin", "gender", "id_type", "id_number",
    "phone", "email", "status", "relationship_manager_id", "value_tier", "credit_grade",
    "risk_tolerance", "aum", "tags", "address", "created_at",
)  # fmt: skip
REVEALED_FIELDS = ["id_number", "phone", "email", "address.street"]
TITLES = {
    "zh": (
        "客户编号", "所属机构", "客户类型", "客户名称", "姓名拼音", "性别", "证件类型",
        "证件号码", "手机/电话", "电子邮箱", "状态", "客户经理", "价值分层", "信用等级",
        "风险承受能力", "资产规模（元）", "标签", "地址", "建档时间",
    ),
    "en": (
        "Customer ID", "Branch", "Kind", "Name", "Pinyin", "Gender", "ID type", "ID number",
        "Phone", "E-mail", "Status", "Relationship manager", "Value tier", "Credit grade",
        "Risk tolerance", "AUM (CNY)", "Tags", "Address", "Created",
    ),
}  # fmt: skip
LABELLED = ("kind", "gender", "id_type", "status", "value_tier", "risk_tolerance")
"""Columns whose stored codes are shown by their enumeration labels."""
LOCAL_ZONE = business_calendar.DEFAULT_ZONE


@dataclass(frozen=True)
class ExportTerms:
    """How the file speaks: a clerk's terms (Chinese or English headers, labels for codes,
    branch and manager names, Beijing time) or, for integrations, the stored codes."""

    language: str = "zh"
    codes: bool = False
    branches: Mapping[int, str] = field(default_factory=dict)
    managers: Mapping[int, str] = field(default_factory=dict)
    labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @property
    def titles(self) -> tuple[str, ...]:
        return COLUMNS if self.codes else TITLES[self.language]

    def label(self, column: str, value: str | None) -> str:
        if not value:
            return ""
        return value if self.codes else self.labels.get(column, {}).get(value, value)


CODES = ExportTerms(codes=True)


async def export_terms(language: str, codes: bool) -> ExportTerms:
    """The names an export in ``language`` shows, read once before the rows stream."""
    if codes:
        return ExportTerms(language, True)
    tree = await branches.snapshot()
    branch_names = {
        n.id: f"{n.code} {(n.name_en or n.name) if language == 'en' else n.name}"
        for n in tree.nodes.values()
    }
    # Staff users by employee name where one is on record, else by username.
    managers = {
        r["id"]: r["name"]
        for r in await db.fetch(
            "SELECT u.id, coalesce(e.name, u.username) AS name FROM piccolo_user u"
            " LEFT JOIN bankcrm_employee e ON e.user_id = u.id"
        )
    }
    by_field = {f: e for e in ENUMERATIONS for f in e.fields}
    labels = {
        column: {
            v: (lb.en if language == "en" else lb.zh) for v, lb in by_field[column].labels.items()
        }
        for column in LABELLED
        if column in by_field
    }
    return ExportTerms(language, False, branch_names, managers, labels)


class ExportIn(Struct, forbid_unknown_fields=True, kw_only=True):
    """``POST /customers/export``: a filter (or a saved search / segment) and a format."""

    filter: CustomerFilter = msgspec.field(default_factory=CustomerFilter)
    saved_search_id: Annotated[int, Meta(ge=1, le=2**31 - 1)] | None = None
    """Export this saved search or segment (evaluated now); combined with ``filter``."""
    format: ExportFormat = "csv"
    limit: Annotated[int, Meta(ge=1, le=10_000_000)] | None = None
    """Only the newest ``limit`` customers; without it, all (up to ``export_max_rows``)."""
    reveal: bool = False
    """Personal data in clear (needs ``customer_archive.pii.reveal`` and ``reason``)."""
    reason: Annotated[str, Meta(max_length=500)] = ""
    language: Literal["zh", "en"] = "zh"
    """Headers, labels of codes and branch names in this language."""
    codes: bool = False
    """For integrations: the stored field names and codes, ids and UTC times instead."""


# --- cells ----------------------------------------------------------------------------------

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """A text cell a spreadsheet will show rather than evaluate."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _mask_street(value: str) -> str:
    return value[:3] + "****" if len(value) > 3 else "****"


def _mask_email(value: str | None) -> str | None:
    if not value:
        return value
    local, _, domain = value.partition("@")
    return f"{local[:1]}***@{domain}"


def _address(parts: Sequence[str] | None, reveal: bool) -> str:
    if not parts:
        return ""
    province, city, district, street = parts
    return f"{province}{city}{district}{street if reveal else _mask_street(street)}"


def row_values(row: asyncpg.Record, reveal: bool, terms: ExportTerms = CODES) -> list[Any]:
    """One customer as export cells, in :data:`COLUMNS` order (masked unless ``reveal``),
    in the file's ``terms``."""
    if reveal:
        id_number = pii.decrypt(row["id_number_encrypted"])
        phone, email = row["phone"], row["email"]
    else:
        id_number = row["id_number_masked"]
        phone, email = pii.mask(row["phone"], 3, 4), _mask_email(row["email"])
    if terms.codes:
        return [
            row["id"], row["branch_id"], row["kind"], row["name"], row["name_pinyin"],
            row["gender"] or "", row["id_type"], id_number, phone or "", email or "",
            row["status"], row["relationship_manager"] or "", row["value_tier"] or "",
            row["credit_grade"] or "", row["risk_tolerance"] or "",
            search.aum_of(row["aum_cents"]), "|".join(row["tags"]),
            _address(row["address"], reveal), row["created_at"].isoformat(),
        ]  # fmt: skip
    manager = row["relationship_manager"]
    return [
        row["id"], terms.branches.get(row["branch_id"], str(row["branch_id"])),
        terms.label("kind", row["kind"]), row["name"], row["name_pinyin"],
        terms.label("gender", row["gender"]), terms.label("id_type", row["id_type"]),
        id_number, phone or "", email or "", terms.label("status", row["status"]),
        terms.managers.get(manager, str(manager)) if manager else "",
        terms.label("value_tier", row["value_tier"]), row["credit_grade"] or "",
        terms.label("risk_tolerance", row["risk_tolerance"]),
        search.aum_of(row["aum_cents"]), "、".join(row["tags"]),
        _address(row["address"], reveal),
        row["created_at"].astimezone(LOCAL_ZONE).strftime("%Y-%m-%d %H:%M:%S"),
    ]  # fmt: skip


# --- writers --------------------------------------------------------------------------------


class CsvWriter:
    def __init__(self, terms: ExportTerms = CODES) -> None:
        self.terms = terms
        self._buffer = io.StringIO()
        self._csv = csv.writer(self._buffer, lineterminator="\r\n")

    def _take(self) -> bytes:
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text.encode("utf-8")

    def header(self) -> bytes:
        self._csv.writerow(self.terms.titles)
        return codecs.BOM_UTF8 + self._take()

    def rows(self, rows: Sequence[asyncpg.Record], reveal: bool) -> bytes:
        for row in rows:
            self._csv.writerow([
                neutralise(v) if isinstance(v, str) else v
                for v in row_values(row, reveal, self.terms)
            ])  # fmt: skip
        return self._take()

    def finish(self) -> IO[bytes] | None:
        return None

    def close(self) -> None:
        self._buffer.close()


class XlsxWriter:
    def __init__(self, terms: ExportTerms = CODES) -> None:
        import xlsxwriter  # only exports to Excel need it

        self.terms = terms
        self.file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
        self._workbook = xlsxwriter.Workbook(
            self.file, {"constant_memory": True, "strings_to_formulas": False}
        )
        self._sheet: Any = None
        self._sheets = 0
        self._row = 0

    def _next_sheet(self) -> None:
        self._sheets += 1
        base = "customers" if self.terms.codes or self.terms.language == "en" else "客户"
        name = base if self._sheets == 1 else f"{base} {self._sheets}"
        self._sheet = self._workbook.add_worksheet(name)
        for column, title in enumerate(self.terms.titles):
            self._sheet.write_string(0, column, title)
        self._row = 0

    def header(self) -> bytes:
        self._next_sheet()
        return b""

    def rows(self, rows: Sequence[asyncpg.Record], reveal: bool) -> bytes:
        for row in rows:
            if self._row == XLSX_SHEET_ROWS:
                self._next_sheet()
            self._row += 1
            for column, value in enumerate(row_values(row, reveal, self.terms)):
                if isinstance(value, str):
                    if value:
                        self._sheet.write_string(self._row, column, value)
                elif isinstance(value, int):
                    self._sheet.write_number(self._row, column, value)
                else:  # AUM: exact as text would not sum; a float holds fen exactly to 10^13
                    self._sheet.write_number(self._row, column, float(value))
        return b""

    def finish(self) -> IO[bytes]:
        self._workbook.close()
        self.file.seek(0)
        return self.file

    def close(self) -> None:
        self.file.close()


def _writer(fmt: ExportFormat, terms: ExportTerms) -> CsvWriter | XlsxWriter:
    return XlsxWriter(terms) if fmt == "xlsx" else CsvWriter(terms)


# --- plan -----------------------------------------------------------------------------------


@dataclass
class ExportPlan:
    sql: str
    args: list[Any]
    format: ExportFormat
    reveal_reason: str | None
    filters: dict[str, Any]
    scope: Scope
    saved_search_id: int | None = None
    matching: int = 0
    terms: ExportTerms = field(default_factory=ExportTerms)

    @property
    def reveal(self) -> bool:
        return self.reveal_reason is not None

    @property
    def filename(self) -> str:
        return f"customers-{date.today():%Y%m%d}.{self.format}"

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.format]


@dataclass
class _Tally:
    per_branch: dict[int, int] = field(default_factory=dict)
    ids: dict[int, list[int]] | None = field(default_factory=dict)
    rows: int = 0

    def add(self, rows: Sequence[asyncpg.Record]) -> None:
        for row in rows:
            branch_id = row["branch_id"]
            self.per_branch[branch_id] = self.per_branch.get(branch_id, 0) + 1
            if self.ids is not None:
                self.ids.setdefault(branch_id, []).append(row["id"])
        self.rows += len(rows)
        if self.rows > LISTED_IDS:
            self.ids = None


def _export_columns(reveal: bool) -> str:
    clear = "c.id_number_encrypted, " if reveal else ""
    return f"""c.id, c.branch_id, c.kind, c.name, c.name_pinyin, c.gender, c.id_type,
  c.id_number_masked, {clear}c.phone, c.email, c.status, c.relationship_manager, c.value_tier,
  c.credit_grade, c.risk_tolerance, c.aum_cents, c.created_at,
  ARRAY(SELECT t.name FROM {search.CUSTOMER_TAG} ct JOIN {search.TAG} t ON t.id = ct.tag
        WHERE ct.customer = c.id ORDER BY t.name) AS tags,
  (SELECT ARRAY[a.province, a.city, a.district, a.street] FROM {search.ADDRESS} a
   WHERE a.customer = c.id ORDER BY a.is_primary DESC, a.id LIMIT 1) AS address"""


async def max_rows(scope: Scope) -> int:
    if scope.home_branch_id is None:
        return CustomerArchiveSettings().export_max_rows
    settings = await branches.plugin_settings(
        MANIFEST.name, scope.home_branch_id, CustomerArchiveSettings
    )
    return settings.export_max_rows


async def plan_export(
    criteria: CustomerFilter,
    fmt: ExportFormat,
    *,
    limit: int | None = None,
    reveal: bool = False,
    reason: str = "",
    saved_search_id: int | None = None,
    prefix: str = "query",
    language: str = "zh",
    codes: bool = False,
) -> ExportPlan:
    """Check the request and count what it would export (before anything is sent, so a
    problem is an ordinary 4xx answer)."""
    scope = require_scope()
    search.require_valid(criteria, prefix if prefix != "body" else "body.filter")
    reveal_reason: str | None = None
    if reveal:
        if not scope.has(PII_REVEAL):
            raise Problem(403, f"exporting personal data in clear needs {PII_REVEAL}",
                          code="forbidden")  # fmt: skip
        if len(reason.strip()) < 2:
            raise invalid(f"{prefix}.reason", "state why you need the clear values")
        reveal_reason = reason.strip()
    if saved_search_id is not None:
        await search.get_saved_search(saved_search_id)
        criteria = msgspec.structs.replace(criteria, segment_id=saved_search_id)
    bound = await max_rows(scope)
    query = search.FilterQuery()
    filter_prefix = "body.filter" if prefix == "body" else prefix
    matchable = await search.add_filter_conditions(criteria, query, prefix=filter_prefix)
    where = " AND ".join(query.conditions) if matchable else "false"
    wanted = min(limit, bound) if limit is not None else bound
    matching: int = await db.fetchval(
        f"SELECT count(*) FROM (SELECT 1 FROM {search.CUSTOMER} c WHERE {where}"
        f" LIMIT {query.arg(bound + 1)}) m",
        *query.args,
    )
    query.args.pop()
    if limit is None and matching > bound:
        raise Problem(
            422,
            f"more than {bound:,} customers match, the most one export may hold:"
            " narrow the filter (or give a limit)",
            code="too_many_rows",
        )
    sql = (
        f"SELECT {_export_columns(reveal_reason is not None)} FROM {search.CUSTOMER} c"
        f" WHERE {where} ORDER BY c.id DESC LIMIT {query.arg(wanted)}"
    )
    return ExportPlan(
        sql=sql, args=query.args, format=fmt, reveal_reason=reveal_reason,
        filters=search.audited_filter(criteria), scope=scope,
        saved_search_id=saved_search_id, matching=min(matching, wanted),
        terms=await export_terms(language, codes),
    )  # fmt: skip


# --- the stream -----------------------------------------------------------------------------


async def _audit(connection: asyncpg.Connection, plan: ExportPlan, tally: _Tally,
                 complete: bool) -> None:  # fmt: skip
    per_branch = tally.per_branch or {}
    home = plan.scope.home_branch_id
    targets: list[int | None] = list(sorted(per_branch)) or [
        home if home in plan.scope.branch_ids else None
    ]
    append = "SELECT bankcrm_audit_append($1, $2, $3, $4, NULL, $5::jsonb, $6, $7)"
    for branch_id in targets:
        after: dict[str, Any] = {
            "filters": plan.filters, "format": plan.format, "masked": not plan.reveal,
            "rows": per_branch.get(branch_id, 0) if branch_id is not None else 0,
            "total_rows": tally.rows, "complete": complete,
        }  # fmt: skip
        if plan.saved_search_id is not None:
            after["saved_search_id"] = plan.saved_search_id
        if tally.ids is not None and branch_id is not None:
            after["customer_ids"] = tally.ids.get(branch_id, [])
        await connection.fetchval(
            append, branch_id, audit.Action.EXPORT, ENTITY_CUSTOMER, "export",
            db.jsonb(after), "", plan.scope.request_id,
        )  # fmt: skip
        if plan.reveal_reason is not None:
            await connection.fetchval(
                append, branch_id, audit.Action.REVEAL, ENTITY_CUSTOMER, "export",
                db.jsonb({"fields": REVEALED_FIELDS, "export": plan.format,
                          "rows": after["rows"], "complete": complete}),
                plan.reveal_reason, plan.scope.request_id,
            )  # fmt: skip


async def _audit_elsewhere(plan: ExportPlan, tally: _Tally) -> None:
    """The read's connection failed: record the cut-short export on another one."""
    with bind_scope(plan.scope):
        async with db.transaction() as transaction:
            await _audit(transaction.connection, plan, tally, complete=False)


async def stream_export(plan: ExportPlan) -> AsyncGenerator[bytes, None]:
    """The export file, chunk by chunk (see the module doc). Close it (``aclose``) when the
    response ends early: the audit of a cut-short export is written then."""
    writer = _writer(plan.format, plan.terms)
    tally = _Tally()
    committed = False
    async with db.connection() as connection:
        transaction = connection.transaction()
        try:
            await transaction.start()
            cursor = await connection.cursor(plan.sql, *plan.args)
            yield await anyio.to_thread.run_sync(writer.header)
            while True:
                rows = await cursor.fetch(BATCH)
                if not rows:
                    break
                tally.add(rows)
                chunk = await anyio.to_thread.run_sync(writer.rows, rows, plan.reveal)
                if chunk:
                    yield chunk
            await _audit(connection, plan, tally, complete=True)
            await transaction.commit()
            committed = True
            finished = await anyio.to_thread.run_sync(writer.finish)
            if finished is not None:
                while chunk := await anyio.to_thread.run_sync(finished.read, READ_CHUNK):
                    yield chunk
        finally:
            with anyio.CancelScope(shield=True):
                if not committed:
                    await _record_cut_short(connection, transaction, plan, tally)
                writer.close()


async def _record_cut_short(
    connection: asyncpg.Connection,
    transaction: Any,
    plan: ExportPlan,
    tally: _Tally,
) -> None:
    try:
        await _audit(connection, plan, tally, complete=False)
        await transaction.commit()
        return
    except Exception:
        log.warning("export audit on the read connection failed; retrying", exc_info=True)
    connection.terminate()
    try:
        await _audit_elsewhere(plan, tally)
    except Exception:
        log.exception("a cut-short export could not be audited", extra={"rows": tally.rows})
