"""Launching a campaign, making its contacts under the contact rules, and recording the
customers' responses; the do-not-contact flags.

Contact rules, checked when a campaign is targeted and again just before each contact:

- **do not contact**: a customer's refusal on the channel or on all channels;
- **frequency cap**: at most ``frequency_cap`` contacts of a customer, by every campaign,
  within ``frequency_days`` days;
- **quiet hours**: a message (SMS, e-mail, WeChat) goes out only while the campaign's
  branch is open by the kernel's business calendar (its hours, holidays and 调休); outside
  them it waits for the next opening. Calls and visits are work handed to the staff, who
  make them in their working hours.

Sending is at-least-once and idempotent: each contact is locked (``SKIP LOCKED``), checked
and delivered in its own transaction; a contact no longer queued is never touched again,
and the gateway receives a key that is the same for every attempt.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from msgspec import Meta, Struct

from bankcrm import audit, business_calendar, db
from bankcrm.jobs import emit_event, enqueue
from bankcrm.notifications import NotificationSource, notify
from bankcrm.plugin_api import PluginHooks, plugin_hooks
from bankcrm.web.pagination import Page, decode_cursor, encode_cursor
from bankcrm.web.problems import Problem, invalid, not_found
from bankcrm_marketing import campaigns, events, outcomes
from bankcrm_marketing.common import (
    CAMPAIGN,
    CAMPAIGN_STAFF,
    CONTACT,
    DNC_ALL,
    DO_NOT_CONTACT,
    ENTITY_CAMPAIGN,
    ENTITY_CONTACT,
    ENTITY_DO_NOT_CONTACT,
    MEMBER,
    MESSAGE_CHANNELS,
    PLUGIN,
    STAFF_CHANNELS,
    Id,
    LongText,
)
from bankcrm_marketing.messages import OutgoingMessage

SEND_JOB = "marketing.send_contacts"
CONTACT_TASKS = "marketing.contact_tasks"
"""The notification template telling staff whom to call or receive."""
BATCH = 500
MAX_ATTEMPTS = 5
"""A message the gateway failed to take this many times is recorded as failed."""

ResponseName = Literal["interested", "accepted", "declined", "no_answer", "opt_out"]
DncChannel = Literal["all", "sms", "email", "wechat", "call", "visit"]


class MemberOut(Struct):
    id: int
    campaign_id: int
    customer_id: int
    group: str
    excluded: str | None


class ContactOut(Struct):
    id: int
    campaign_id: int
    member_id: int
    customer_id: int
    channel: str
    status: str
    scheduled_at: datetime
    sent_at: datetime | None
    reason: str
    attempts: int
    assigned_to: int | None
    provider_ref: str | None
    response: str | None
    responded_at: datetime | None
    note: str


class ResponseIn(Struct, forbid_unknown_fields=True, kw_only=True):
    response: ResponseName
    """``opt_out`` also flags the customer as not to be contacted by marketing again."""
    note: LongText = ""


class DoNotContactIn(Struct, forbid_unknown_fields=True, kw_only=True):
    customer_id: Id
    channel: DncChannel = "all"
    reason: Annotated[str, Meta(max_length=1000)] = ""


class DoNotContactOut(Struct):
    id: int
    branch_id: int
    customer_id: int
    channel: str
    reason: str
    created_at: datetime


@dataclass
class SendResult:
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    held: int = 0
    """Messages waiting for the branch to open (quiet hours)."""
    retry: int = 0
    """Messages the gateway failed to take this time (tried again by the next run)."""


CONTACT_COLUMNS = (
    "id, campaign, member, customer, channel, status, scheduled_at, sent_at, reason,"
    " attempts, assigned_to, provider_ref, response, responded_at, note"
)


def contact_out(row: Any) -> ContactOut:
    return ContactOut(
        id=row["id"],
        campaign_id=row["campaign"],
        member_id=row["member"],
        customer_id=row["customer"],
        channel=row["channel"],
        status=row["status"],
        scheduled_at=row["scheduled_at"],
        sent_at=row["sent_at"],
        reason=row["reason"],
        attempts=row["attempts"],
        assigned_to=row["assigned_to"],
        provider_ref=row["provider_ref"],
        response=row["response"],
        responded_at=row["responded_at"],
        note=row["note"],
    )


# --- launch ---------------------------------------------------------------------------------


async def launch(campaign_id: int) -> campaigns.CampaignOut:
    """Launch a targeted draft: one queued contact per contactable target member, handed
    to the sending job after commit. The control group is never contacted."""
    async with db.transaction():
        campaign = await campaigns.campaign_row(campaign_id, lock=True)
        if campaign["status"] not in ("draft", "open"):
            raise Problem(409, "the campaign is already launched or closed", code="not_draft")
        if campaign["targeted_at"] is None:
            raise Problem(409, "target the campaign first", code="not_targeted")
        channel = campaign["channel"]
        if channel in MESSAGE_CHANNELS and not campaign["message"].strip():
            raise Problem(409, "the campaign has no message to send", code="no_message")
        staff = [
            r["user"]
            for r in await db.fetch(
                f'SELECT "user" FROM {CAMPAIGN_STAFF} WHERE campaign = $1 ORDER BY id',
                campaign_id,
            )
        ]
        if channel in STAFF_CHANNELS and not staff:
            if campaign["owner"] is None:
                raise Problem(
                    409, "a call or visit campaign needs staff or an owner", code="no_staff"
                )
            staff = [campaign["owner"]]
        calendar = await business_calendar.calendar_for(campaign["branch_id"])
        zone = str(calendar.timezone)
        # Calls and visits: the customer's relationship manager when assigned to the
        # campaign, else the campaign's staff in turn.
        await db.fetch(
            f"INSERT INTO {CONTACT} (branch_id, campaign, member, customer, channel, status,"
            " scheduled_at, reason, attempts, assigned_to, note)"
            " SELECT m.branch_id, m.campaign, m.id, m.customer, $2, 'queued',"
            " greatest(now(), ($3::date)::timestamp AT TIME ZONE $4), '', 0,"
            " CASE WHEN NOT $5 THEN NULL"
            "  WHEN c.relationship_manager = ANY($6::int[]) THEN c.relationship_manager"
            "  ELSE ($6::int[])[1 + (row_number() OVER (ORDER BY m.id) - 1)"
            "       % greatest(cardinality($6::int[]), 1)] END, ''"
            f" FROM {MEMBER} m JOIN customer_archive_customer c ON c.id = m.customer"
            " WHERE m.campaign = $1 AND m.\"group\" = 'target' AND m.excluded IS NULL",
            campaign_id,
            channel,
            campaign["starts_on"],
            zone,
            channel in STAFF_CHANNELS,
            staff,
        )
        row = await db.fetchrow(
            f"UPDATE {CAMPAIGN} SET status = 'active', launched_at = now(), updated_at = now()"
            f" WHERE id = $1 RETURNING {campaigns.COLUMNS}",
            campaign_id,
        )
        assert row is not None
        queued = await db.fetchval(
            f"SELECT count(*) FROM {CONTACT} WHERE campaign = $1", campaign_id
        )
        await audit.record(
            audit.Action.UPDATE,
            ENTITY_CAMPAIGN,
            campaign_id,
            branch_id=campaign["branch_id"],
            before={"status": campaign["status"]},
            after={"status": "active", "contacts_queued": queued},
        )
        await emit_event(
            events.CAMPAIGN_LAUNCHED,
            {"campaign_id": campaign_id, "branch_id": campaign["branch_id"], "contacts": queued},
        )
        await enqueue(SEND_JOB, campaign_id)
    return campaigns.out(row)


# --- the rules at send time ----------------------------------------------------------------


def next_opening(calendar: Any, now: datetime) -> datetime | None:
    """None while the branch is open at ``now``; else when it next opens."""
    local = now.astimezone(calendar.timezone)
    day = local.date()
    for _ in range(60):
        interval = calendar.intervals(day)
        if interval is not None:
            opens, closes = interval
            if opens <= local < closes:
                return None
            if local < opens:
                return opens.astimezone(UTC)
        day += timedelta(days=1)
    raise Problem(409, "the branch does not open in the next 60 days", code="branch_closed")


async def rule_refusal(contact: Any, now: datetime) -> str | None:
    """Why the contact may not be made now, by the do-not-contact and frequency rules."""
    refused = await db.fetchval(
        f"SELECT EXISTS (SELECT 1 FROM {DO_NOT_CONTACT} WHERE customer = $1"
        f" AND channel IN ('{DNC_ALL}', $2))",
        contact["customer"],
        contact["channel"],
    )
    if refused:
        return "do_not_contact"
    made = await db.fetchval(
        f"SELECT count(*) FROM {CONTACT} WHERE customer = $1 AND status = 'sent'"
        " AND sent_at > $2::timestamptz - make_interval(days => $3) AND id <> $4",
        contact["customer"],
        now,
        contact["frequency_days"],
        contact["id"],
    )
    if made >= contact["frequency_cap"]:
        return "frequency_cap"
    return None


async def _skip(contact: Any, reason: str) -> None:
    await db.fetch(
        f"UPDATE {CONTACT} SET status = 'skipped', reason = $2 WHERE id = $1",
        contact["id"],
        reason,
    )


LOCKED = (
    f"SELECT k.{', k.'.join(CONTACT_COLUMNS.split(', '))}, k.branch_id,"
    " c.title, c.message, c.frequency_cap, c.frequency_days"
    f" FROM {CONTACT} k JOIN {CAMPAIGN} c ON c.id = k.campaign"
    " WHERE k.id = ANY($1::bigint[]) AND k.status = 'queued' AND c.status = 'active'"
    " ORDER BY k.id FOR UPDATE OF k SKIP LOCKED"
)


async def _gateway(message: OutgoingMessage, registry: PluginHooks) -> str | None:
    for _plugin, answer in registry.call_each("marketing_send_message", message=message):
        if inspect.isawaitable(answer):
            answer = await answer
        if answer is not None:
            return str(answer)
    return None


async def _send_message(
    contact: Any, now: datetime, registry: PluginHooks | None, result: SendResult
) -> None:
    calendar = await business_calendar.calendar_for(contact["branch_id"])
    opening = next_opening(calendar, now)
    if opening is not None:
        await db.fetch(
            f"UPDATE {CONTACT} SET scheduled_at = $2, reason = 'quiet_hours' WHERE id = $1",
            contact["id"],
            opening,
        )
        result.held += 1
        return
    address = await db.fetchval(
        "SELECT CASE WHEN $2 = 'email' THEN c.email ELSE c.phone END"
        " FROM customer_archive_customer c WHERE c.id = $1",
        contact["customer"],
        contact["channel"],
    )
    if not address:
        await _skip(contact, "no_address")
        result.skipped += 1
        return
    message = OutgoingMessage(
        idempotency_key=f"{ENTITY_CONTACT}.{contact['id']}",
        contact_id=contact["id"],
        campaign_id=contact["campaign"],
        branch_id=contact["branch_id"],
        customer_id=contact["customer"],
        channel=contact["channel"],
        address=address,
        title=contact["title"],
        body=contact["message"],
    )
    try:
        reference = await _gateway(message, registry or plugin_hooks())
    except Exception as exc:
        attempts = contact["attempts"] + 1
        final = attempts >= MAX_ATTEMPTS
        await db.fetch(
            f"UPDATE {CONTACT} SET attempts = $2, reason = $3,"
            " status = CASE WHEN $4 THEN 'failed' ELSE status END WHERE id = $1",
            contact["id"],
            attempts,
            f"gateway: {exc}"[:1000],
            final,
        )
        if final:
            result.failed += 1
        else:
            result.retry += 1
        return
    if reference is None:
        await db.fetch(
            f"UPDATE {CONTACT} SET status = 'failed', reason = $2 WHERE id = $1",
            contact["id"],
            f"no gateway for the channel {contact['channel']}",
        )
        result.failed += 1
        return
    await db.fetch(
        f"UPDATE {CONTACT} SET status = 'sent', sent_at = $2, provider_ref = $3,"
        " attempts = attempts + 1, reason = '' WHERE id = $1",
        contact["id"],
        now,
        reference[:200],
    )
    result.sent += 1


async def _hand_to_staff(rows: list[Any], now: datetime, result: SendResult) -> None:
    """Calls and visits: mark them handed over and tell each assignee once."""
    tasks: dict[tuple[int, int], list[Any]] = {}
    for contact in rows:
        refusal = await rule_refusal(contact, now)
        if refusal is not None:
            await _skip(contact, refusal)
            result.skipped += 1
            continue
        tasks.setdefault((contact["campaign"], contact["assigned_to"]), []).append(contact)
    for (campaign_id, user_id), batch in tasks.items():
        await db.fetch(
            f"UPDATE {CONTACT} SET status = 'sent', sent_at = $2, attempts = attempts + 1"
            " WHERE id = ANY($1::bigint[])",
            [c["id"] for c in batch],
            now,
        )
        result.sent += len(batch)
        first = batch[0]
        await notify(
            [user_id],
            CONTACT_TASKS,
            {
                "title": first["title"],
                "count": len(batch),
                "channel_zh": "电话" if first["channel"] == "call" else "网点面谈",
                "channel_en": "call" if first["channel"] == "call" else "branch visit",
            },
            NotificationSource(PLUGIN, CAMPAIGN, campaign_id, first["branch_id"]),
        )


async def send_due(
    campaign_id: int | None = None,
    *,
    now: datetime | None = None,
    registry: PluginHooks | None = None,
) -> SendResult:
    """Make the queued contacts that are due (of one campaign, or of every active one in
    scope); safe to run twice and concurrently."""
    at = now or datetime.now(UTC)
    result = SendResult()
    after = 0
    while True:
        ids = [
            r["id"]
            for r in await db.fetch(
                f"SELECT k.id FROM {CONTACT} k JOIN {CAMPAIGN} c ON c.id = k.campaign"
                " WHERE k.status = 'queued' AND k.scheduled_at <= $1 AND c.status = 'active'"
                " AND ($2::bigint IS NULL OR k.campaign = $2) AND k.id > $3"
                " ORDER BY k.id LIMIT $4",
                at,
                campaign_id,
                after,
                BATCH,
            )
        ]
        if not ids:
            return result
        after = ids[-1]
        async with db.transaction():
            rows = await db.fetch(LOCKED, ids)
            staff_rows = [r for r in rows if r["channel"] in STAFF_CHANNELS]
            await _hand_to_staff(staff_rows, at, result)
        for contact_id in ids:
            async with db.transaction():
                locked = await db.fetch(LOCKED, [contact_id])
                if not locked or locked[0]["channel"] in STAFF_CHANNELS:
                    continue
                contact = locked[0]
                refusal = await rule_refusal(contact, at)
                if refusal is not None:
                    await _skip(contact, refusal)
                    result.skipped += 1
                    continue
                await _send_message(contact, at, registry, result)


# --- reading and responses -----------------------------------------------------------------


async def list_members(
    campaign_id: int,
    *,
    group: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[MemberOut]:
    await campaigns.campaign_row(campaign_id)
    after = decode_cursor(cursor, (int,))
    rows = await db.fetch(
        f'SELECT id, campaign, customer, "group", excluded FROM {MEMBER}'
        ' WHERE campaign = $1 AND ($2::text IS NULL OR "group" = $2)'
        " AND ($3::bigint IS NULL OR id > $3) ORDER BY id LIMIT $4",
        campaign_id,
        group,
        after[0] if after else None,
        limit + 1,
    )
    items = [MemberOut(r["id"], r["campaign"], r["customer"], r["group"], r["excluded"])
             for r in rows[:limit]]  # fmt: skip
    return Page(items, encode_cursor([items[-1].id]) if len(rows) > limit else None)


async def list_contacts(
    campaign_id: int,
    *,
    status: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[ContactOut]:
    await campaigns.campaign_row(campaign_id)
    after = decode_cursor(cursor, (int,))
    rows = await db.fetch(
        f"SELECT {CONTACT_COLUMNS} FROM {CONTACT}"
        " WHERE campaign = $1 AND ($2::text IS NULL OR status = $2)"
        " AND ($3::bigint IS NULL OR id > $3) ORDER BY id LIMIT $4",
        campaign_id,
        status,
        after[0] if after else None,
        limit + 1,
    )
    items = [contact_out(r) for r in rows[:limit]]
    return Page(items, encode_cursor([items[-1].id]) if len(rows) > limit else None)


async def get_contact(contact_id: int) -> ContactOut:
    row = await db.fetchrow(f"SELECT {CONTACT_COLUMNS} FROM {CONTACT} WHERE id = $1", contact_id)
    if row is None:
        raise not_found(f"contact {contact_id}")
    return contact_out(row)


async def record_response(contact_id: int, data: ResponseIn) -> ContactOut:
    """The customer's response to a contact made; ``opt_out`` flags the customer."""
    async with db.transaction():
        row = await db.fetchrow(
            f"SELECT {CONTACT_COLUMNS}, branch_id FROM {CONTACT} WHERE id = $1 FOR UPDATE",
            contact_id,
        )
        if row is None:
            raise not_found(f"contact {contact_id}")
        if row["status"] != "sent":
            raise Problem(409, "only a contact made can have a response", code="not_sent")
        updated = await db.fetchrow(
            f"UPDATE {CONTACT} SET response = $2, note = $3, responded_at = now()"
            f" WHERE id = $1 RETURNING {CONTACT_COLUMNS}",
            contact_id,
            data.response,
            data.note,
        )
        assert updated is not None
        await audit.record(
            audit.Action.UPDATE,
            ENTITY_CONTACT,
            contact_id,
            branch_id=row["branch_id"],
            before={"response": row["response"]},
            after={"response": data.response, "note": data.note},
        )
        await outcomes.record_response(row, data.response, data.note)
        if data.response == "opt_out":
            await _flag(row["customer"], DNC_ALL, f"opted out (contact {contact_id})")
        await emit_event(
            events.CONTACT_RESPONDED,
            {"contact_id": contact_id, "campaign_id": row["campaign"],
             "customer_id": row["customer"], "response": data.response,
             "branch_id": row["branch_id"]},
        )  # fmt: skip
    return contact_out(updated)


