"""A report run as a file: CSV and Excel streamed, a print-ready PDF (打印).

The file is made from the run kept in the inbox, so it holds exactly what the run
computed under its runner's scope; nobody exports a run they cannot see (404).

- **Masked as the archive's exports are**: a source's personal dimensions were masked
  inside its query, so no file ever holds them in clear (the columns say which); every
  CSV text cell starting with ``= + - @`` (or a tab or carriage return) is prefixed with
  ``'`` and Excel cells are written as text, never as formulas.
- **Audited** before the first byte is sent, in its own transaction: an ``export`` row
  of ``reporting.report_run`` with the format, the language, the row count, the columns
  and which of them were masked.
- **Staff terms**: codes by their labels, branches by code and name, staff by name, in
  Chinese (or English on request); the measures stay numbers.
- **CSV**: UTF-8 with a byte-order mark (Excel reads Chinese correctly), sent in chunks.
- **xlsx**: the rows on a first sheet, what the report is (branch, period, who printed
  it, when) on a second; written by xlsxwriter in ``constant_memory`` mode to a spooled
  temporary file and streamed.
- **PDF**: A4 landscape drawn by WeasyPrint with the Noto Sans CJK SC cut shipped in
  ``fonts/`` (embedded in the file, so it prints the same anywhere); each page's header
  names the branch, the period and who printed it when, the footer the page of pages,
  and the table's header row repeats on every page.
"""

from __future__ import annotations

import codecs
import csv
import io
import tempfile
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Literal

import anyio
import jinja2

from bankcrm import audit, branches, db
from bankcrm.business_calendar import DEFAULT_ZONE
from bankcrm.context import require_scope
from bankcrm.labels import label_of
from bankcrm_reporting.reports import services
from bankcrm_reporting.reports.services import Column, RunOut

