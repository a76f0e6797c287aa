"""Sales analytics: the funnel, win/loss, channels with ROI and the weighted forecast.

Every figure is read under the caller's scope: row-level security and the owner rules
limit it to the caller's branches and to the work of the caller and everyone under them,
so a relationship manager's funnel is their own and a branch manager's the branch's.
Periods are half-open ``[start, end)`` in days of the bank's zone (Asia/Shanghai).
"""

from __future__ import annotations

import inspect
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Annotated, Literal

from msgspec import Meta, Struct

from bankcrm import audit, business_calendar, db
from bankcrm.context import require_scope
from bankcrm.plugin_api import PluginHooks, plugin_hooks
from bankcrm.web.problems import invalid
from bankcrm_sales import settings
from bankcrm_sales.common import DecimalText, Problems, money

ZONE = business_calendar.DEFAULT_ZONE
CHANNELS = ("web", "call_centre", "branch", "referral", "campaign", "partner", "event", "import")
COST_TABLE = "sales_channel_cost"
COST_ENTITY = "sales.channel_cost"


def period(start: date | None, end: date | None) -> tuple[datetime, datetime, date, date]:
    """Default: the last 90 days up to today (inclusive)."""
    today = datetime.now(ZONE).date()
    end = end or today + timedelta(days=1)
    start = start or end - timedelta(days=90)
    if start >= end:
        raise invalid("query.start", "must be before end")
    if (end - start).days > 3660:
        raise invalid("query.end", "at most ten years")
    return (
        datetime.combine(start, time(), ZONE),
        datetime.combine(end, time(), ZONE),
        start,
        end,
    )


class StageFunnel(Struct):
    stage: str
    name: str
    entered: int
    """Opportunities that entered the stage in the period."""
    advanced: int
    """Of those, how many went on to a later stage (won included)."""
    conversion: float | None
    """advanced / entered, in %."""
    avg_days_in_stage: float | None
    """Mean time spent in the stage (still open: until now)."""


class Funnel(Struct):
    start: date
    end: date
    stages: list[StageFunnel]
    won: int
    lost: int
    win_rate: float | None


async def funnel(
    start: date | None = None, end: date | None = None, *, direct: bool = False
) -> Funnel:
    """The funnel from the daily roll-ups (``direct``: from the stage changes themselves,
    the reference the roll-ups are tested and measured against; the answers are equal)."""
    since, until, first, last = period(start, end)
    scope = require_scope()
    home = scope.home_branch_id or min(scope.branch_ids, default=0)
    config = await settings.for_branch(home) if home else settings.SalesSettings()
    # Advancing from a stage: entering any later stage but the lost one.
    onward = {
        s.code: {t.code for t in config.stages[i + 1 :] if t.outcome != "lost"}
        for i, s in enumerate(config.stages)
    }
    entered: dict[str, int] = {}
    advanced: dict[str, int] = {}
    days: dict[str, float] = {}
    if direct:
        rows = await db.fetch(
            "WITH c AS (SELECT s.opportunity, s.to_stage, s.changed_at,"
            " lead(s.to_stage) OVER w AS next_stage, lead(s.changed_at) OVER w AS left_at"
            " FROM sales_stage_change s JOIN sales_opportunity o ON o.id = s.opportunity"
            " WINDOW w AS (PARTITION BY s.opportunity ORDER BY s.changed_at, s.id))"
            " SELECT to_stage, count(*) AS entered, array_agg(next_stage) AS next_stages,"
            " avg(extract(epoch FROM coalesce(left_at, now()) - changed_at)) / 86400 AS days"
            " FROM c WHERE changed_at >= $1 AND changed_at < $2 GROUP BY to_stage",
            since,
            until,
        )
        for r in rows:
            code = r["to_stage"]
            entered[code] = r["entered"]
            advanced[code] = sum(1 for n in r["next_stages"] if n in onward.get(code, ()))
            if r["days"] is not None:
                days[code] = round(float(r["days"]), 2)
        closed = await db.fetchrow(
            "SELECT count(*) FILTER (WHERE status = 'won') AS won,"
            " count(*) FILTER (WHERE status = 'lost') AS lost FROM sales_opportunity"
            " WHERE closed_at >= $1 AND closed_at < $2",
            since,
            until,
        )
    else:
        rows = await db.fetch(
            "SELECT stage, next_stage, sum(entered) AS entered,"
            " sum(stayed_seconds) AS stayed, sum(open_since_seconds) AS open_since,"
            " extract(epoch FROM now()) AS now FROM sales_stage_day"
            " WHERE day >= $1 AND day < $2 GROUP BY stage, next_stage",
            first,
            last,
        )
        seconds: dict[str, Decimal] = {}
        for r in rows:
            code, count = r["stage"], int(r["entered"])
            entered[code] = entered.get(code, 0) + count
            if r["next_stage"] in onward.get(code, ()):
                advanced[code] = advanced.get(code, 0) + count
            spent = r["stayed"] if r["next_stage"] else count * r["now"] - r["open_since"]
            seconds[code] = seconds.get(code, Decimal(0)) + spent
        for code, spent_total in seconds.items():
            if entered[code]:
                days[code] = round(float(spent_total / entered[code] / 86400), 2)
        closed = await db.fetchrow(
            "SELECT coalesce(sum(won), 0) AS won, coalesce(sum(lost), 0) AS lost"
            " FROM sales_opportunity_day WHERE day >= $1 AND day < $2",
            first,
            last,
        )
    stages = []
    for spec in config.stages:
        if spec.outcome != "open":
            continue
        n = entered.get(spec.code, 0)
        moved = advanced.get(spec.code, 0) if n else 0
        stages.append(
            StageFunnel(
                spec.code, spec.name, n, moved,
                round(100.0 * moved / n, 1) if n else None,
                days.get(spec.code) if n else None,
            )
        )  # fmt: skip
    assert closed is not None
    won, lost = int(closed["won"]), int(closed["lost"])
    total = won + lost
    return Funnel(first, last, stages, won, lost, round(100.0 * won / total, 1) if total else None)


