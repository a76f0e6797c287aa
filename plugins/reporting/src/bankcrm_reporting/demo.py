"""Demo data (the ``seed_demo_data`` hook): today's KPI snapshots of every branch, and a
made-up history before them so that the demo's trend and period comparison have
something to draw.

The history is demo data only, derived from today's figures by a seeded random walk; in a
real bank the daily job builds the history from the first day the plugin runs.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from bankcrm import db
from bankcrm.context import require_scope
from bankcrm.plugin_api import DemoContext
from bankcrm_reporting import snapshots
from bankcrm_reporting.dashboard import bank_today

HISTORY_DAYS = 120


async def seed_demo(demo: DemoContext) -> None:
    today = bank_today()
    async with db.transaction():
        await snapshots.take(today)
    scope = require_scope()
    rows = await db.fetch(
        "SELECT branch_id, metric, value FROM reporting_snapshot WHERE day = $1"
        " AND branch_id = ANY($2::bigint[]) ORDER BY branch_id, metric",
        today,
        sorted(scope.branch_ids),
    )
    made: list[tuple[int, str, object, Decimal]] = []
    for row in rows:
        walk = random.Random(f"{demo.seed}:{row['branch_id']}:{row['metric']}")  # noqa: S311
        value = float(row["value"])
        whole = value == int(value)
        for back in range(1, HISTORY_DAYS + 1):
            value = max(0.0, value * (1 - 0.002 + walk.uniform(-0.02, 0.02)))
            shown = Decimal(round(value)) if whole else Decimal(str(round(value, 4)))
            made.append((row["branch_id"], row["metric"], today - timedelta(days=back), shown))
    if made:
        await db.execute_many(snapshots.UPSERT, made)
