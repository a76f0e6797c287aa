"""Daily KPI snapshots: each KPI for each branch's subtree, kept per day.

The daily job (and the demo) computes every KPI once per branch in its scope with the
scope narrowed to that branch's subtree, and upserts the figure for the bank's day: run it
twice on a day and the second run overwrites the first with the same or a fresher figure,
never a second row. Dashboards read the snapshots for trends and period comparison.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from bankcrm import branches, db
from bankcrm.context import require_scope
from bankcrm_reporting import figures, registry

UPSERT = (
    "INSERT INTO reporting_snapshot (branch_id, metric, day, value, computed_at)"
    " VALUES ($1, $2, $3, $4, now()) ON CONFLICT (branch_id, metric, day)"
    " DO UPDATE SET value = EXCLUDED.value, computed_at = now()"
)


async def take(day: date) -> int:
    """Snapshot every KPI for every branch in scope on ``day``; how many figures."""
    scope = require_scope()
    tree = await branches.snapshot()
    kpis = registry.registered()
    rows: list[tuple[int, str, date, Decimal]] = []
    for branch_id in sorted(scope.branch_ids):
        node = tree.nodes.get(branch_id)
        if node is None or not node.active:
            continue
        values = await figures.compute(kpis, tree.subtree(branch_id) & scope.branch_ids)
        rows.extend(
            (branch_id, name, day, Decimal(str(round(value, 4))))
            for name, value in values.items()
            if value is not None
        )
    if rows:
        await db.execute_many(UPSERT, rows)
    return len(rows)
