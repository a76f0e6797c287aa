"""KPIs sales registers with the kernel (``register_metrics``): each is computed under the
caller's scope, so row-level security and the owner rules limit every figure."""

from __future__ import annotations

from decimal import Decimal

from bankcrm import db
from bankcrm.plugin_api import MetricSpec


async def open_pipeline() -> Decimal:
    value = await db.fetchval(
        "SELECT coalesce(sum(amount), 0) FROM sales_opportunity WHERE status = 'open'"
    )
    return Decimal(value)


async def weighted_pipeline() -> Decimal:
    value = await db.fetchval(
        "SELECT coalesce(sum(amount * probability / 100.0), 0) FROM sales_opportunity"
        " WHERE status = 'open'"
    )
    return Decimal(value).quantize(Decimal("0.01"))


async def win_rate() -> float:
    row = await db.fetchrow(
        "SELECT count(*) FILTER (WHERE status = 'won') AS won,"
        " count(*) FILTER (WHERE status <> 'open') AS closed FROM sales_opportunity"
    )
    assert row is not None
    return round(100.0 * row["won"] / row["closed"], 1) if row["closed"] else 0.0


async def lead_conversion_rate() -> float:
    row = await db.fetchrow(
        "SELECT count(*) FILTER (WHERE status = 'converted') AS converted, count(*) AS total"
        " FROM sales_lead"
    )
    assert row is not None
    return round(100.0 * row["converted"] / row["total"], 1) if row["total"] else 0.0


async def overdue_follow_ups() -> int:
    value = await db.fetchval(
        "SELECT (SELECT count(*) FROM sales_lead WHERE next_follow_up_at < now()"
        " AND status IN ('new', 'contacted', 'qualified'))"
        " + (SELECT count(*) FROM sales_opportunity WHERE next_follow_up_at < now()"
        " AND status = 'open')"
    )
    return int(value)


METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("sales.open_pipeline", "在途商机金额", "Open pipeline", "CNY",
               "Amount of the open opportunities.", open_pipeline),
    MetricSpec("sales.weighted_pipeline", "加权预测金额", "Weighted pipeline", "CNY",
               "Open amounts weighted by their stage probability.", weighted_pipeline),
    MetricSpec("sales.win_rate", "赢单率", "Win rate", "%",
               "Won among closed opportunities.", win_rate),
    MetricSpec("sales.lead_conversion_rate", "线索转化率", "Lead conversion rate", "%",
               "Converted leads among all leads.", lead_conversion_rate),
    MetricSpec("sales.overdue_follow_ups", "逾期未跟进", "Overdue follow-ups", "count",
               "Open leads and opportunities past their next follow-up.", overdue_follow_ups),
)  # fmt: skip
