"""Computing a KPI for a set of branches: the plugin's own query under a narrowed scope.

The scope is the viewer's (or the job's) narrowed to the branches asked for and to those
where the KPI's plugin is enabled, so a figure can never contain a row its viewer could
not read: row-level security and every access rule still apply (``db.under_scope`` also
re-scopes the connection of a transaction the caller holds).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from bankcrm import branches, db
from bankcrm.context import require_scope
from bankcrm_reporting.registry import Kpi


def _number(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


async def compute(kpis: Iterable[Kpi], branch_ids: frozenset[int]) -> dict[str, float | None]:
    """Each KPI over ``branch_ids`` (intersected with the bound scope and with the branches
    where its plugin is enabled); None where nothing of it is left to compute."""
    scope = require_scope()
    tree = await branches.snapshot()
    answer: dict[str, float | None] = {}
    for kpi in kpis:
        visible = scope.narrowed(branch_ids & tree.enabled_branches(kpi.plugin))
        if not visible.branch_ids or kpi.spec.compute is None:
            answer[kpi.name] = None
            continue
        async with db.under_scope(visible):
            answer[kpi.name] = _number(await kpi.spec.compute())
    return answer
