"""Leads (销售线索): created by staff, received from external systems, assigned by the
kernel's engine, converted into a customer and an opportunity in one audited transaction.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from bankcrm import assignment, audit, business_calendar, db
from bankcrm.context import require_scope
from bankcrm.jobs import emit_event
from bankcrm.notifications import NotificationSource, notify
from bankcrm.web.pagination import Page, decode_cursor, encode_cursor
from bankcrm.web.problems import FieldError, Problem, invalid, not_found
from bankcrm_customer_archive import services as archive
from bankcrm_sales import events, scoring, settings
from bankcrm_sales.common import (
    INTAKE_KEY,
    LEAD,
    LEAD_KIND,
    Problems,
    as_engine,
    assign_owner,
    branch_for_new,
    check_owner,
    future,
    money,
    utcnow,
    work_attributes,
)

Id = Annotated[int, Meta(ge=1, le=2**31 - 1)]
ChannelName = Literal[
    "web", "call_centre", "branch", "referral", "campaign", "partner", "event", "import"
]
LeadStatusName = Literal["new", "contacted", "qualified", "converted", "lost"]
ShortText = Annotated[str, Meta(max_length=200)]
Name = Annotated[str, Meta(min_length=1, max_length=100)]
Phone = Annotated[str, Meta(max_length=32)]
Email = Annotated[str, Meta(max_length=200, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
ProductCode = Annotated[str, Meta(max_length=32)]
Need = Annotated[str, Meta(max_length=4000)]
IdempotencyKey = Annotated[str, Meta(min_length=8, max_length=128, pattern=r"^[\x21-\x7e]+$")]

COLUMNS = (
    "id, branch_id, channel, campaign, customer, prospect_name, phone, email, company,"
    " product_interest, need, estimated_amount, status, lost_reason, owner, score,"
    " score_reasons, next_follow_up_at, flagged, opportunity, external_ref, created_by,"
    " created_at, updated_at"
)
OPEN_STATUSES = ("new", "contacted", "qualified")
AUDITED = (
    "channel", "campaign", "customer", "prospect_name", "company", "product_interest", "need",
    "estimated_amount", "status", "lost_reason", "owner", "next_follow_up_at",
)  # fmt: skip
"""Fields of the audit trail (contact data stays out of it, masked or not)."""


class LeadIn(Struct, forbid_unknown_fields=True, kw_only=True):
    channel: ChannelName
    prospect_name: Name | None = None
    """Default: the customer's name when ``customer_id`` is given; required otherwise."""
    customer_id: Id | None = None
    """An existing customer of the archive the lead is about."""
    phone: Phone | None = None
    email: Email | None = None
    company: ShortText = ""
    campaign: Annotated[str, Meta(max_length=100)] = ""
    product_interest: ProductCode = ""
    need: Need = ""
    estimated_amount: Decimal | None = None
    branch_id: Id | None = None
    owner_id: Id | None = None
    """Default: whoever the branch's assignment rules choose."""
    next_follow_up_at: datetime | None = None
    """Default: the branch's first follow-up interval from now, in business time."""
    external_ref: Annotated[str, Meta(max_length=100)] = ""


class LeadPatch(Struct, forbid_unknown_fields=True, kw_only=True):
    prospect_name: Name | UnsetType = UNSET
    phone: Phone | UnsetType | None = UNSET
    email: Email | UnsetType | None = UNSET
    company: ShortText | UnsetType = UNSET
    campaign: Annotated[str, Meta(max_length=100)] | UnsetType = UNSET
    product_interest: ProductCode | UnsetType = UNSET
    need: Need | UnsetType = UNSET
    estimated_amount: Decimal | UnsetType | None = UNSET
    status: Literal["contacted", "qualified", "lost"] | UnsetType = UNSET
    """A lead is converted through its conversion, never by setting the status."""
    lost_reason: ShortText | UnsetType = UNSET
    next_follow_up_at: datetime | UnsetType = UNSET


class LeadOut(Struct):
    id: int
    branch_id: int
    channel: str
    campaign: str
    customer: int | None
    prospect_name: str
    phone: str | None
    """Masked (``138****5678``)."""
    email: str | None
    company: str
    product_interest: str
    need: str
    estimated_amount: Decimal | None
    status: str
    lost_reason: str
    owner: int
    score: int
    score_reasons: list[dict[str, Any]]
    next_follow_up_at: datetime | None
    flagged: bool
    opportunity: int | None
    external_ref: str
    created_by: str
    created_at: datetime
    updated_at: datetime


def lead_out(row: Any) -> LeadOut:
    values = dict(row)
    values["phone"] = archive.mask_phone(values["phone"])
    values["email"] = archive.mask_email(values["email"])
    reasons = values["score_reasons"]
    values["score_reasons"] = json.loads(reasons) if isinstance(reasons, str) else reasons
    return LeadOut(**values)


def audited(row: Any) -> dict[str, Any]:
    return {k: row[k] for k in AUDITED}