class WinLossRow(Struct):
    status: str
    reason: str
    competitor: str
    count: int
    amount: Decimal


async def win_loss(start: date | None = None, end: date | None = None) -> list[WinLossRow]:
    """Closed opportunities by outcome, lost reason and competitor."""
    since, until, _, _ = period(start, end)
    rows = await db.fetch(
        "SELECT status, lost_reason AS reason, competitor, count(*) AS count,"
        " sum(amount) AS amount FROM sales_opportunity WHERE status IN ('won', 'lost')"
        " AND closed_at >= $1 AND closed_at < $2 GROUP BY 1, 2, 3 ORDER BY 1 DESC, 4 DESC",
        since,
        until,
    )
    return [WinLossRow(**dict(r)) for r in rows]


class ChannelRow(Struct):
    channel: str
    leads: int
    opportunities: int
    won: int
    conversion: float | None
    """Won among the channel's opportunities closed in the period, in %."""
    won_amount: Decimal
    cost: Decimal | None
    cost_source: str
    """``marketing`` (the hook), ``table`` (the branch cost table) or ``none``."""
    roi: float | None
    """(won amount - cost) / cost, in %."""


async def channel_costs(
    branch_ids: frozenset[int], first: date, last: date, registry: PluginHooks | None = None
) -> tuple[dict[str, Decimal], str]:
    """Costs per channel: marketing's (the ``sales_channel_costs`` hook) when any plugin
    answers, else the branches' cost table for the months the period touches."""
    hooks = registry or plugin_hooks()
    found: dict[str, Decimal] = {}
    answered = False
    for _plugin, answer in hooks.call_each(
        "sales_channel_costs", branch_ids=branch_ids, start=first, end=last
    ):
        if inspect.isawaitable(answer):
            answer = await answer
        if answer is None:
            continue
        answered = True
        for channel, cost in dict(answer).items():
            found[channel] = found.get(channel, Decimal(0)) + Decimal(cost)
    if answered:
        return found, "marketing"
    rows = await db.fetch(
        f"SELECT channel, sum(cost) AS cost FROM {COST_TABLE}"
        " WHERE month >= date_trunc('month', $1::date) AND month < $2 GROUP BY channel",
        first,
        last,
    )
    return {r["channel"]: r["cost"] for r in rows}, "table" if rows else "none"


