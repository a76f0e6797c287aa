"""The dashboard's answer: the viewer's part of the branch tree, each KPI for the chosen
branch, one KPI broken down by its sub-branches (the drill-down), and the period
comparison from the daily snapshots.

Everything follows the viewer's scope: the branches offered are those in scope, a branch
outside it is absent (404), live figures run each plugin's query under the viewer's scope
narrowed to a subtree, and snapshots are read under row-level security.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from msgspec import Struct

from bankcrm import branches, business_calendar, db
from bankcrm.branches import TreeSnapshot
from bankcrm.context import Scope, require_scope
from bankcrm.web.problems import invalid, not_found
from bankcrm_reporting import figures, registry
from bankcrm_reporting.access import HISTORY_READ

PERIODS = (7, 30, 90, 365)
"""Days a dashboard compares: this many days ago against today."""


def bank_today() -> date:
    return datetime.now(business_calendar.DEFAULT_ZONE).date()


class NodeOut(Struct):
    id: int
    code: str
    name: str
    name_en: str
    level: int
    has_children: bool


class KpiOut(Struct):
    name: str
    plugin: str
    title: str
    title_en: str
    unit: str
    description: str
    direction: str
    owner: str
    dimensions: list[str]


class FigureOut(Struct):
    metric: str
    value: float | None
    previous: float | None
    """The snapshot at the start of the period; None without history."""
    change: float | None
    """``value - previous``."""


class BarOut(Struct):
    branch: NodeOut
    value: float | None


class PointOut(Struct):
    day: date
    value: float


class DashboardOut(Struct):
    node: NodeOut
    trail: list[NodeOut]
    """From the top of the viewer's scope down to ``node``: the way back up."""
    branches: list[NodeOut]
    """Every branch in the viewer's scope, in tree order (the branch filter)."""
    kpis: list[KpiOut]
    metric: str
    days: int
    today: date
    figures: list[FigureOut]
    breakdown: list[BarOut]
    """``metric`` for each sub-branch of ``node`` in scope (empty at a leaf)."""
    trend: list[PointOut]
    previous_trend: list[PointOut]
    """The period before, shifted by ``days`` onto the same axis."""
    history: bool
    """Whether the viewer may read snapshots (trend and comparison)."""


def kpi_out(kpi: registry.Kpi) -> KpiOut:
    spec = kpi.spec
    return KpiOut(
        spec.name,
        kpi.plugin,
        spec.title,
        spec.title_en,
        spec.unit,
        spec.description,
        kpi.direction,
        kpi.owner,
        list(spec.dimensions),
    )


def list_kpis() -> list[KpiOut]:
    return [kpi_out(kpi) for kpi in registry.registered()]


def _node(tree: TreeSnapshot, branch_id: int, scope: Scope) -> NodeOut:
    node = tree.nodes[branch_id]
    children = any(
        n.parent_id == branch_id and n.id in scope.branch_ids for n in tree.nodes.values()
    )
    return NodeOut(node.id, node.code, node.name, node.name_en, node.level, children)


def tops(tree: TreeSnapshot, scope: Scope) -> list[int]:
    """The highest branches in scope (usually one: the viewer's own)."""
    found = [
        i
        for i in scope.branch_ids
        if i in tree.nodes and tree.nodes[i].parent_id not in scope.branch_ids
    ]
    return sorted(found, key=lambda i: tree.nodes[i].path)


def default_branch(tree: TreeSnapshot, scope: Scope) -> int | None:
    highest = tops(tree, scope)
    if scope.home_branch_id in highest:
        return scope.home_branch_id
    return highest[0] if highest else None


def children(tree: TreeSnapshot, branch_id: int, scope: Scope) -> list[int]:
    found = [
        n.id for n in tree.nodes.values() if n.parent_id == branch_id and n.id in scope.branch_ids
    ]
    return sorted(found, key=lambda i: tree.nodes[i].path)


