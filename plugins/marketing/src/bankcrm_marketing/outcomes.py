"""The outcome ledger (shown, offered, accepted, declined with the reason, product opened,
revenue, complaint), campaign results against the control group, and ROI.

Outcomes come from the staff (REST), from the responses to contacts (accepted, declined)
and from the archive: a holding opened of the product a campaign promotes is recorded for
the customer's membership of that campaign, in the target group and in the control group
alike, so the difference between the groups is what the campaign changed (uplift). The
ledger is exposed for the next training run of the recommendation models.
"""

from __future__ import annotations

import inspect
import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from msgspec import Meta, Struct

from bankcrm import audit, db
from bankcrm.plugin_api import PluginHooks, plugin_hooks
from bankcrm.web.pagination import Page, decode_cursor, encode_cursor
from bankcrm.web.problems import Problem, invalid, not_found
from bankcrm_customer_archive import services as archive
from bankcrm_marketing import campaigns
from bankcrm_marketing.common import (
    CAMPAIGN,
    CONTACT,
    COST,
    MEMBER,
    Id,
    LongText,
    Money,
    money_checked,
)

OUTCOME = "marketing_outcome"
ENTITY_OUTCOME = "marketing.outcome"
ATTRIBUTION_DAYS = 30
"""A product opened up to this many days after a campaign's end still counts for it."""
Kind = Literal["shown", "offered", "accepted", "declined", "product_opened", "revenue", "complaint"]
CONVERSION = "product_opened"
REVENUE_KINDS = ("product_opened", "revenue")


class OutcomeIn(Struct, forbid_unknown_fields=True, kw_only=True):
    customer_id: Id
    kind: Kind
    campaign_id: Id | None = None
    """The campaign the outcome belongs to; the customer must be one of its members."""
    product_code: Annotated[str, Meta(min_length=1, max_length=32)] | None = None
    reason: LongText = ""
    """Required when declined (why) and for a complaint (what about)."""
    amount: Money | None = None
    """Revenue in CNY (required for ``revenue``)."""


class OutcomeOut(Struct):
    id: int
    branch_id: int
    customer_id: int
    campaign_id: int | None
    member_id: int | None
    group: str | None
    product_code: str | None
    kind: str
    reason: str
    amount: Decimal | None
    source: str
    at: datetime


class GroupResult(Struct):
    members: int
    converted: int
    rate: float
    revenue: Decimal


class CampaignResults(Struct):
    campaign_id: int
    target: GroupResult
    control: GroupResult
    uplift: float | None
    """Conversion rate of the target group minus the control group's (None: no control)."""
    uplift_low: float | None
    uplift_high: float | None
    """95% interval of the uplift (normal approximation)."""
    incremental_conversions: float | None
    cost: Decimal
    contacts: int
    responses: int
    revenue: Decimal
    """Revenue recorded for the target group."""
    roi: float | None
    """(revenue - cost) / cost, in %; None without cost."""


class RoiRow(Struct):
    key: str
    campaigns: int
    cost: Decimal
    revenue: Decimal
    roi: float | None


class RoiOut(Struct):
    start: date
    end: date
    by_campaign: list[RoiRow]
    by_channel: list[RoiRow]
    by_product: list[RoiRow]


COLUMNS = (
    'o.id, o.branch_id, o.customer, o.campaign, o.member, m."group", o.product_code, o.kind,'
    " o.reason, o.amount, o.source, o.at"
)


def out(row: Any) -> OutcomeOut:
    return OutcomeOut(
        id=row["id"],
        branch_id=row["branch_id"],
        customer_id=row["customer"],
        campaign_id=row["campaign"],
        member_id=row["member"],
        group=row["group"],
        product_code=row["product_code"],
        kind=row["kind"],
        reason=row["reason"],
        amount=row["amount"],
        source=row["source"],
        at=row["at"],
    )


async def _get(outcome_id: int) -> OutcomeOut:
    row = await db.fetchrow(
        f"SELECT {COLUMNS} FROM {OUTCOME} o LEFT JOIN {MEMBER} m ON m.id = o.member"
        " WHERE o.id = $1",
        outcome_id,
    )
    if row is None:
        raise not_found(f"outcome {outcome_id}")
    return out(row)


async def get_outcome(outcome_id: int) -> OutcomeOut:
    return await _get(outcome_id)


