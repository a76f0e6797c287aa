"""Every plugin's KPIs, broken down along the branch tree as the viewer may see it.

A KPI is computed by its plugin's ``MetricSpec.compute`` under a bound scope, so row-level
security decides what it counts. A breakdown computes it once over the chosen branch's
subtree and once per child branch's subtree, each time with the viewer's scope narrowed
to that subtree (and to the branches where the KPI's plugin is enabled): a branch the
viewer cannot see is never computed, and a sub-branch manager's view of their branch is
their branch alone. With this month's target of each branch where one is set.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from msgspec import Struct

from bankcrm import branches, db
from bankcrm.business_calendar import DEFAULT_ZONE
from bankcrm.context import bind_scope, require_scope
from bankcrm.plugin_api import MetricSpec, plugin_hooks
from bankcrm.web.problems import not_found


@dataclass(frozen=True)
class Kpi:
    plugin: str
    spec: MetricSpec


class KpiOut(Struct):
    name: str
    plugin: str
    title: str
    title_en: str
    unit: str
    description: str
    direction: str = ""
    """``up``: more is better; ``down``: less is better; empty: neither."""
    owner: str = ""
    """Who answers for the definition (the registering plugin when it names nobody)."""
    dimensions: list[str] = []


class BranchValue(Struct):
    branch_id: int
    code: str
    name: str
    value: float | None
    """None where the KPI's plugin is not enabled for any branch of this subtree."""
    target: float | None = None
    attainment: float | None = None
    """Value over target, in % (None without a target)."""


class BreakdownOut(Struct):
    kpi: KpiOut
    period: str
    branch: BranchValue
    children: list[BranchValue]


def catalogue() -> dict[str, Kpi]:
    """Every live KPI the running plugins register, by name."""
    found: dict[str, Kpi] = {}
    for plugin, specs in plugin_hooks().call_each("register_metrics"):
        for spec in specs or ():
            if spec.compute is not None:
                found[spec.name] = Kpi(plugin, spec)
    return found


def _kpi_out(kpi: Kpi) -> KpiOut:
    spec = kpi.spec
    return KpiOut(
        spec.name,
        kpi.plugin,
        spec.title,
        spec.title_en,
        spec.unit,
        spec.description,
        spec.direction if spec.direction in ("up", "down") else "",
        spec.owner or kpi.plugin,
        list(spec.dimensions),
    )


def list_kpis() -> list[KpiOut]:
    return [_kpi_out(k) for k in sorted(catalogue().values(), key=lambda k: k.spec.name)]


def this_period() -> str:
    return datetime.now(DEFAULT_ZONE).strftime("%Y-%m")


async def _value(kpi: Kpi, subtree: frozenset[int]) -> float | None:
    tree = await branches.snapshot()
    narrowed = require_scope().narrowed(subtree & tree.enabled_branches(kpi.plugin))
    if not narrowed.branch_ids:
        return None
    with bind_scope(narrowed):
        value: Any = await kpi.spec.compute() if kpi.spec.compute else None
    return float(value) if isinstance(value, int | float | Decimal) else None


async def _targets(name: str, period: str, ids: list[int]) -> dict[int, float]:
    rows = await db.fetch(
        "SELECT branch_id, value FROM reporting_target WHERE metric = $1 AND period = $2"
        " AND branch_id = ANY($3::bigint[]) AND status = 'open'",
        name, period, ids,
    )  # fmt: skip
    return {r["branch_id"]: float(r["value"]) for r in rows}


async def breakdown(name: str, branch_id: int | None = None) -> BreakdownOut:
    """The KPI over ``branch_id``'s subtree (default: the viewer's highest branch) and
    over each of its child branches' subtrees the viewer can see."""
    kpi = catalogue().get(name)
    if kpi is None:
        raise not_found(f"KPI {name!r}")
    scope = require_scope()
    tree = await branches.snapshot()
    visible = scope.branch_ids
    if branch_id is None:
        tops = [b for b in visible if tree.nodes[b].parent_id not in visible]
        branch_id = min(tops, key=lambda b: (tree.nodes[b].level, b)) if tops else None
    if branch_id is None or branch_id not in visible or branch_id not in tree.nodes:
        raise not_found(f"branch {branch_id}")
    children = sorted(
        (n for n in tree.nodes.values() if n.parent_id == branch_id and n.id in visible),
        key=lambda n: n.code,
    )
    period = this_period()
    targets = await _targets(name, period, [branch_id, *(c.id for c in children)])

    async def entry(node_id: int, subtree: frozenset[int]) -> BranchValue:
        node = tree.nodes[node_id]
        value = await _value(kpi, subtree & visible)
        target = targets.get(node_id)
        attainment = round(100 * value / target, 1) if value is not None and target else None
        return BranchValue(node.id, node.code, node.name, value, target, attainment)

    top = await entry(branch_id, tree.subtree(branch_id))
    rows = [await entry(c.id, tree.subtree(c.id)) for c in children]
    return BreakdownOut(_kpi_out(kpi), period, top, rows)
