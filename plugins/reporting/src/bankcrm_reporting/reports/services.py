"""Saved reports: definitions checked against their data source, runs on demand or on
a schedule, and each run kept in its recipient's inbox.

A report runs under its runner's scope (the caller's on demand, the owner's on a
schedule) narrowed to the branches where the source's plugin is enabled, and only while
that scope holds the source's permission: its figures are what that person may see, and
the source's query reads nothing without a branch (fail-closed). A run is written with its
audit row and its notification in one transaction.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from bankcrm import audit, branches, db
from bankcrm.business_calendar import DEFAULT_ZONE
from bankcrm.context import Scope, require_scope
from bankcrm.notifications import NotificationSource, NotificationTemplate, notify
from bankcrm.web.pagination import Page, decode_cursor, encode_cursor
from bankcrm.web.problems import Problem, invalid, not_found
from bankcrm_reporting.reports import schedule as schedules
from bankcrm_reporting.sources import (
    AGGREGATION_LABELS,
    AGGREGATIONS,
    FILTER_OPS,
    MAX_ROWS,
    DataSource,
    Filter,
    ReportQuery,
    catalogue,
    column_key,
)

REPORT = "reporting_report"
RUN = "reporting_report_run"
ENTITY = "reporting.report"
RUN_ENTITY = "reporting.report_run"
REPORT_READY = "reporting.report_ready"
REPORT_COLUMNS = (
    "id, branch_id, owner, name, source, definition, schedule, next_run_at, last_run_at,"
    " shared, created_at, updated_at"
)
RUN_SUMMARY = (
    "id, branch_id, report, recipient, title, source, trigger, status, row_count, truncated,"
    " period_start, period_end, error, created_at, read_at"
)
RUN_COLUMNS = RUN_SUMMARY + ", columns, rows, scope_branches"

TEMPLATES: tuple[NotificationTemplate, ...] = (
    NotificationTemplate(
        key=REPORT_READY,
        category="reporting",
        title_zh="报表已生成：$name",
        body_zh="报表「$name」已生成，共 $rows 行，请到报表收件箱查看或导出。$error",
        title_en="Report ready: $name",
        body_en="The report “$name” is ready with $rows rows: see your report inbox. $error",
        channels=("in_app", "email"),
    ),
)

Id = Annotated[int, Meta(ge=1, le=2**31 - 1)]
Name = Annotated[str, Meta(min_length=1, max_length=200)]
FieldName = Annotated[str, Meta(min_length=1, max_length=100)]
Scalar = str | int | float | bool
Period = Literal[
    "",
    "today",
    "yesterday",
    "this_week",
    "last_week",
    "this_month",
    "last_month",
    "this_quarter",
    "last_quarter",
    "this_year",
    "last_year",
    "last_7_days",
    "last_30_days",
]
PERIOD_LABELS = {
    "": "全部期间",
    "today": "今日",
    "yesterday": "昨日",
    "this_week": "本周",
    "last_week": "上周",
    "this_month": "本月",
    "last_month": "上月",
    "this_quarter": "本季度",
    "last_quarter": "上季度",
    "this_year": "本年",
    "last_year": "上年",
    "last_7_days": "最近 7 天",
    "last_30_days": "最近 30 天",
}


class FilterIn(Struct, forbid_unknown_fields=True, kw_only=True):
    field: FieldName
    """A dimension of the source."""
    op: Literal["eq", "ne", "in", "not_in", "gte", "lte", "contains"] = "eq"
    value: Scalar | list[Scalar]
    """A list for ``in`` and ``not_in``; a date ``YYYY-MM-DD`` for a date or month."""


class MeasureIn(Struct, forbid_unknown_fields=True, kw_only=True):
    measure: FieldName
    aggregation: Literal["count", "count_distinct", "sum", "avg", "min", "max"] = "sum"


class SortIn(Struct, forbid_unknown_fields=True, kw_only=True):
    key: FieldName
    """A chosen dimension or ``<measure>_<aggregation>``."""
    descending: bool = False


class Definition(Struct, forbid_unknown_fields=True, kw_only=True):
    dimensions: Annotated[list[FieldName], Meta(max_length=6)] = []
    measures: Annotated[list[MeasureIn], Meta(min_length=1, max_length=12)]
    filters: Annotated[list[FilterIn], Meta(max_length=20)] = []
    sort: Annotated[list[SortIn], Meta(max_length=6)] = []
    limit: Annotated[int, Meta(ge=1, le=MAX_ROWS)] = 1000
    period: Period = ""
    """A period relative to the run's day (in the bank's time zone), applied to the
    source's time dimension: ``last_month`` in a monthly report is always the month
    before the run."""


class ReportIn(Definition, forbid_unknown_fields=True, kw_only=True):
    name: Name
    source: Annotated[str, Meta(min_length=1, max_length=120)]
    """A source of ``GET /api/v1/reporting/sources``."""
    schedule: Annotated[str, Meta(max_length=120)] = ""
    """A cron expression (minute hour day month weekday) in the bank's time zone, e.g.
    ``0 8 * * 1`` for Mondays at 08:00; empty: on demand only."""
    shared: bool = False
    """Everybody who sees the report's branch may see and run it, each under their own
    scope (only you change it): to share with a sub-branch's staff, give its
    ``branch_id``."""
    branch_id: Id | None = None
    """Default: your home branch."""


class ReportPatch(Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name | UnsetType = UNSET
    definition: Definition | UnsetType = UNSET
    schedule: Annotated[str, Meta(max_length=120)] | UnsetType = UNSET
    shared: bool | UnsetType = UNSET


class ReportOut(Struct):
    id: int
    branch_id: int
    owner: int
    name: str
    source: str
    definition: dict[str, Any]
    schedule: str
    next_run_at: datetime | None
    last_run_at: datetime | None
    shared: bool
    created_at: datetime
    updated_at: datetime


class Column(Struct):
    key: str
    title: str
    title_en: str
    role: str
    """``dimension`` or ``measure``."""
    kind: str
    """A dimension's kind (:data:`~bankcrm_reporting.sources.DIMENSION_KINDS`) or
    ``number`` for a measure."""
    unit: str = ""
    enumeration: list[str] | None = None
    """``[plugin, field]`` whose labels show a code dimension's values."""
    labels: dict[str, list[str]] | None = None
    """``{code: [中文, English]}`` where the source labels its codes itself."""
    masked: bool = False
    """Personal data, masked by the source before it left the query."""