async def _product_category(problems: Problems, field_name: str, code: str) -> str:
    if not code:
        return ""
    found = [p for p in await archive.list_products(active=True) if p.code == code]
    if not found:
        problems.add(field_name, f"no active product with code {code!r} in the catalogue")
        return ""
    return found[0].category


async def _customer_name(problems: Problems, field_name: str, customer_id: int) -> str:
    try:
        customer = await archive.get_customer(customer_id, audit_view=False)
    except Problem:
        problems.add(field_name, f"no customer {customer_id} in your branches")
        return ""
    return customer.name


async def first_due(branch_id: int, now: datetime) -> datetime:
    config = await settings.for_branch(branch_id)
    return await business_calendar.add_business_time(
        now, timedelta(hours=config.first_follow_up_hours), branch_id
    )


async def list_leads(
    *,
    status: str | None = None,
    channel: str | None = None,
    owner_id: int | None = None,
    flagged: bool | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[LeadOut]:
    """The leads the caller may see (own, their reports', in their branches), newest first."""
    after = decode_cursor(cursor, (int,))
    rows = await db.fetch(
        f"SELECT {COLUMNS} FROM {LEAD}"
        " WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR channel = $2)"
        " AND ($3::bigint IS NULL OR owner = $3) AND ($4::boolean IS NULL OR flagged = $4)"
        " AND ($5::bigint IS NULL OR id < $5) ORDER BY id DESC LIMIT $6",
        status, channel, owner_id, flagged, after[0] if after else None, limit + 1,
    )  # fmt: skip
    items = [lead_out(row) for row in rows[:limit]]
    return Page(items, encode_cursor([items[-1].id]) if len(rows) > limit else None)


async def get_lead(lead_id: int) -> LeadOut:
    row = await db.fetchrow(f"SELECT {COLUMNS} FROM {LEAD} WHERE id = $1", lead_id)
    if row is None:
        raise not_found(f"lead {lead_id}")
    return lead_out(row)


async def checked_values(data: LeadIn, branch_id: int, prefix: str) -> tuple[dict[str, Any], str]:
    problems = Problems()
    name = (data.prospect_name or "").strip()
    if data.customer_id is not None:
        customer_name = await _customer_name(problems, f"{prefix}customer_id", data.customer_id)
        name = name or customer_name
    if not name and data.customer_id is None:
        problems.add(f"{prefix}prospect_name", "required for a prospect who is not a customer")
    if data.phone is None and data.email is None and data.customer_id is None:
        problems.add(f"{prefix}phone", "give a phone number or an e-mail address to reach them")
    category = await _product_category(problems, f"{prefix}product_interest", data.product_interest)
    amount = None
    if data.estimated_amount is not None:
        amount = money(problems, f"{prefix}estimated_amount", data.estimated_amount)
    future(problems, f"{prefix}next_follow_up_at", data.next_follow_up_at)
    if data.owner_id is not None:
        await check_owner(problems, f"{prefix}owner_id", data.owner_id, branch_id)
    problems.raise_if_any()
    values = {
        "branch_id": branch_id, "channel": data.channel, "campaign": data.campaign.strip(),
        "customer": data.customer_id, "prospect_name": name, "phone": data.phone,
        "email": data.email, "company": data.company.strip(),
        "product_interest": data.product_interest, "need": data.need.strip(),
        "estimated_amount": amount, "external_ref": data.external_ref,
    }  # fmt: skip
    return values, category


async def insert_lead(values: dict[str, Any], category: str, data: LeadIn) -> Any:
    """Insert a lead inside the caller's transaction: owner by hand or by the engine,
    score, first follow-up, audit, event and the owner's notification."""
    now = utcnow()
    branch_id = values["branch_id"]
    lead_id = await db.fetchval("SELECT nextval(pg_get_serial_sequence($1, 'id'))", LEAD)
    if data.owner_id is not None:
        owner, how = data.owner_id, "manual"
    else:
        assigned = await assign_owner(
            LEAD_KIND,
            lead_id,
            branch_id,
            work_attributes(category, values["estimated_amount"], values["channel"]),
        )
        assert assigned.user_id is not None
        owner, how = assigned.user_id, assigned.how
    score = await scoring.score_lead({**values, "product_category": category})
    due = data.next_follow_up_at or await first_due(branch_id, now)
    columns = {
        **values, "id": lead_id, "owner": owner, "status": "new", "score": score.score,
        "score_reasons": db.jsonb([r.as_dict() for r in score.reasons]),
        "next_follow_up_at": due, "created_by": require_scope().actor,
    }  # fmt: skip
    placeholders = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
    async with as_engine():
        row = await db.fetchrow(
            f"INSERT INTO {LEAD} ({', '.join(columns)}, created_at, updated_at)"
            f" VALUES ({placeholders}, now(), now()) RETURNING {COLUMNS}",
            *columns.values(),
        )
    assert row is not None
    await audit.record(
        audit.Action.CREATE, LEAD_KIND, lead_id, branch_id=branch_id,
        after={**audited(row), "assigned": how},
    )  # fmt: skip
    await emit_event(
        events.LEAD_CREATED,
        {"lead_id": lead_id, "branch_id": branch_id, "owner": owner, "channel": row["channel"]},
    )
    await notify(
        [owner], "sales.lead_assigned", {"name": row["prospect_name"], "id": lead_id},
        NotificationSource("sales", LEAD, lead_id, branch_id),
    )  # fmt: skip
    return row


async def create_lead(data: LeadIn) -> LeadOut:
    branch_id = branch_for_new(data.branch_id)
    values, category = await checked_values(data, branch_id, "body.")
    async with db.transaction():
        row = await insert_lead(values, category, data)
    return lead_out(row)


def _request_hash(data: LeadIn) -> str:
    return hashlib.sha256(msgspec.json.encode(data)).hexdigest()


async def receive_lead(data: LeadIn, key: str) -> tuple[LeadOut, bool]:
    """A lead from an external system (web form, call centre) with its ``Idempotency-Key``.

    Answers (lead, created). The same key with the same body answers the first lead again;
    with another body it is refused (409), so a client bug cannot silently drop a lead.
    """
    scope = require_scope()
    branch_id = branch_for_new(data.branch_id)
    request_hash = _request_hash(data)
    async with db.transaction():
        # Two retries racing: the second waits here for the first to commit or roll back.
        await db.fetch(
            "SELECT pg_advisory_xact_lock(hashtext('sales.intake'), hashtext($1))",
            f"{scope.actor}/{key}",
        )
        seen = await db.fetchrow(
            f"SELECT lead, request_hash FROM {INTAKE_KEY} WHERE client = $1 AND key = $2",
            scope.actor,
            key,
        )
        if seen is not None:
            if seen["request_hash"] != request_hash:
                raise Problem(
                    409,
                    "this Idempotency-Key was used with another request body",
                    [FieldError("header.Idempotency-Key", "already used for another lead")],
                    "idempotency_key_reused",
                )
            async with as_engine():
                row = await db.fetchrow(f"SELECT {COLUMNS} FROM {LEAD} WHERE id = $1", seen["lead"])
            assert row is not None
            return lead_out(row), False
        values, category = await checked_values(data, branch_id, "body.")
        row = await insert_lead(values, category, data)
        await db.fetch(
            f"INSERT INTO {INTAKE_KEY} (branch_id, client, key, request_hash, lead, created_at)"
            " VALUES ($1, $2, $3, $4, $5, now())",
            branch_id, scope.actor, key, request_hash, row["id"],
        )  # fmt: skip
    return lead_out(row), True


async def update_lead(lead_id: int, data: LeadPatch) -> LeadOut:
    values = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not UNSET}
    problems = Problems()
    if "prospect_name" in values:
        values["prospect_name"] = values["prospect_name"].strip()
        if not values["prospect_name"]:
            problems.add("body.prospect_name", "must not be blank")
    if "product_interest" in values:
        await _product_category(problems, "body.product_interest", values["product_interest"])
    if values.get("estimated_amount") is not None:
        values["estimated_amount"] = money(
            problems, "body.estimated_amount", values["estimated_amount"]
        )
    if "next_follow_up_at" in values:
        future(problems, "body.next_follow_up_at", values["next_follow_up_at"])
    problems.raise_if_any()
    async with db.transaction():
        before = await db.fetchrow(
            f"SELECT {COLUMNS} FROM {LEAD} WHERE id = $1 FOR UPDATE", lead_id
        )
        if before is None:
            raise not_found(f"lead {lead_id}")
        if before["status"] not in OPEN_STATUSES:
            raise invalid("body.status", f"the lead is {before['status']}; it can no longer change")
        if values.get("status") == "lost":
            reason = str(values.get("lost_reason", before["lost_reason"])).strip()
            if not reason:
                raise invalid("body.lost_reason", "say why the lead was lost")
            values["lost_reason"] = reason
            values["next_follow_up_at"] = None
            values["flagged"] = False
        elif "next_follow_up_at" in values:
            values["flagged"] = False
        changed = {k: v for k, v in values.items() if before[k] != v}
        if not changed:
            return lead_out(before)
        assignments = ", ".join(f"{column} = ${i}" for i, column in enumerate(changed, 2))
        row = await db.fetchrow(
            f"UPDATE {LEAD} SET {assignments}, updated_at = now() WHERE id = $1"
            f" RETURNING {COLUMNS}",
            lead_id,
            *changed.values(),
        )
        assert row is not None
        await audit.record(
            audit.Action.UPDATE, LEAD_KIND, lead_id, branch_id=row["branch_id"],
            before={k: before[k] for k in changed if k in AUDITED},
            after={k: row[k] for k in changed if k in AUDITED},
        )  # fmt: skip
        if changed.get("status") == "lost":
            await assignment.release(LEAD_KIND, str(lead_id))
            await emit_event(events.LEAD_LOST, {"lead_id": lead_id, "branch_id": row["branch_id"]})
    return lead_out(row)