def trail(tree: TreeSnapshot, branch_id: int, scope: Scope) -> list[int]:
    return [i for i in reversed(tree.ancestors(branch_id)) if i in scope.branch_ids]


def subtree_in_scope(tree: TreeSnapshot, branch_id: int, scope: Scope) -> frozenset[int]:
    return tree.subtree(branch_id) & scope.branch_ids


async def snapshot_values(branch_id: int, day: date) -> dict[str, float]:
    """Each KPI's snapshot for ``branch_id`` on ``day`` or the latest before it."""
    rows = await db.fetch(
        "SELECT DISTINCT ON (metric) metric, value FROM reporting_snapshot"
        " WHERE branch_id = $1 AND day <= $2 ORDER BY metric, day DESC",
        branch_id,
        day,
    )
    return {r["metric"]: float(r["value"]) for r in rows}


async def series(branch_id: int, metric: str, first: date, last: date) -> list[PointOut]:
    rows = await db.fetch(
        "SELECT day, value FROM reporting_snapshot WHERE branch_id = $1 AND metric = $2"
        " AND day BETWEEN $3 AND $4 ORDER BY day",
        branch_id,
        metric,
        first,
        last,
    )
    return [PointOut(r["day"], float(r["value"])) for r in rows]


async def dashboard(branch_id: int | None, metric: str | None, days: int) -> DashboardOut:
    scope = require_scope()
    tree = await branches.snapshot()
    if days not in PERIODS:
        raise invalid("query.days", f"one of {', '.join(map(str, PERIODS))}")
    kpis = registry.registered()
    by_name = {kpi.name: kpi for kpi in kpis}
    if metric is not None and metric not in by_name:
        raise invalid("query.metric", "not a registered KPI (GET /api/v1/reporting/kpis)")
    chosen = branch_id if branch_id is not None else default_branch(tree, scope)
    if chosen is None or chosen not in scope.branch_ids or chosen not in tree.nodes:
        raise not_found(f"branch {branch_id}")
    metric = metric or (kpis[0].name if kpis else "")
    today = bank_today()

    live = await figures.compute(kpis, subtree_in_scope(tree, chosen, scope))
    history = scope.has(HISTORY_READ)
    before = await snapshot_values(chosen, today - timedelta(days=days)) if history else {}
    figure_list = []
    for kpi in kpis:
        value, previous = live.get(kpi.name), before.get(kpi.name)
        change = value - previous if value is not None and previous is not None else None
        figure_list.append(FigureOut(kpi.name, value, previous, change))

    breakdown = []
    if metric:
        for child in children(tree, chosen, scope):
            answer = await figures.compute([by_name[metric]], subtree_in_scope(tree, child, scope))
            breakdown.append(BarOut(_node(tree, child, scope), answer[metric]))

    trend: list[PointOut] = []
    previous_trend: list[PointOut] = []
    if history and metric:
        start = today - timedelta(days=days)
        trend = await series(chosen, metric, start + timedelta(days=1), today)
        earlier = await series(
            chosen, metric, start - timedelta(days=days) + timedelta(days=1), start
        )
        previous_trend = [PointOut(p.day + timedelta(days=days), p.value) for p in earlier]
        current = live.get(metric)
        if current is not None and (not trend or trend[-1].day != today):
            trend.append(PointOut(today, current))

    return DashboardOut(
        node=_node(tree, chosen, scope),
        trail=[_node(tree, i, scope) for i in trail(tree, chosen, scope)],
        branches=[
            _node(tree, i, scope)
            for i in sorted(
                (i for i in scope.branch_ids if i in tree.nodes), key=lambda i: tree.nodes[i].path
            )
        ],
        kpis=[kpi_out(kpi) for kpi in kpis],
        metric=metric,
        days=days,
        today=today,
        figures=figure_list,
        breakdown=breakdown,
        trend=trend,
        previous_trend=previous_trend,
        history=history,
    )