async def record_outcome(data: OutcomeIn) -> OutcomeOut:
    """Record an outcome by hand (staff); audited."""
    if data.kind in ("declined", "complaint") and not data.reason.strip():
        raise invalid("body.reason", f"required for {data.kind}")
    if data.kind == "revenue" and data.amount is None:
        raise invalid("body.amount", "required for revenue")
    if data.amount is not None:
        money_checked(data.amount, "body.amount")
    async with db.transaction():
        member = None
        product = data.product_code
        if data.campaign_id is not None:
            campaign = await campaigns.campaign_row(data.campaign_id)
            member = await db.fetchrow(
                f"SELECT id, branch_id FROM {MEMBER} WHERE campaign = $1 AND customer = $2",
                data.campaign_id,
                data.customer_id,
            )
            if member is None:
                raise invalid("body.customer_id", "the customer is not a member of the campaign")
            branch_id = member["branch_id"]
            product = product or campaign["product_code"]
        else:
            branch_id = await db.fetchval(
                "SELECT c.branch_id FROM customer_archive_customer c"
                " WHERE c.id = $1 AND c.deleted_at IS NULL",
                data.customer_id,
            )
            if branch_id is None:
                raise invalid("body.customer_id", f"no customer {data.customer_id} is visible")
        outcome_id = await db.fetchval(
            f"INSERT INTO {OUTCOME} (branch_id, customer, campaign, member, product_code, kind,"
            " reason, amount, source, source_ref, at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'staff', '', now()) RETURNING id",
            branch_id,
            data.customer_id,
            data.campaign_id,
            member["id"] if member else None,
            product,
            data.kind,
            data.reason,
            data.amount,
        )
        await audit.record(
            audit.Action.CREATE,
            ENTITY_OUTCOME,
            outcome_id,
            branch_id=branch_id,
            after={"customer": data.customer_id, "kind": data.kind, "campaign": data.campaign_id,
                   "product": product, "amount": None if data.amount is None else str(data.amount)},
        )  # fmt: skip
    return await _get(outcome_id)


async def record_response(contact: Any, response: str, note: str) -> None:
    """A response to a contact that is an outcome (accepted, declined): in the caller's
    transaction, once per contact."""
    if response not in ("accepted", "declined"):
        return
    await db.fetch(
        f"INSERT INTO {OUTCOME} (branch_id, customer, campaign, member, product_code, kind,"
        " reason, source, source_ref, at)"
        f" SELECT $1, $2, $3, $4, c.product_code, $5, $6, 'contact', $7, now()"
        f" FROM {CAMPAIGN} c WHERE c.id = $3"
        " ON CONFLICT DO NOTHING",
        contact["branch_id"],
        contact["customer"],
        contact["campaign"],
        contact["member"],
        response,
        note,
        str(contact["id"]),
    )


async def holding_changed(payload: dict[str, Any]) -> int:
    """On the archive's ``holding_changed`` (created): the product opened, recorded for
    each membership of a launched campaign promoting it; how many rows. Idempotent."""
    if payload.get("change") != "created":
        return 0
    customer_id = int(payload["customer_id"])
    holding_id = int(payload["holding_id"])
    try:
        found = await archive.list_holdings(customer_id)
    except Problem as exc:  # the customer is gone, or out of the emitting actor's sight
        if exc.status == 404:
            return 0
        raise
    holdings = [h for h in found if h.id == holding_id]
    if not holdings:
        return 0
    holding = holdings[0]
    rows = await db.fetch(
        f"INSERT INTO {OUTCOME} (branch_id, customer, campaign, member, product_code, kind,"
        " reason, amount, source, source_ref, at)"
        " SELECT m.branch_id, m.customer, m.campaign, m.id, c.product_code, 'product_opened',"
        " '', $3, 'holding', $4, now()"
        f" FROM {MEMBER} m JOIN {CAMPAIGN} c ON c.id = m.campaign"
        " WHERE m.customer = $1 AND m.excluded IS NULL AND c.product_code = $2"
        " AND c.launched_at IS NOT NULL AND c.launched_at <= now()"
        " AND (c.ends_on IS NULL OR c.ends_on + $5::int >= current_date)"
        " ON CONFLICT DO NOTHING RETURNING id",
        customer_id,
        holding.product_code,
        holding.balance,
        str(holding_id),
        ATTRIBUTION_DAYS,
    )
    return len(rows)