# --- do not contact ------------------------------------------------------------------------

DNC_COLUMNS = "id, branch_id, customer, channel, reason, created_at"


def dnc_out(row: Any) -> DoNotContactOut:
    return DoNotContactOut(row["id"], row["branch_id"], row["customer"], row["channel"],
                           row["reason"], row["created_at"])  # fmt: skip


async def _flag(customer_id: int, channel: str, reason: str) -> DoNotContactOut | None:
    """Flag the customer (in the customer's branch); None when already flagged so."""
    branch_id = await db.fetchval(
        "SELECT c.branch_id FROM customer_archive_customer c WHERE c.id = $1", customer_id
    )
    if branch_id is None:
        raise invalid("body.customer_id", f"no customer {customer_id} is visible to you")
    exists = await db.fetchval(
        f"SELECT id FROM {DO_NOT_CONTACT} WHERE customer = $1 AND channel = $2",
        customer_id,
        channel,
    )
    if exists is not None:
        return None
    row = await db.fetchrow(
        f"INSERT INTO {DO_NOT_CONTACT} (branch_id, customer, channel, reason, created_at)"
        f" VALUES ($1, $2, $3, $4, now()) RETURNING {DNC_COLUMNS}",
        branch_id,
        customer_id,
        channel,
        reason,
    )
    assert row is not None
    await audit.record(
        audit.Action.CREATE,
        ENTITY_DO_NOT_CONTACT,
        row["id"],
        branch_id=branch_id,
        after={"customer": customer_id, "channel": channel, "reason": reason},
    )
    return dnc_out(row)


