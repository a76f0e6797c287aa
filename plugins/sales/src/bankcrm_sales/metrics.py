"""KPIs sales registers with the kernel (``register_metrics``): each is computed under the
caller's scope, so row-level security and the owner rules limit every figure."""

from __future__ import annotations

from decimal import Decimal

from bankcrm import db
from bankcrm.plugin_api import MetricSpec
from bankcrm_sales import analytics


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


async def channel_roi() -> float:
    """ROI of all channels together over the last 90 days, in % (0 without costs)."""
    rows = await analytics.channels()
    cost = sum((r.cost or Decimal(0) for r in rows), Decimal(0))
    won = sum((r.won_amount for r in rows if r.cost), Decimal(0))
    return round(float((won - cost) / cost) * 100, 1) if cost else 0.0


async def forecast_this_month() -> Decimal:
    rows = await analytics.forecast(1)
    return rows[0].weighted if rows else Decimal(0)


METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("sales.open_pipeline", "在途商机金额", "Open pipeline", "CNY",
               "Amount of the open opportunities.", open_pipeline, direction="up",
               owner="销售管理部 Sales management"),
    MetricSpec("sales.weighted_pipeline", "加权预测金额", "Weighted pipeline", "CNY",
               "Open amounts weighted by their stage probability.", weighted_pipeline,
               direction="up",
               owner="销售管理部 Sales management"),
    MetricSpec("sales.win_rate", "赢单率", "Win rate", "%",
               "Won among closed opportunities.", win_rate, direction="up",
               owner="销售管理部 Sales management"),
    MetricSpec("sales.lead_conversion_rate", "线索转化率", "Lead conversion rate", "%",
               "Converted leads among all leads.", lead_conversion_rate, direction="up",
               owner="销售管理部 Sales management"),
    MetricSpec("sales.overdue_follow_ups", "逾期未跟进", "Overdue follow-ups", "count",
               "Open leads and opportunities past their next follow-up.", overdue_follow_ups,
               direction="down",
               owner="销售管理部 Sales management"),
    MetricSpec("sales.channel_roi", "渠道投入产出比", "Channel ROI", "%",
               "Won amount against channel cost, last 90 days (analytics/channels).",
               channel_roi, direction="up", owner="销售管理部 Sales management"),
    MetricSpec("sales.forecast_this_month", "本月加权预测", "Forecast this month", "CNY",
               "Open amounts closing this month weighted by probability (analytics/forecast).",
               forecast_this_month, direction="up", owner="销售管理部 Sales management"),
)  # fmt: skip