class RunSummary(Struct):
    id: int
    branch_id: int
    report: int
    recipient: int
    title: str
    source: str
    trigger: str
    status: str
    row_count: int
    truncated: bool
    period_start: date | None
    period_end: date | None
    error: str
    created_at: datetime
    read_at: datetime | None
    """When the recipient first opened it (``GET …/inbox/{id}``); None: unread."""


class RunOut(RunSummary):
    columns: list[Column]
    rows: list[dict[str, Any]]
    scope_branches: list[int]


class DimensionOut(Struct):
    name: str
    title: str
    title_en: str
    kind: str


class MeasureOut(Struct):
    name: str
    title: str
    title_en: str
    aggregations: list[str]
    unit: str


class SourceOut(Struct):
    name: str
    plugin: str
    title: str
    title_en: str
    description: str
    dimensions: list[DimensionOut]
    measures: list[MeasureOut]
    time_dimension: str | None


# --- sources --------------------------------------------------------------------------------


def usable_sources(scope: Scope) -> list[DataSource]:
    """The sources whose permission ``scope`` holds, by name."""
    found = catalogue().sources.values()
    return sorted((s for s in found if scope.has(s.permission)), key=lambda s: s.name)


def list_sources() -> list[SourceOut]:
    return [
        SourceOut(
            s.name,
            s.plugin,
            s.title,
            s.title_en,
            s.description,
            [DimensionOut(d.name, d.title, d.title_en, d.kind) for d in s.dimensions],
            [
                MeasureOut(m.name, m.title, m.title_en, list(m.aggregations), m.unit)
                for m in s.measures
            ],
            s.time_dimension,
        )
        for s in usable_sources(require_scope())
    ]


def _source(name: str, where: str = "/body/source") -> DataSource:
    source = catalogue().get(name)
    if source is None or not require_scope().has(source.permission):
        raise invalid(where, f"no data source {name!r} you may use (GET /api/v1/reporting/sources)")
    return source


# --- checking a definition ------------------------------------------------------------------