async def add_do_not_contact(data: DoNotContactIn) -> DoNotContactOut:
    async with db.transaction():
        created = await _flag(data.customer_id, data.channel, data.reason)
        if created is None:
            raise Problem(
                409, "body.channel: the customer is already flagged so", code="already_flagged"
            )
    return created


async def get_do_not_contact(flag_id: int) -> DoNotContactOut:
    row = await db.fetchrow(f"SELECT {DNC_COLUMNS} FROM {DO_NOT_CONTACT} WHERE id = $1", flag_id)
    if row is None:
        raise not_found(f"do-not-contact flag {flag_id}")
    return dnc_out(row)


async def list_do_not_contact(
    *, customer_id: int | None = None, limit: int = 50, cursor: str | None = None
) -> Page[DoNotContactOut]:
    after = decode_cursor(cursor, (int,))
    rows = await db.fetch(
        f"SELECT {DNC_COLUMNS} FROM {DO_NOT_CONTACT}"
        " WHERE ($1::bigint IS NULL OR customer = $1) AND ($2::bigint IS NULL OR id < $2)"
        " ORDER BY id DESC LIMIT $3",
        customer_id,
        after[0] if after else None,
        limit + 1,
    )
    items = [dnc_out(r) for r in rows[:limit]]
    return Page(items, encode_cursor([items[-1].id]) if len(rows) > limit else None)


async def remove_do_not_contact(flag_id: int) -> None:
    async with db.transaction():
        row = await db.fetchrow(
            f"DELETE FROM {DO_NOT_CONTACT} WHERE id = $1 RETURNING {DNC_COLUMNS}", flag_id
        )
        if row is None:
            raise not_found(f"do-not-contact flag {flag_id}")
        await audit.record(
            audit.Action.DELETE,
            ENTITY_DO_NOT_CONTACT,
            flag_id,
            branch_id=row["branch_id"],
            before={"customer": row["customer"], "channel": row["channel"]},
        )
