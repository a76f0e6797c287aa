"""Demo data (the ``seed_demo_data`` hook): this month's customer and AUM targets in each
branch that has staff in the demo, so the breakdowns show attainment and no branch sees
another's targets."""

from __future__ import annotations

from decimal import Decimal

from bankcrm import audit, db
from bankcrm.plugin_api import DemoContext
from bankcrm_reporting import snapshots
from bankcrm_reporting.kpis import this_period
from bankcrm_reporting.reports.demo import seed_reports
from bankcrm_reporting.services import ENTITY, TABLE

DEMO_BRANCHES = ("BJ", "BJ-HD", "SH", "SH-PD")
TARGETS = (
    ("customer_archive.customers", Decimal(50), "本月客户数目标", "按网点客户经理人数分解"),
    ("customer_archive.aum", Decimal(50_000_000), "本月管理资产规模目标", "含存款、理财与基金"),
)

ALERT_SHARE = Decimal("0.6")
"""The demo's alert threshold: 60 % of the target."""


async def seed_demo(demo: DemoContext) -> None:
    period = this_period()
    async with db.transaction():
        for code in DEMO_BRANCHES:
            branch_id = demo.branches.get(code)
            if branch_id is None:
                continue
            for metric, value, title, body in TARGETS:
                row_id = await db.fetchval(
                    f"INSERT INTO {TABLE} (branch_id, metric, period, value, threshold, title,"
                    " body, status, created_at, updated_at)"
                    " VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', now(), now()) RETURNING id",
                    branch_id, metric, period, value, value * ALERT_SHARE, f"{title}（{code}）",
                    body,
                )  # fmt: skip
                await audit.record(
                    audit.Action.CREATE, ENTITY, row_id, branch_id=branch_id, after={"demo": True}
                )
    await snapshots.seed_demo_history(demo.seed)
    await seed_reports(demo)