def _check_value(kind: str, value: Any, where: str) -> None:
    if isinstance(value, list):
        raise invalid(where, "one value, not a list (use op in for several)")
    try:
        if kind in ("date", "month"):
            date.fromisoformat(str(value)[:10])
        elif kind in ("number", "branch", "user") and (
            isinstance(value, bool) or not Decimal(str(value)).is_finite()
        ):
            raise ValueError
    except (ValueError, ArithmeticError):
        expected = "a date YYYY-MM-DD" if kind in ("date", "month") else "a number"
        raise invalid(where, f"{expected} for this dimension") from None


def check_definition(source: DataSource, data: Definition, prefix: str = "/body") -> ReportQuery:
    """``data`` as a query of ``source``; 422 naming the first wrong field."""
    for i, name in enumerate(data.dimensions):
        if source.dimension(name) is None:
            raise invalid(f"{prefix}/dimensions/{i}", f"{source.name} has no dimension {name!r}")
        if name in data.dimensions[:i]:
            raise invalid(f"{prefix}/dimensions/{i}", f"{name!r} is chosen twice")
    pairs: list[tuple[str, str]] = []
    for i, item in enumerate(data.measures):
        measure = source.measure(item.measure)
        if measure is None:
            raise invalid(
                f"{prefix}/measures/{i}/measure", f"{source.name} has no measure {item.measure!r}"
            )
        if item.aggregation not in measure.aggregations or item.aggregation not in AGGREGATIONS:
            raise invalid(
                f"{prefix}/measures/{i}/aggregation",
                f"{item.measure} allows {', '.join(measure.aggregations)}",
            )
        if (item.measure, item.aggregation) in pairs:
            raise invalid(f"{prefix}/measures/{i}", "chosen twice")
        pairs.append((item.measure, item.aggregation))
    filters = []
    for i, f in enumerate(data.filters):
        dimension = source.dimension(f.field)
        if dimension is None:
            raise invalid(
                f"{prefix}/filters/{i}/field", f"{source.name} has no dimension {f.field!r}"
            )
        where = f"{prefix}/filters/{i}/value"
        if f.op in ("in", "not_in"):
            if not isinstance(f.value, list) or not 1 <= len(f.value) <= 500:
                raise invalid(where, f"a list of 1 to 500 values for {f.op}")
            for j, value in enumerate(f.value):
                _check_value(dimension.kind, value, f"{where}/{j}")
        elif f.op == "contains":
            if isinstance(f.value, list) or not str(f.value).strip():
                raise invalid(where, "a text to look for")
        else:
            _check_value(dimension.kind, f.value, where)
        filters.append(Filter(f.field, f.op, f.value))
    keys = [*data.dimensions, *(column_key(m, a) for m, a in pairs)]
    sort = []
    for i, s in enumerate(data.sort):
        if s.key not in keys:
            raise invalid(f"{prefix}/sort/{i}/key", f"one of {', '.join(keys)}")
        sort.append((s.key, s.descending))
    if data.period and source.time_dimension is None:
        raise invalid(f"{prefix}/period", f"{source.name} has no time dimension to limit")
    assert all(f.op in FILTER_OPS for f in filters)
    return ReportQuery(
        tuple(data.dimensions), tuple(pairs), tuple(filters), tuple(sort), data.limit
    )


def _definition_of(data: Definition) -> dict[str, Any]:
    raw = msgspec.to_builtins(data)
    return {k: raw[k] for k in ("dimensions", "measures", "filters", "sort", "limit", "period")}


def _schedule_next(expression: str, where: str = "/body/schedule") -> datetime | None:
    if not expression.strip():
        return None
    try:
        return schedules.parse(expression).next_after(datetime.now(DEFAULT_ZONE))
    except schedules.ScheduleError as exc:
        raise invalid(where, str(exc)) from None


