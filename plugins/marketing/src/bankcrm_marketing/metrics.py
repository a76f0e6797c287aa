"""KPIs marketing registers with the kernel (``register_metrics``): each is computed under
the caller's scope, so row-level security limits every figure."""

from __future__ import annotations

from decimal import Decimal

from bankcrm import db
from bankcrm.plugin_api import MetricSpec


async def active_campaigns() -> int:
    return int(await db.fetchval("SELECT count(*) FROM marketing_campaign WHERE status = 'active'"))


async def contacts_30_days() -> int:
    value = await db.fetchval(
        "SELECT count(*) FROM marketing_contact WHERE status = 'sent'"
        " AND sent_at > now() - interval '30 days'"
    )
    return int(value)


async def response_rate_30_days() -> float:
    row = await db.fetchrow(
        "SELECT count(*) AS made, count(response) AS answered FROM marketing_contact"
        " WHERE status = 'sent' AND sent_at > now() - interval '30 days'"
    )
    assert row is not None
    return round(100.0 * row["answered"] / row["made"], 1) if row["made"] else 0.0


async def cost_this_month() -> Decimal:
    value = await db.fetchval(
        "SELECT coalesce(sum(amount), 0) FROM marketing_cost"
        " WHERE spent_on >= date_trunc('month', (now() AT TIME ZONE 'Asia/Shanghai'))::date"
    )
    return Decimal(value)


METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("marketing.active_campaigns", "进行中的营销活动", "Active campaigns", "个",
               compute=active_campaigns, direction="", owner="营销管理部 Marketing"),
    MetricSpec("marketing.contacts_30d", "近30天营销接触次数", "Contacts, last 30 days", "次",
               compute=contacts_30_days, direction="up", owner="营销管理部 Marketing"),
    MetricSpec("marketing.response_rate_30d", "近30天客户反馈率", "Response rate, last 30 days",
               "%", compute=response_rate_30_days, direction="up", owner="营销管理部 Marketing"),
    MetricSpec("marketing.cost_month", "本月营销成本", "Marketing cost this month", "元",
               compute=cost_this_month, direction="down", owner="营销管理部 Marketing"),
)  # fmt: skip
