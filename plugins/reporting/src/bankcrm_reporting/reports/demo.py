"""Demo saved reports: each demo relationship manager's own monthly customer report (run
once, so the inbox has a result) and a shared weekly report of each branch manager."""

from __future__ import annotations

from bankcrm import db
from bankcrm.plugin_api import DemoContext, user_scope
from bankcrm_reporting.reports import services
from bankcrm_reporting.reports.services import MeasureIn, ReportIn, SortIn

MEASURES = [
    MeasureIn(measure="customers", aggregation="count"),
    MeasureIn(measure="aum", aggregation="sum"),
]
REPORTS = (
    (
        "demo.bj.rm",
        ReportIn(
            name="我的客户分层月报", source="customer_archive.customers",
            dimensions=["value_tier"], measures=MEASURES, schedule="0 8 1 * *",
            sort=[SortIn(key="aum_sum", descending=True)],
        ),
    ),
    (
        "demo.sh.rm",
        ReportIn(
            name="客户类型与风险承受能力", source="customer_archive.customers",
            dimensions=["kind", "risk_tolerance"], measures=MEASURES, schedule="0 8 1 * *",
        ),
    ),
    (
        "demo.bj.manager",
        ReportIn(
            name="分行新建档客户周报", source="customer_archive.customers",
            dimensions=["branch", "created_on"], measures=MEASURES[:1], period="last_week",
            schedule="0 9 * * 1", shared=True,
        ),
    ),
    (
        "demo.sh.manager",
        ReportIn(
            name="分行客户资产月报", source="customer_archive.customers",
            dimensions=["branch"], measures=MEASURES, period="last_month",
            schedule="0 9 1 * *", shared=True,
        ),
    ),
)  # fmt: skip


async def seed_reports(demo: DemoContext) -> None:
    today = services.bank_today()
    for username, definition in REPORTS:
        user_id = demo.users.get(username)
        scope = await user_scope(user_id) if user_id is not None else None
        if scope is None or scope.home_branch_id is None:
            continue
        async with db.under_scope(scope):
            report = await services.create_report(definition)
            await services.execute(report, scope, "manual", today)