async def channels(
    start: date | None = None,
    end: date | None = None,
    registry: PluginHooks | None = None,
    *,
    direct: bool = False,
) -> list[ChannelRow]:
    """Per channel, from the daily roll-ups (``direct``: from the leads and opportunities
    themselves; the answers are equal)."""
    since, until, first, last = period(start, end)
    if direct:
        rows = await db.fetch(
            "WITH l AS (SELECT channel, count(*) AS n FROM sales_lead"
            " WHERE created_at >= $1 AND created_at < $2 GROUP BY channel),"
            " o AS (SELECT channel, count(*) FILTER (WHERE created_at >= $1 AND created_at < $2)"
            " AS n, count(*) FILTER (WHERE status = 'won' AND closed_at >= $1 AND closed_at < $2)"
            " AS won, count(*) FILTER (WHERE status IN ('won', 'lost') AND closed_at >= $1"
            " AND closed_at < $2) AS closed, coalesce(sum(amount) FILTER (WHERE status = 'won'"
            " AND closed_at >= $1 AND closed_at < $2), 0) AS won_amount FROM sales_opportunity"
            " WHERE (created_at >= $1 AND created_at < $2) OR (closed_at >= $1 AND closed_at < $2)"
            " GROUP BY channel)"
            " SELECT c AS channel, coalesce(l.n, 0) AS leads, coalesce(o.n, 0) AS opportunities,"
            " coalesce(o.won, 0) AS won, coalesce(o.closed, 0) AS closed,"
            " coalesce(o.won_amount, 0) AS won_amount FROM unnest($3::text[]) AS c"
            " LEFT JOIN l ON l.channel = c LEFT JOIN o ON o.channel = c",
            since, until, list(CHANNELS),
        )  # fmt: skip
    else:
        rows = await db.fetch(
            "WITH l AS (SELECT channel, sum(leads) AS n FROM sales_lead_day"
            " WHERE day >= $1 AND day < $2 GROUP BY channel),"
            " o AS (SELECT channel, sum(created) AS n, sum(won) AS won,"
            " sum(won) + sum(lost) AS closed, sum(won_amount) AS won_amount"
            " FROM sales_opportunity_day WHERE day >= $1 AND day < $2 GROUP BY channel)"
            " SELECT c AS channel, coalesce(l.n, 0)::int AS leads,"
            " coalesce(o.n, 0)::int AS opportunities, coalesce(o.won, 0)::int AS won,"
            " coalesce(o.closed, 0)::int AS closed, coalesce(o.won_amount, 0) AS won_amount"
            " FROM unnest($3::text[]) AS c"
            " LEFT JOIN l ON l.channel = c LEFT JOIN o ON o.channel = c",
            first, last, list(CHANNELS),
        )  # fmt: skip
    costs, source = await channel_costs(require_scope().branch_ids, first, last, registry)
    answer = []
    for r in rows:
        cost = costs.get(r["channel"])
        answer.append(
            ChannelRow(
                r["channel"], r["leads"], r["opportunities"], r["won"],
                round(100.0 * r["won"] / r["closed"], 1) if r["closed"] else None,
                r["won_amount"], cost, source if cost is not None else "none",
                round(float((r["won_amount"] - cost) / cost) * 100, 1) if cost else None,
            )
        )  # fmt: skip
    return answer


class ForecastRow(Struct):
    month: date
    opportunities: int
    amount: Decimal
    weighted: Decimal
    """Sum of amount x stage probability."""


async def forecast(months: int = 6) -> list[ForecastRow]:
    """The open pipeline by expected closing month (none given: this month)."""
    today = datetime.now(ZONE).date().replace(day=1)
    rows = await db.fetch(
        "SELECT date_trunc('month', greatest(coalesce(expected_close, $1), $1))::date AS month,"
        " count(*) AS opportunities, sum(amount) AS amount,"
        " round(sum(amount * probability / 100.0), 2) AS weighted FROM sales_opportunity"
        " WHERE status = 'open' GROUP BY 1 HAVING date_trunc('month',"
        " greatest(coalesce(expected_close, $1), $1))::date < ($1 + make_interval(months => $2))"
        " ORDER BY 1",
        today,
        months,
    )
    return [ForecastRow(**dict(r)) for r in rows]


