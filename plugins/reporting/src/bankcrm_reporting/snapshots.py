"""Daily KPI snapshots: each KPI for each branch's subtree, kept per day.

The daily job (and the demo) computes every KPI once per branch in its scope with the
scope narrowed to that branch's subtree, and upserts the figure for the bank's day: run it
twice on a day and the second run overwrites the first with the same or a fresher figure,
never a second row. Dashboards read the snapshots for trends and period comparison.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from bankcrm import branches, db
from bankcrm.context import require_scope
from bankcrm_reporting import figures, registry
from bankcrm_reporting.dashboard import bank_today

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


HISTORY_DAYS = 120
"""Days of made-up history the demo writes before today's real snapshot."""


async def seed_demo_history(seed: int) -> None:
    """Demo data only: today's snapshots of every branch in scope, and a history before
    them derived from today's figures by a seeded random walk, so that the demo's trend and
    period comparison have something to draw. A real bank's history starts with the job."""
    today = bank_today()
    async with db.transaction():
        await take(today)
    scope = require_scope()
    rows = await db.fetch(
        "SELECT branch_id, metric, value FROM reporting_snapshot WHERE day = $1"
        " AND branch_id = ANY($2::bigint[]) ORDER BY branch_id, metric",
        today,
        sorted(scope.branch_ids),
    )
    made: list[tuple[int, str, date, Decimal]] = []
    for row in rows:
        walk = random.Random(f"{seed}:{row['branch_id']}:{row['metric']}")  # noqa: S311
        value = float(row["value"])
        whole = value == int(value)
        for back in range(1, HISTORY_DAYS + 1):
            value = max(0.0, value * (1 - 0.002 + walk.uniform(-0.02, 0.02)))
            shown = Decimal(round(value)) if whole else Decimal(str(round(value, 4)))
            made.append((row["branch_id"], row["metric"], today - timedelta(days=back), shown))
    if made:
        await db.execute_many(UPSERT, made)
