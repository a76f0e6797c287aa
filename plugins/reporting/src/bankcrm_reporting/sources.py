"""Data sources of saved reports: what plugins contribute through the published hook
``reporting_data_sources`` (see :mod:`.hookspecs`), and the query they answer.

A source has a name (``<plugin>.<what>``), a Chinese and an English title, the
*dimensions* a report may group and filter by, the *measures* it may aggregate (each with
the aggregations allowed) and a *query function* ``query(ReportQuery, Scope)`` that
answers the grouped rows under the scope it is given. Reporting calls it with the
caller's scope narrowed to the branches where the source's plugin is enabled, and only
when the scope holds the source's ``permission``; a scope with no branch answers no row
(fail-closed). :func:`sql_source` builds the query function from SQL expressions, so a
plugin's contribution is a declaration: row-level security and the plugin's access rules
decide which rows are counted.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

from bankcrm import db
from bankcrm.context import Scope
from bankcrm.plugin_api import Label, plugin_hooks

AGGREGATIONS: dict[str, str] = {
    "count": "count({})",
    "count_distinct": "count(DISTINCT {})",
    "sum": "coalesce(sum({}), 0)",
    "avg": "round(avg({})::numeric, 4)",
    "min": "min({})",
    "max": "max({})",
}
AGGREGATION_LABELS: dict[str, Label] = {
    "count": Label("计数", "count"),
    "count_distinct": Label("去重计数", "distinct count"),
    "sum": Label("合计", "sum"),
    "avg": Label("平均", "average"),
    "min": Label("最小", "minimum"),
    "max": Label("最大", "maximum"),
}
DIMENSION_KINDS = ("text", "code", "branch", "user", "date", "month", "number", "boolean")
"""How a dimension's values are compared and shown: ``code`` values are shown by their
enumeration labels, ``branch`` and ``user`` ids by names, ``date`` as ``YYYY-MM-DD`` and
``month`` (a date, the month's first day) as ``YYYY-MM``."""
FILTER_OPS = ("eq", "ne", "in", "not_in", "gte", "lte", "contains")
MAX_ROWS = 10_000
"""The most rows a report answers (and its inbox keeps)."""


@dataclass(frozen=True)
class Dimension:
    """Something a report groups and filters by."""

    name: str
    title: str
    title_en: str
    sql: str
    """An SQL expression over the source's ``from_sql`` (``c.value_tier``)."""
    kind: str = "text"
    """One of :data:`DIMENSION_KINDS`."""
    enumeration: tuple[str, str] | None = None
    """``(plugin, field)`` of a declared enumeration whose labels show the codes."""
    labels: Mapping[str, Label] | None = None
    """The codes' labels, for codes no enumeration declares."""
    mask: Callable[[Any], Any] | None = None
    """For personal data (a name, a phone): applied to every value before it leaves the
    query, so neither the inbox nor an export ever holds it in clear."""


@dataclass(frozen=True)
class Measure:
    """Something a report aggregates."""

    name: str
    title: str
    title_en: str
    sql: str
    """An SQL expression (``c.aum_cents / 100.0``; ``c.id`` for counting rows)."""
    aggregations: tuple[str, ...] = ("sum",)
    """Those of :data:`AGGREGATIONS` that make sense for it."""
    unit: str = ""


@dataclass(frozen=True)
class Filter:
    field: str
    op: str
    value: Any


@dataclass(frozen=True)
class ReportQuery:
    """What a report asks of a source, checked against it (:func:`check_query` names
    each wrong field)."""

    dimensions: tuple[str, ...]
    measures: tuple[tuple[str, str], ...]
    """``(measure, aggregation)`` pairs; the answer's key is ``<measure>_<aggregation>``."""
    filters: tuple[Filter, ...] = ()
    sort: tuple[tuple[str, bool], ...] = ()
    """``(column key, descending)``; default: by the dimensions."""
    limit: int = 1000
    period: tuple[date, date] | None = None
    """Rows whose ``time_dimension`` is in ``[start, end)``."""


QueryFunction = Callable[[ReportQuery, Scope], Awaitable[list[dict[str, Any]]]]


@dataclass(frozen=True)
class DataSource:
    """A plugin's data for saved reports (returned from ``reporting_data_sources``)."""

    name: str
    """``<plugin>.<what>``, e.g. ``sales.opportunities``."""
    title: str
    title_en: str
    permission: str
    """What the caller must hold to report on it (the plugin's own read permission)."""
    dimensions: tuple[Dimension, ...]
    measures: tuple[Measure, ...]
    query: QueryFunction
    """Awaited as ``query(report_query, scope)``: the grouped rows as dicts keyed by the
    dimension names and ``<measure>_<aggregation>``, read under ``scope`` only."""
    description: str = ""
    time_dimension: str | None = None
    """A ``date`` dimension a report's period applies to (created on, closed on)."""
    plugin: str = ""
    """Filled in by reporting: the plugin that contributed it."""

    def dimension(self, name: str) -> Dimension | None:
        return next((d for d in self.dimensions if d.name == name), None)

    def measure(self, name: str) -> Measure | None:
        return next((m for m in self.measures if m.name == name), None)


def column_key(measure: str, aggregation: str) -> str:
    return f"{measure}_{aggregation}"


# --- SQL sources ----------------------------------------------------------------------------

Where = Callable[[], Awaitable[tuple[str, list[Any]]]]


class _Params:
    def __init__(self, args: list[Any]) -> None:
        self.args = list(args)

    def add(self, value: Any) -> str:
        self.args.append(value)
        return f"${len(self.args)}"


def _typed(kind: str, value: Any) -> Any:
    if kind in ("date", "month"):
        return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    if kind in ("number", "branch", "user"):
        return Decimal(str(value))
    if kind == "boolean":
        return bool(value)
    return str(value)


def _cast(kind: str) -> str:
    if kind in ("date", "month"):
        return "::date"
    if kind in ("number", "branch", "user"):
        return "::numeric"
    if kind == "boolean":
        return "::boolean"
    return "::text"


def _condition(dimension: Dimension, item: Filter, params: _Params) -> str:
    expression = f"({dimension.sql})"
    kind = "date" if dimension.kind == "month" else dimension.kind
    cast = _cast(kind)
    if item.op == "contains":
        return f"{expression}::text LIKE {params.add('%' + _escape_like(str(item.value)) + '%')}"
    if item.op in ("in", "not_in"):
        values = [_typed(kind, v) for v in item.value]
        test = f"{expression}{cast} = ANY({params.add(values)}{cast}[])"
        return test if item.op == "in" else f"NOT coalesce({test}, false)"
    placeholder = params.add(_typed(kind, item.value)) + cast
    operator = {"eq": "=", "ne": "IS DISTINCT FROM", "gte": ">=", "lte": "<="}[item.op]
    return f"{expression}{cast} {operator} {placeholder}"


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _plain(value: Any, dimension: Dimension | None) -> Any:
    if dimension is not None and dimension.kind == "month" and isinstance(value, date):
        value = value.strftime("%Y-%m")
    elif isinstance(value, date):
        value = value.isoformat()
    if dimension is not None and dimension.mask is not None and value is not None:
        value = dimension.mask(value)
    return value


async def run_sql(
    from_sql: str,
    dimensions: Sequence[Dimension],
    measures: Sequence[Measure],
    where: Where | None,
    time_dimension: str | None,
    query: ReportQuery,
    scope: Scope,
) -> list[dict[str, Any]]:
    """The grouped rows of ``query`` over ``from_sql`` read under ``scope`` (no branch:
    no row). ``query`` is trusted to name only the given dimensions and measures (the
    report's definition was checked against the source when saved)."""
    if not scope.branch_ids:
        return []
    dims = {d.name: d for d in dimensions}
    meas = {m.name: m for m in measures}
    async with db.under_scope(scope):
        base, base_args = await where() if where is not None else ("true", [])
        params = _Params(base_args)
        conditions = [f"({base})"]
        for item in query.filters:
            conditions.append(_condition(dims[item.field], item, params))
        if query.period is not None and time_dimension is not None:
            expression = f"({dims[time_dimension].sql})::date"
            start, end = query.period
            since, until = params.add(start), params.add(end)
            conditions.append(f"{expression} >= {since}::date AND {expression} < {until}::date")
        keys = [*query.dimensions, *(column_key(m, a) for m, a in query.measures)]
        selected = [f"{dims[d].sql} AS d{i}" for i, d in enumerate(query.dimensions)]
        selected += [
            f"{AGGREGATIONS[a].format(meas[m].sql)} AS m{i}"
            for i, (m, a) in enumerate(query.measures)
        ]
        sql = f"SELECT {', '.join(selected)} FROM {from_sql} WHERE {' AND '.join(conditions)}"
        if query.dimensions:
            sql += " GROUP BY " + ", ".join(str(i + 1) for i in range(len(query.dimensions)))
        order = [
            f"{keys.index(key) + 1} {'DESC' if descending else 'ASC'} NULLS LAST"
            for key, descending in query.sort
            if key in keys
        ] or [f"{i + 1}" for i in range(len(query.dimensions))]
        if order:
            sql += " ORDER BY " + ", ".join(order)
        sql += f" LIMIT {params.add(min(query.limit, MAX_ROWS))}"
        rows = await db.fetch(sql, *params.args)
    named = [dims.get(key) for key in keys]
    return [{key: _plain(row[i], named[i]) for i, key in enumerate(keys)} for row in rows]


def sql_source(
    *,
    name: str,
    title: str,
    title_en: str,
    permission: str,
    from_sql: str,
    dimensions: Sequence[Dimension],
    measures: Sequence[Measure],
    where: Where | None = None,
    time_dimension: str | None = None,
    description: str = "",
) -> DataSource:
    """A source answered by one grouped statement over ``from_sql`` (a table with its
    alias, or a join), read under the caller's scope: row-level security and access rules
    decide the rows. ``where`` answers a base condition and its arguments (``$1..$n``),
    e.g. the customer archive's ``filter_conditions`` for live customers."""
    dims, meas = tuple(dimensions), tuple(measures)

    async def query(report: ReportQuery, scope: Scope) -> list[dict[str, Any]]:
        return await run_sql(from_sql, dims, meas, where, time_dimension, report, scope)

    return DataSource(
        name=name,
        title=title,
        title_en=title_en,
        permission=permission,
        dimensions=dims,
        measures=meas,
        query=query,
        description=description,
        time_dimension=time_dimension,
    )


# --- the catalogue --------------------------------------------------------------------------


@dataclass(frozen=True)
class Catalogue:
    sources: Mapping[str, DataSource] = field(default_factory=dict)

    def get(self, name: str) -> DataSource | None:
        return self.sources.get(name)


def catalogue() -> Catalogue:
    """Every source the running plugins contribute, by name (the first of a name wins;
    a malformed answer is skipped, never trusted)."""
    found: dict[str, DataSource] = {}
    for plugin, answer in plugin_hooks().call_each("reporting_data_sources"):
        for source in answer or ():
            if isinstance(source, DataSource) and source.name not in found:
                found[source.name] = replace(source, plugin=plugin)
    return Catalogue(found)
