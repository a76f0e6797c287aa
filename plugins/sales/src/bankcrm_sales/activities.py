"""Sales activities (销售活动): calls, visits, meetings and messages with their time
(联系时间), result (联系结果), the customer's intent (客户意向), next step and next
follow-up. Recording one sets the next follow-up of its lead or opportunity (and clears
an escalation flag); activities appear on the customer's timeline.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from msgspec import Meta, Struct

from bankcrm import audit, db
from bankcrm.context import require_scope
from bankcrm.jobs import emit_event
from bankcrm.web.pagination import Page, decode_cursor, encode_cursor
from bankcrm.web.problems import Problem, invalid, not_found
from bankcrm_customer_archive.services import TimelineItem
from bankcrm_sales import events
from bankcrm_sales.common import (
    ACTIVITY,
    ACTIVITY_ENTITY,
    LEAD,
    OPPORTUNITY,
    Problems,
    future,
    utcnow,
)
from bankcrm_sales.leads import Id

KIND_TITLES = {"call": ("电话", "Call"), "visit": ("拜访", "Visit"),
               "meeting": ("会谈", "Meeting"), "message": ("消息", "Message")}  # fmt: skip
INTENT_TITLES = {"strong": "强", "moderate": "一般", "weak": "弱", "none": "无"}
COLUMNS = (
    "id, branch_id, kind, customer, lead, opportunity, at, result, intent, next_step,"
    " next_follow_up_at, owner, created_at"
)


class ActivityIn(Struct, forbid_unknown_fields=True, kw_only=True):
    kind: Literal["call", "visit", "meeting", "message"]
    at: datetime
    """联系时间: when it happened (not in the future)."""
    lead_id: Id | None = None
    opportunity_id: Id | None = None
    customer_id: Id | None = None
    """Only for an activity with a customer outside any lead or opportunity."""
    result: Annotated[str, Meta(max_length=2000)] = ""
    intent: Literal["strong", "moderate", "weak", "none"] = "moderate"
    next_step: Annotated[str, Meta(max_length=200)] = ""
    next_follow_up_at: datetime | None = None
    """Required for an open lead or opportunity: when to follow up next (future)."""


class ActivityOut(Struct):
    id: int
    branch_id: int
    kind: str
    customer: int | None
    lead: int | None
    opportunity: int | None
    at: datetime
    result: str
    intent: str
    next_step: str
    next_follow_up_at: datetime | None
    owner: int
    created_at: datetime


async def _parent(data: ActivityIn) -> tuple[str | None, Any]:
    given = [n for n in ("lead_id", "opportunity_id", "customer_id") if getattr(data, n)]
    if len(given) != 1:
        raise invalid("body.lead_id", "give exactly one of lead_id, opportunity_id, customer_id")
    if data.lead_id is not None:
        row = await db.fetchrow(
            f"SELECT id, branch_id, customer, status FROM {LEAD} WHERE id = $1 FOR UPDATE",
            data.lead_id,
        )
        if row is None:
            raise invalid("body.lead_id", f"no lead {data.lead_id} of yours")
        return LEAD, row
    if data.opportunity_id is not None:
        row = await db.fetchrow(
            f"SELECT id, branch_id, customer, status FROM {OPPORTUNITY} WHERE id = $1 FOR UPDATE",
            data.opportunity_id,
        )
        if row is None:
            raise invalid("body.opportunity_id", f"no opportunity {data.opportunity_id} of yours")
        return OPPORTUNITY, row
    from bankcrm_customer_archive import services as archive

    assert data.customer_id is not None
    try:
        customer = await archive.get_customer(data.customer_id, audit_view=False)
    except Problem:
        raise invalid(
            "body.customer_id", f"no customer {data.customer_id} in your branches"
        ) from None
    return None, {"id": None, "branch_id": customer.branch_id, "customer": customer.id,
                  "status": "none"}  # fmt: skip


async def record_activity(data: ActivityIn) -> ActivityOut:
    scope = require_scope()
    if scope.user_id is None:
        raise Problem(403, "activities are recorded by staff", code="forbidden")
    problems = Problems()
    if data.at.tzinfo is None:
        problems.add("body.at", "give a time zone (e.g. +08:00)")
    elif data.at > utcnow() + timedelta(minutes=5):
        problems.add("body.at", "an activity that has not happened yet is a follow-up date")
    future(problems, "body.next_follow_up_at", data.next_follow_up_at)
    problems.raise_if_any()
    async with db.transaction():
        table, parent = await _parent(data)
        is_open = parent["status"] in ("new", "contacted", "qualified", "open")
        if table is not None and is_open and data.next_follow_up_at is None:
            raise invalid(
                "body.next_follow_up_at", "an open lead or opportunity needs its next follow-up"
            )
        row = await db.fetchrow(
            f"INSERT INTO {ACTIVITY} (branch_id, kind, customer, lead, opportunity, at, result,"
            " intent, next_step, next_follow_up_at, owner, created_at) VALUES ($1, $2, $3, $4,"
            f" $5, $6, $7, $8, $9, $10, $11, now()) RETURNING {COLUMNS}",
            parent["branch_id"], data.kind, parent["customer"], data.lead_id,
            data.opportunity_id, data.at, data.result.strip(), data.intent,
            data.next_step.strip(), data.next_follow_up_at, scope.user_id,
        )  # fmt: skip
        assert row is not None
        if table is not None and is_open:
            extra = ", status = 'contacted'" if parent["status"] == "new" else ""
            await db.fetch(
                f"UPDATE {table} SET next_follow_up_at = $2, flagged = false{extra},"
                " updated_at = now() WHERE id = $1",
                parent["id"],
                data.next_follow_up_at,
            )
        await audit.record(
            audit.Action.CREATE, ACTIVITY_ENTITY, row["id"], branch_id=row["branch_id"],
            after={k: row[k] for k in ("kind", "customer", "lead", "opportunity", "at",
                                        "intent", "next_follow_up_at")},
        )  # fmt: skip
        await emit_event(
            events.ACTIVITY_RECORDED,
            {"activity_id": row["id"], "branch_id": row["branch_id"],
             "lead_id": data.lead_id, "opportunity_id": data.opportunity_id},
        )  # fmt: skip
    return ActivityOut(**dict(row))


async def list_activities(
    *,
    lead_id: int | None = None,
    opportunity_id: int | None = None,
    customer_id: int | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[ActivityOut]:
    after = decode_cursor(cursor, (int,))
    rows = await db.fetch(
        f"SELECT {COLUMNS} FROM {ACTIVITY} WHERE ($1::bigint IS NULL OR lead = $1)"
        " AND ($2::bigint IS NULL OR opportunity = $2) AND ($3::bigint IS NULL OR customer = $3)"
        " AND ($4::bigint IS NULL OR id < $4) ORDER BY id DESC LIMIT $5",
        lead_id, opportunity_id, customer_id, after[0] if after else None, limit + 1,
    )  # fmt: skip
    items = [ActivityOut(**dict(r)) for r in rows[:limit]]
    return Page(items, encode_cursor([items[-1].id]) if len(rows) > limit else None)


async def get_activity(activity_id: int) -> ActivityOut:
    row = await db.fetchrow(f"SELECT {COLUMNS} FROM {ACTIVITY} WHERE id = $1", activity_id)
    if row is None:
        raise not_found(f"activity {activity_id}")
    return ActivityOut(**dict(row))


async def timeline_items(customer_id: int, before: datetime, limit: int) -> list[TimelineItem]:
    """The customer's activities the viewer may see, newest first (the archive's hook)."""
    rows = await db.fetch(
        f"SELECT id, kind, at, result, intent, next_step FROM {ACTIVITY}"
        " WHERE customer = $1 AND at < $2 ORDER BY at DESC, id DESC LIMIT $3",
        customer_id,
        before,
        limit,
    )
    items = []
    for r in rows:
        zh, en = KIND_TITLES[r["kind"]]
        summary = r["result"][:60]
        items.append(
            TimelineItem(
                r["at"], "sales", f"sales.activity_{r['kind']}",
                f"销售活动（{zh}）：{summary}（意向：{INTENT_TITLES[r['intent']]}）",
                f"Sales {en.lower()}: {summary} (intent: {r['intent']})",
                ACTIVITY, str(r["id"]),
                {"next_step": r["next_step"], "intent": r["intent"]},
            )
        )  # fmt: skip
    return items