async def list_outcomes(
    *,
    since: datetime | None = None,
    campaign_id: int | None = None,
    limit: int = 200,
    cursor: str | None = None,
) -> Page[OutcomeOut]:
    """The ledger in order of recording: what the next training run reads (pass the last
    run's time as ``since``), with each member's group."""
    after = decode_cursor(cursor, (int,))
    rows = await db.fetch(
        f"SELECT {COLUMNS} FROM {OUTCOME} o LEFT JOIN {MEMBER} m ON m.id = o.member"
        " WHERE ($1::timestamptz IS NULL OR o.at >= $1)"
        " AND ($2::bigint IS NULL OR o.campaign = $2)"
        " AND ($3::bigint IS NULL OR o.id > $3) ORDER BY o.id LIMIT $4",
        since,
        campaign_id,
        after[0] if after else None,
        limit + 1,
    )
    items = [out(r) for r in rows[:limit]]
    return Page(items, encode_cursor([items[-1].id]) if len(rows) > limit else None)


def uplift_interval(
    n_t: int, conv_t: int, n_c: int, conv_c: int, z: float = 1.959964
) -> tuple[float, float, float] | None:
    """The difference of conversion rates (target - control) and its 95% interval by the
    normal approximation; None when a group is empty."""
    if n_t == 0 or n_c == 0:
        return None
    p_t, p_c = conv_t / n_t, conv_c / n_c
    diff = p_t - p_c
    se = math.sqrt(p_t * (1 - p_t) / n_t + p_c * (1 - p_c) / n_c)
    return diff, diff - z * se, diff + z * se


def _roi(revenue: Decimal, cost: Decimal) -> float | None:
    return round(float((revenue - cost) / cost * 100), 1) if cost else None


async def results(campaign_id: int) -> CampaignResults:
    campaign = await campaigns.campaign_row(campaign_id)
    groups = {
        r["group"]: r
        for r in await db.fetch(
            f'SELECT m."group", count(*) AS members,'
            f" count(*) FILTER (WHERE EXISTS (SELECT 1 FROM {OUTCOME} o WHERE o.member = m.id"
            f"  AND o.kind = '{CONVERSION}')) AS converted,"
            f" coalesce((SELECT sum(o.amount) FROM {OUTCOME} o JOIN {MEMBER} mm"
            f'  ON mm.id = o.member WHERE mm.campaign = $1 AND mm."group" = m."group"'
            "  AND mm.excluded IS NULL AND o.kind IN ('product_opened', 'revenue')), 0)"
            f" AS revenue FROM {MEMBER} m WHERE m.campaign = $1 AND m.excluded IS NULL"
            ' GROUP BY m."group"',
            campaign_id,
        )
    }

    def group(name: str) -> GroupResult:
        r = groups.get(name)
        if r is None:
            return GroupResult(0, 0, 0.0, Decimal("0.00"))
        rate = r["converted"] / r["members"] if r["members"] else 0.0
        return GroupResult(r["members"], r["converted"], round(rate, 6), Decimal(r["revenue"]))

    target, control = group("target"), group("control")
    interval = uplift_interval(target.members, target.converted, control.members,
                               control.converted)  # fmt: skip
    cost = Decimal(
        await db.fetchval(
            f"SELECT coalesce(sum(amount), 0) FROM {COST} WHERE campaign = $1", campaign_id
        )
    )
    made = await db.fetchrow(
        f"SELECT count(*) FILTER (WHERE status = 'sent') AS contacts,"
        f" count(response) AS responses FROM {CONTACT} WHERE campaign = $1",
        campaign_id,
    )
    assert made is not None
    return CampaignResults(
        campaign_id=campaign["id"],
        target=target,
        control=control,
        uplift=None if interval is None else round(interval[0], 6),
        uplift_low=None if interval is None else round(interval[1], 6),
        uplift_high=None if interval is None else round(interval[2], 6),
        incremental_conversions=None if interval is None
        else round(interval[0] * target.members, 2),
        cost=cost,
        contacts=made["contacts"],
        responses=made["responses"],
        revenue=target.revenue,
        roi=_roi(target.revenue, cost),
    )  # fmt: skip