ExportFormat = Literal["csv", "xlsx", "pdf"]
Language = Literal["zh", "en"]
MEDIA_TYPES: dict[str, str] = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
CHUNK_ROWS = 500
READ_CHUNK = 256 * 2**10
SPOOL_BYTES = 8 * 2**20
PACKAGE = Path(__file__).resolve().parent.parent
FONT = PACKAGE / "fonts" / "NotoSansCJKsc-Regular-GB2312.otf"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """A text cell a spreadsheet will show rather than evaluate."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


# --- how the file speaks ----------------------------------------------------------------------


@dataclass(frozen=True)
class Heading:
    """What every page (and the xlsx's second sheet) says the report is."""

    report: str
    source: str
    branch: str
    period: str
    printed_by: str
    printed_at: str
    generated_at: str
    rows: int
    truncated: bool
    masked: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Terms:
    language: str
    branch_names: Mapping[int, str]
    user_names: Mapping[int, str]

    def t(self, zh: str, en: str) -> str:
        return en if self.language == "en" else zh

    def title(self, column: Column) -> str:
        return self.t(column.title, column.title_en)

    def cell(self, column: Column, value: Any) -> Any:
        """A dimension's value as staff read it; a measure's as a number."""
        if value is None:
            return ""
        if column.role == "measure":
            return value if isinstance(value, int | float) else Decimal(str(value))
        if column.kind == "branch":
            return self.branch_names.get(int(value), str(value))
        if column.kind == "user":
            return self.user_names.get(int(value), str(value))
        if column.kind == "boolean":
            return self.t("是", "yes") if value else self.t("否", "no")
        if column.labels and str(value) in column.labels:
            zh, en = column.labels[str(value)]
            return self.t(zh, en)
        if column.enumeration:
            plugin, name = column.enumeration
            return label_of(plugin, name, value, self.language) or str(value)
        return str(value)


async def _user_names(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await db.fetch(
        "SELECT u.id, coalesce(e.name, u.username) AS name FROM piccolo_user u"
        " LEFT JOIN bankcrm_employee e ON e.user_id = u.id WHERE u.id = ANY($1::int[])",
        sorted(ids),
    )
    return {r["id"]: r["name"] for r in rows}


def _period(run: RunOut, language: str) -> str:
    if run.period_start is None or run.period_end is None:
        as_of = run.created_at.astimezone(DEFAULT_ZONE).date()
        return f"全部期间（截至 {as_of}）" if language == "zh" else f"all time (to {as_of})"
    last = run.period_end - timedelta(days=1)
    return f"{run.period_start} ~ {last}"


async def terms_and_heading(run: RunOut, language: str) -> tuple[Terms, Heading]:
    tree = await branches.snapshot()
    names = {
        n.id: f"{n.code} {(n.name_en or n.name) if language == 'en' else n.name}"
        for n in tree.nodes.values()
    }
    users: set[int] = set()
    for column in run.columns:
        if column.kind == "user" and column.role == "dimension":
            users.update(int(r[column.key]) for r in run.rows if r.get(column.key) is not None)
    scope = require_scope()
    if scope.user_id is not None:
        users.add(scope.user_id)
    user_names = await _user_names(users)
    terms = Terms(language, names, user_names)
    seen = set(run.scope_branches)
    tops = [
        b for b in run.scope_branches if b in tree.nodes and tree.nodes[b].parent_id not in seen
    ]
    branch = "、".join(names.get(b, str(b)) for b in sorted(tops)) or terms.t("无", "none")
    if len(seen) > len(tops):  # the scope reaches branches under the top ones
        branch += terms.t("（含下辖机构）", " (and the branches under it)")
    printer = user_names.get(scope.user_id or 0) or scope.username or scope.actor
    now = datetime.now(DEFAULT_ZONE)
    sources = services.catalogue().get(run.source)
    source = terms.t(sources.title, sources.title_en) if sources else run.source
    heading = Heading(
        report=run.title,
        source=source,
        branch=branch,
        period=_period(run, language),
        printed_by=printer,
        printed_at=now.strftime("%Y-%m-%d %H:%M"),
        generated_at=run.created_at.astimezone(DEFAULT_ZONE).strftime("%Y-%m-%d %H:%M"),
        rows=run.row_count,
        truncated=run.truncated,
        masked=[terms.title(c) for c in run.columns if c.masked],
    )
    return terms, heading


# --- writers ----------------------------------------------------------------------------------


def csv_chunks(run: RunOut, terms: Terms) -> list[Callable[[], bytes]]:
    """The CSV file as thunks, each formatting up to :data:`CHUNK_ROWS` rows."""

    def header() -> bytes:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n").writerow([terms.title(c) for c in run.columns])
        return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")

    def rows(part: Sequence[Mapping[str, Any]]) -> Callable[[], bytes]:
        def write() -> bytes:
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\r\n")
            for row in part:
                cells = [terms.cell(c, row.get(c.key)) for c in run.columns]
                writer.writerow([neutralise(v) if isinstance(v, str) else v for v in cells])
            return buffer.getvalue().encode("utf-8")

        return write

    return [header] + [
        rows(run.rows[i : i + CHUNK_ROWS]) for i in range(0, len(run.rows), CHUNK_ROWS)
    ]


def write_xlsx(run: RunOut, terms: Terms, heading: Heading) -> IO[bytes]:
    import xlsxwriter

    file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
    workbook = xlsxwriter.Workbook(file, {"constant_memory": True, "strings_to_formulas": False})
    bold = workbook.add_format({"bold": True})
    sheet = workbook.add_worksheet(terms.t("报表", "report"))
    for col, column in enumerate(run.columns):
        sheet.write_string(0, col, terms.title(column), bold)
    for line, row in enumerate(run.rows, 1):
        for col, column in enumerate(run.columns):
            value = terms.cell(column, row.get(column.key))
            if isinstance(value, str):
                if value:
                    sheet.write_string(line, col, value)
            else:
                sheet.write_number(line, col, float(value))
    about = workbook.add_worksheet(terms.t("说明", "about"))
    facts = [
        (terms.t("报表", "Report"), heading.report),
        (terms.t("数据源", "Data source"), heading.source),
        (terms.t("机构", "Branch"), heading.branch),
        (terms.t("期间", "Period"), heading.period),
        (terms.t("生成时间", "Generated"), heading.generated_at),
        (terms.t("打印人", "Printed by"), heading.printed_by),
        (terms.t("打印时间", "Printed at"), heading.printed_at),
        (terms.t("行数", "Rows"), str(heading.rows)),
        (terms.t("已脱敏的列", "Masked columns"), "、".join(heading.masked) or "-"),
    ]
    for line, (name, value) in enumerate(facts):
        about.write_string(line, 0, name, bold)
        about.write_string(line, 1, value)
    workbook.close()
    file.seek(0)
    return file


_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("bankcrm_reporting", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


def render_html(run: RunOut, terms: Terms, heading: Heading) -> str:
    numeric = [c.role == "measure" for c in run.columns]
    rows = [[_printable(terms.cell(c, row.get(c.key))) for c in run.columns] for row in run.rows]
    return _TEMPLATES.get_template("reporting/print.html").render(
        t=terms.t,
        heading=heading,
        columns=[terms.title(c) + (f"（{c.unit}）" if c.unit else "") for c in run.columns],
        numeric=numeric,
        rows=rows,
        font_url=FONT.as_uri(),
        lang=terms.language,
    )


def _printable(value: Any) -> str:
    if isinstance(value, Decimal):
        return f"{value:,.2f}" if value != value.to_integral_value() else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def write_pdf(run: RunOut, terms: Terms, heading: Heading) -> bytes:
    from weasyprint import HTML

    pdf: bytes = HTML(string=render_html(run, terms, heading), base_url=str(PACKAGE)).write_pdf()
    return pdf


# --- the export -------------------------------------------------------------------------------


@dataclass
class Export:
    chunks: AsyncGenerator[bytes, None]
    media_type: str
    filename: str

    async def close(self) -> None:
        """Release the file (the response ends or the client went away)."""
        await self.chunks.aclose()


def filename(run: RunOut, fmt: str) -> str:
    day = run.created_at.astimezone(DEFAULT_ZONE).strftime("%Y%m%d")
    return f"report-{run.report}-{run.id}-{day}.{fmt}"


async def export_run(run_id: int, fmt: ExportFormat, language: Language = "zh") -> Export:
    """The run as a file (404 for a run the caller cannot see), audited before it is
    sent (see the module doc)."""
    run = await services.get_run(run_id)
    terms, heading = await terms_and_heading(run, language)
    async with db.transaction():
        await audit.record(
            audit.Action.EXPORT,
            services.RUN_ENTITY,
            run.id,
            branch_id=run.branch_id,
            after={
                "format": fmt,
                "language": language,
                "report": run.report,
                "rows": run.row_count,
                "columns": [c.key for c in run.columns],
                "masked_columns": [c.key for c in run.columns if c.masked],
                "branches": run.scope_branches,
            },
        )
    return Export(_stream(run, terms, heading, fmt), MEDIA_TYPES[fmt], filename(run, fmt))


async def _stream(
    run: RunOut, terms: Terms, heading: Heading, fmt: str
) -> AsyncGenerator[bytes, None]:
    if fmt == "csv":
        for chunk in csv_chunks(run, terms):
            yield await anyio.to_thread.run_sync(chunk)
        return
    if fmt == "pdf":
        yield await anyio.to_thread.run_sync(write_pdf, run, terms, heading)
        return
    file = await anyio.to_thread.run_sync(write_xlsx, run, terms, heading)
    try:
        while data := await anyio.to_thread.run_sync(file.read, READ_CHUNK):
            yield data
    finally:
        file.close()