# --- the per-branch cost table ------------------------------------------------------------


class ChannelCostIn(Struct, forbid_unknown_fields=True, kw_only=True):
    branch_id: Annotated[int, Meta(ge=1, le=2**31 - 1)]
    channel: Literal["web", "call_centre", "branch", "referral", "campaign", "partner", "event",
                     "import"]  # fmt: skip
    month: date
    """Any day of the month; stored as its first day."""
    cost: DecimalText


class ChannelCostOut(Struct):
    branch_id: int
    channel: str
    month: date
    cost: Decimal


async def set_channel_cost(data: ChannelCostIn) -> ChannelCostOut:
    """The cost of a channel in a branch for a month (CNY), replacing what was set."""
    problems = Problems()
    cost = money(problems, "body.cost", data.cost)
    if data.branch_id not in require_scope().branch_ids:
        problems.add("body.branch_id", "the branch is outside your scope")
    problems.raise_if_any()
    month = data.month.replace(day=1)
    async with db.transaction():
        before = await db.fetchval(
            f"SELECT cost FROM {COST_TABLE} WHERE branch_id = $1 AND channel = $2 AND month = $3",
            data.branch_id, data.channel, month,
        )  # fmt: skip
        await db.fetch(
            f"INSERT INTO {COST_TABLE} (branch_id, channel, month, cost) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (branch_id, channel, month) DO UPDATE SET cost = $4",
            data.branch_id, data.channel, month, cost,
        )  # fmt: skip
        await audit.record(
            audit.Action.UPDATE if before is not None else audit.Action.CREATE, COST_ENTITY,
            f"{data.channel}:{month.isoformat()}", branch_id=data.branch_id,
            before=None if before is None else {"cost": before}, after={"cost": cost},
        )  # fmt: skip
    assert cost is not None
    return ChannelCostOut(data.branch_id, data.channel, month, cost)


async def list_channel_costs(start: date | None, end: date | None) -> list[ChannelCostOut]:
    _, _, first, last = period(start, end)
    rows = await db.fetch(
        f"SELECT branch_id, channel, month, cost FROM {COST_TABLE}"
        " WHERE month >= date_trunc('month', $1::date) AND month < $2"
        " ORDER BY month, branch_id, channel",
        first,
        last,
    )
    return [ChannelCostOut(**dict(r)) for r in rows]


async def competitor_deals(branch_ids: frozenset[int], since: date) -> list[dict[str, object]]:
    """Opportunities won or lost against a named competitor in ``branch_ids``, closed on
    or after ``since`` (Beijing time), for marketing's competitor records (the
    ``marketing_competitor_deals`` hook); the product category is the largest line's."""
    rows = await db.fetch(
        "SELECT o.id, o.branch_id, o.competitor, o.status, o.amount, o.lost_reason,"
        " o.customer, (o.closed_at AT TIME ZONE 'Asia/Shanghai')::date AS closed_on,"
        " (SELECT p.category FROM sales_opportunity_product l"
        "  JOIN customer_archive_product p ON p.id = l.product"
        "  WHERE l.opportunity = o.id ORDER BY l.amount DESC, l.id LIMIT 1) AS category"
        " FROM sales_opportunity o WHERE o.status IN ('won', 'lost') AND o.competitor <> ''"
        " AND o.branch_id = ANY($1::bigint[]) AND o.closed_at IS NOT NULL"
        " AND (o.closed_at AT TIME ZONE 'Asia/Shanghai')::date >= $2 ORDER BY o.id",
        sorted(branch_ids),
        since,
    )
    return [
        {
            "ref": f"opportunity:{r['id']}",
            "branch_id": r["branch_id"],
            "competitor": r["competitor"],
            "outcome": r["status"],
            "closed_on": r["closed_on"],
            "amount": r["amount"],
            "reason": r["lost_reason"] if r["status"] == "lost" else "",
            "customer_id": r["customer"],
            "product_category": r["category"],
        }
        for r in rows
    ]