def resolve_period(period: str, today: date) -> tuple[date, date] | None:
    """``[start, end)`` of a relative period on ``today``; None for all time."""
    if not period:
        return None
    month = today.replace(day=1)
    quarter = today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1)
    week = today - timedelta(days=today.weekday())

    def months_before(day: date, n: int) -> date:
        index = day.year * 12 + day.month - 1 - n
        return date(index // 12, index % 12 + 1, 1)

    return {
        "today": (today, today + timedelta(days=1)),
        "yesterday": (today - timedelta(days=1), today),
        "this_week": (week, week + timedelta(days=7)),
        "last_week": (week - timedelta(days=7), week),
        "this_month": (month, months_before(month, -1)),
        "last_month": (months_before(month, 1), month),
        "this_quarter": (quarter, months_before(quarter, -3)),
        "last_quarter": (months_before(quarter, 3), quarter),
        "this_year": (date(today.year, 1, 1), date(today.year + 1, 1, 1)),
        "last_year": (date(today.year - 1, 1, 1), date(today.year, 1, 1)),
        "last_7_days": (today - timedelta(days=6), today + timedelta(days=1)),
        "last_30_days": (today - timedelta(days=29), today + timedelta(days=1)),
    }[period]


# --- reports --------------------------------------------------------------------------------


def report_of(row: Any) -> ReportOut:
    values = dict(row)
    if isinstance(values["definition"], str):
        values["definition"] = msgspec.json.decode(values["definition"])
    return ReportOut(**values)


def _audited(report: ReportOut) -> dict[str, Any]:
    return {
        "name": report.name,
        "source": report.source,
        "definition": report.definition,
        "schedule": report.schedule,
        "shared": report.shared,
    }


def _branch_for_new(branch_id: int | None) -> int:
    scope = require_scope()
    chosen = branch_id if branch_id is not None else scope.home_branch_id
    if chosen is None:
        raise invalid("/body/branch_id", "required: you have no home branch")
    if chosen not in scope.branch_ids:
        raise invalid("/body/branch_id", "the branch is outside your scope")
    return chosen


def _owner_id() -> int:
    user_id = require_scope().user_id
    if user_id is None:
        raise Problem(403, "saved reports belong to staff users", code="forbidden")
    return user_id


async def list_reports(
    *, mine: bool = False, limit: int = 50, cursor: str | None = None
) -> Page[ReportOut]:
    """The reports the caller may see (their own, those of people they oversee and the
    shared ones of their branches), newest first."""
    after = decode_cursor(cursor, (int,))
    rows = await db.fetch(
        f"SELECT {REPORT_COLUMNS} FROM {REPORT} WHERE ($1::bigint IS NULL OR id < $1)"
        " AND ($2::int IS NULL OR owner = $2) ORDER BY id DESC LIMIT $3",
        after[0] if after else None,
        require_scope().user_id if mine else None,
        limit + 1,
    )
    items = [report_of(r) for r in rows[:limit]]
    return Page(items, encode_cursor([items[-1].id]) if len(rows) > limit else None)


async def get_report(report_id: int) -> ReportOut:
    row = await db.fetchrow(f"SELECT {REPORT_COLUMNS} FROM {REPORT} WHERE id = $1", report_id)
    if row is None:
        raise not_found(f"report {report_id}")
    return report_of(row)


async def create_report(data: ReportIn) -> ReportOut:
    owner = _owner_id()
    source = _source(data.source)
    check_definition(source, data)
    name = data.name.strip() or data.name
    if not name.strip():
        raise invalid("/body/name", "must not be blank")
    next_run = _schedule_next(data.schedule)
    branch_id = _branch_for_new(data.branch_id)
    async with db.transaction():
        row = await db.fetchrow(
            f"INSERT INTO {REPORT} (branch_id, owner, name, source, definition, schedule,"
            " next_run_at, shared, created_at, updated_at)"
            " VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, now(), now())"
            f" RETURNING {REPORT_COLUMNS}",
            branch_id,
            owner,
            name,
            source.name,
            db.jsonb(_definition_of(data)),
            data.schedule.strip(),
            next_run,
            data.shared,
        )
        assert row is not None
        report = report_of(row)
        await audit.record(
            audit.Action.CREATE, ENTITY, report.id, branch_id=branch_id, after=_audited(report)
        )
    return report


async def _locked_own(report_id: int) -> Any:
    row = await db.fetchrow(
        f"SELECT {REPORT_COLUMNS} FROM {REPORT} WHERE id = $1 FOR UPDATE", report_id
    )
    if row is None:
        raise not_found(f"report {report_id}")
    scope = require_scope()
    if row["owner"] != scope.user_id and not scope.is_superuser:
        raise Problem(403, "only the report's owner changes or deletes it", code="forbidden")
    return row


async def update_report(report_id: int, data: ReportPatch) -> ReportOut:
    async with db.transaction():
        before = report_of(await _locked_own(report_id))
        changes: dict[str, Any] = {}
        if not isinstance(data.name, UnsetType):
            if not data.name.strip():
                raise invalid("/body/name", "must not be blank")
            changes["name"] = data.name.strip()
        if not isinstance(data.definition, UnsetType):
            check_definition(
                _source(before.source, "/body/definition"), data.definition, "/body/definition"
            )
            changes["definition"] = _definition_of(data.definition)
        if not isinstance(data.schedule, UnsetType):
            changes["schedule"] = data.schedule.strip()
            changes["next_run_at"] = _schedule_next(data.schedule)
        if not isinstance(data.shared, UnsetType):
            changes["shared"] = data.shared
        changed = {k: v for k, v in changes.items() if getattr(before, k) != v}
        if not changed:
            return before
        assignments = ", ".join(
            f"{column} = ${i}{'::jsonb' if column == 'definition' else ''}"
            for i, column in enumerate(changed, 2)
        )
        values = [db.jsonb(v) if k == "definition" else v for k, v in changed.items()]
        row = await db.fetchrow(
            f"UPDATE {REPORT} SET {assignments}, updated_at = now() WHERE id = $1"
            f" RETURNING {REPORT_COLUMNS}",
            report_id,
            *values,
        )
        after = report_of(row)
        await audit.record(
            audit.Action.UPDATE,
            ENTITY,
            report_id,
            branch_id=after.branch_id,
            before={k: _audited(before).get(k, str(getattr(before, k))) for k in changed},
            after={k: _audited(after).get(k, str(getattr(after, k))) for k in changed},
        )
    return after


async def delete_report(report_id: int) -> None:
    """Delete the definition; the runs stay in their recipients' inboxes."""
    async with db.transaction():
        before = report_of(await _locked_own(report_id))
        await db.fetch(f"DELETE FROM {REPORT} WHERE id = $1", report_id)
        await audit.record(
            audit.Action.DELETE,
            ENTITY,
            report_id,
            branch_id=before.branch_id,
            before=_audited(before),
        )


# --- running --------------------------------------------------------------------------------


def columns_of(source: DataSource, query: ReportQuery) -> list[Column]:
    columns = []
    for name in query.dimensions:
        d = source.dimension(name)
        assert d is not None
        columns.append(
            Column(
                d.name,
                d.title,
                d.title_en,
                "dimension",
                d.kind,
                enumeration=list(d.enumeration) if d.enumeration else None,
                labels={k: [v.zh, v.en] for k, v in d.labels.items()} if d.labels else None,
                masked=d.mask is not None,
            )
        )
    for measure_name, aggregation in query.measures:
        m = source.measure(measure_name)
        assert m is not None
        label = AGGREGATION_LABELS[aggregation]
        unit = "" if aggregation in ("count", "count_distinct") else m.unit
        columns.append(
            Column(
                column_key(m.name, aggregation),
                f"{m.title}（{label.zh}）",
                f"{m.title_en} ({label.en})",
                "measure",
                "number",
                unit,
            )
        )
    return columns


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def bank_today() -> date:
    return datetime.now(DEFAULT_ZONE).date()


async def _run_scope(source: DataSource, scope: Scope) -> Scope:
    tree = await branches.snapshot()
    return scope.narrowed(tree.enabled_branches(source.plugin)) if source.plugin else scope


async def execute(report: ReportOut, scope: Scope, trigger: str, today: date) -> RunOut:
    """Run ``report`` under ``scope`` and file the result in the scope's user's inbox,
    with its audit row and the notification (inside the caller's transaction)."""
    source = catalogue().get(report.source)
    period = resolve_period(str(report.definition.get("period", "")), today)
    status, error, columns, rows, truncated = "done", "", [], [], False
    narrowed = scope
    if source is None or not scope.has(source.permission):
        status, error = "failed", f"the data source {report.source} is not available to you"
    else:
        try:
            query = check_definition(
                source, msgspec.convert(report.definition, Definition), "/definition"
            )
        except (Problem, msgspec.ValidationError) as exc:  # the source changed since
            source, status, error = None, "failed", f"the definition no longer fits: {exc}"
    if source is not None and status == "done":
        query = ReportQuery(
            query.dimensions, query.measures, query.filters, query.sort, query.limit + 1, period
        )
        narrowed = await _run_scope(source, scope)
        async with db.transaction() as transaction:
            savepoint = await transaction.savepoint()
            try:
                answer = await source.query(query, narrowed)
                await savepoint.release()
            except Exception as exc:  # a source's failure is the run's, not the caller's
                await savepoint.rollback_to()
                answer, status, error = (
                    [],
                    "failed",
                    f"the data source failed: {type(exc).__name__}",
                )
        truncated = len(answer) > report.definition.get("limit", 1000)
        answer = answer[: report.definition.get("limit", 1000)]
        columns = columns_of(source, query)
        rows = [{k: _json_value(v) for k, v in r.items()} for r in answer]
    recipient = scope.user_id
    assert recipient is not None
    branch_id = (
        scope.home_branch_id if scope.home_branch_id in scope.branch_ids else report.branch_id
    )
    async with db.transaction(), db.under_scope(scope):
        row = await db.fetchrow(
            f"INSERT INTO {RUN} (branch_id, report, recipient, title, source, trigger, status,"
            " columns, rows, row_count, truncated, period_start, period_end, scope_branches,"
            " error, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10,"
            f" $11, $12, $13, $14::jsonb, $15, now()) RETURNING {RUN_COLUMNS}",
            branch_id,
            report.id,
            recipient,
            report.name,
            report.source,
            trigger,
            status,
            db.jsonb(msgspec.to_builtins(columns)),
            db.jsonb(rows),
            len(rows),
            truncated,
            period[0] if period else None,
            period[1] if period else None,
            db.jsonb(sorted(narrowed.branch_ids)),
            error,
        )
        assert row is not None
        await audit.record(
            audit.Action.CREATE,
            RUN_ENTITY,
            row["id"],
            branch_id=branch_id,
            after={
                "report": report.id,
                "source": report.source,
                "trigger": trigger,
                "status": status,
                "rows": len(rows),
                "branches": sorted(narrowed.branch_ids),
            },
        )
        await notify(
            [recipient],
            REPORT_READY,
            {"name": report.name, "rows": len(rows), "error": error},
            NotificationSource("reporting", RUN, row["id"], branch_id),
        )
    return _run(row)


async def run_report(report_id: int) -> RunOut:
    """Run a report the caller may see, now, under the caller's scope (``POST …/run``)."""
    scope = require_scope()
    _owner_id()
    report = await get_report(report_id)
    return await execute(report, scope, "manual", bank_today())


# --- the inbox ------------------------------------------------------------------------------


def _run(row: Any) -> RunOut:
    values = dict(row)
    for key in ("columns", "rows", "scope_branches"):
        if isinstance(values[key], str):
            values[key] = msgspec.json.decode(values[key])
    values["columns"] = msgspec.convert(values["columns"], list[Column])
    return RunOut(**values)


async def list_inbox(
    *, report_id: int | None = None, limit: int = 50, cursor: str | None = None
) -> Page[RunSummary]:
    """The caller's own runs, newest first (without their rows); ``read_at`` None for the
    unread ones."""
    after = decode_cursor(cursor, (int,))
    rows = await db.fetch(
        f"SELECT {RUN_SUMMARY} FROM {RUN} WHERE recipient = $1"
        " AND ($2::bigint IS NULL OR id < $2) AND ($3::bigint IS NULL OR report = $3)"
        " ORDER BY id DESC LIMIT $4",
        require_scope().user_id,
        after[0] if after else None,
        report_id,
        limit + 1,
    )
    items = [RunSummary(**dict(r)) for r in rows[:limit]]
    return Page(items, encode_cursor([items[-1].id]) if len(rows) > limit else None)


async def get_run(run_id: int, *, opened: bool = False) -> RunOut:
    """One run the caller may see; ``opened``: the recipient reads it, so it is no longer
    unread (someone overseeing them leaves it unread)."""
    row = await db.fetchrow(f"SELECT {RUN_COLUMNS} FROM {RUN} WHERE id = $1", run_id)
    if row is None:
        raise not_found(f"report run {run_id}")
    if opened and row["read_at"] is None and row["recipient"] == require_scope().user_id:
        async with db.transaction():
            read_at = await db.fetchval(
                f"UPDATE {RUN} SET read_at = now() WHERE id = $1 AND read_at IS NULL"
                " RETURNING read_at",
                run_id,
            )
        row = {**dict(row), "read_at": read_at or row["read_at"]}
    return _run(row)