async def roi(start: date | None = None, end: date | None = None) -> RoiOut:
    """Cost (cost lines spent in ``[start, end)``) against the target groups' revenue
    recorded in the period, per campaign, channel and product (default: last 90 days)."""
    until = end or (datetime.now(UTC).date() + timedelta(days=1))
    since = start or (until - timedelta(days=90))
    if since >= until:
        raise invalid("query.end", "must be after start")
    rows = await db.fetch(
        "SELECT c.id, c.title, c.channel, coalesce(c.product_code, '') AS product,"
        f" coalesce((SELECT sum(k.amount) FROM {COST} k WHERE k.campaign = c.id"
        "  AND k.spent_on >= $1 AND k.spent_on < $2), 0) AS cost,"
        f" coalesce((SELECT sum(o.amount) FROM {OUTCOME} o JOIN {MEMBER} m ON m.id = o.member"
        "  WHERE o.campaign = c.id AND m.\"group\" = 'target'"
        "  AND o.kind IN ('product_opened', 'revenue')"
        "  AND o.at >= $1::date AND o.at < $2::date), 0) AS revenue"
        f" FROM {CAMPAIGN} c ORDER BY c.id",
        since,
        until,
    )
    rows = [r for r in rows if r["cost"] or r["revenue"]]

    def rolled(key: str) -> list[RoiRow]:
        found: dict[str, list[Any]] = {}
        for r in rows:
            name = f"{r['id']} {r['title']}" if key == "id" else r[key]
            found.setdefault(name, []).append(r)
        result = []
        for name, group in sorted(found.items()):
            cost = sum((Decimal(g["cost"]) for g in group), Decimal(0))
            revenue = sum((Decimal(g["revenue"]) for g in group), Decimal(0))
            result.append(RoiRow(name, len(group), cost, revenue, _roi(revenue, cost)))
        return result

    return RoiOut(since, until, rolled("id"), rolled("channel"), rolled("product"))


async def channel_costs(
    branch_ids: frozenset[int], start: date, end: date
) -> dict[str, Decimal] | None:
    """Marketing's spending for sales' channel ROI: every campaign cost line counts for
    sales' ``campaign`` channel. None when there is none (sales then reads its table)."""
    value = await db.fetchval(
        f"SELECT sum(amount) FROM {COST} WHERE branch_id = ANY($1::bigint[])"
        " AND spent_on >= $2 AND spent_on < $3",
        sorted(branch_ids),
        start,
        end,
    )
    return None if value is None else {"campaign": Decimal(value)}


class RecommendationOut(Struct):
    customer_id: int
    product_code: str
    score: float
    reason_zh: str
    reason_en: str
    model: str


async def recommendations_for(
    customer_id: int, limit: int = 3, registry: PluginHooks | None = None
) -> list[RecommendationOut]:
    """A customer's next-best products from the ``marketing_recommendations`` hook, each
    recorded as ``shown`` in the ledger (once per product and day)."""
    async with db.transaction():
        branch_id = await db.fetchval(
            "SELECT c.branch_id FROM customer_archive_customer c"
            " WHERE c.id = $1 AND c.deleted_at IS NULL",
            customer_id,
        )
        if branch_id is None:
            raise not_found(f"customer {customer_id}")
        hooks = registry or plugin_hooks()
        answer: Any = None
        for _plugin, found in hooks.call_each(
            "marketing_recommendations", customer_ids=[customer_id], limit=limit
        ):
            if inspect.isawaitable(found):
                found = await found
            if found is not None:
                answer = found
                break
        items = list((answer or {}).get(customer_id, ()))[:limit]
        day = datetime.now(UTC).date().isoformat()
        result = []
        for item in items:
            result.append(
                RecommendationOut(
                    customer_id,
                    item.product_code,
                    float(item.score),
                    item.reason_zh,
                    item.reason_en,
                    item.model,
                )
            )
            await db.fetch(
                f"INSERT INTO {OUTCOME} (branch_id, customer, product_code, kind, reason,"
                " source, source_ref, at) VALUES ($1, $2, $3, 'shown', $4, 'recommender', $5,"
                " now()) ON CONFLICT DO NOTHING",
                branch_id,
                customer_id,
                item.product_code,
                item.model,
                f"{customer_id}:{item.product_code}:{day}"[:64],
            )
    return result
