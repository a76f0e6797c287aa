"""The domain logic: what the routes and the job call, and (with :mod:`.events`) what
other plugins may import.

A ticket (服务工单) is a complaint, inquiry, suggestion, report (申告), care request or bill
question from a customer (or a walk-in without one), through a channel, about a product.
Its status moves only along :data:`TRANSITIONS` — reopening a resolved or closed ticket
included — and every move is kept in the ticket's history with who and why. A complaint
from a customer who complained within :data:`REPEAT_DAYS` days is linked to the earlier
one and raised to at least high priority: a repeat is a service failure.

Every function runs under the caller's bound scope. Row-level security shows and changes
only rows of the branches in that scope, so another branch's row is absent (404), never
forbidden. Each change commits together with its audit row, its history row and its event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from bankcrm import audit, db
from bankcrm.context import require_scope
from bankcrm.jobs import emit_event
from bankcrm.notifications import able_to_receive
from bankcrm.web.pagination import Page, decode_cursor, encode_cursor
from bankcrm.web.problems import FieldError, Problem, invalid, not_found
from bankcrm_customer_archive import services as archive
from bankcrm_service import events, sla, triage_queue, urgency

TABLE = "service_ticket"
EVENT = "service_ticket_event"
ENTITY = "service.ticket"
"""The audit trail's name for these rows."""
COLUMNS = (
    "id, branch_id, customer, kind, channel, priority, product_code, title, body, status,"
    " repeat_of, created_by, assignee, resolved_at, created_at, updated_at, sla_policy,"
    " sla_hours, sla_warn_at, sla_due_at, sla_paused_at, sla_paused_seconds, sla_breached_at"
)
CLOSE_RESOLVED_AFTER_DAYS = 7
"""A resolved ticket the customer has not reopened for this many days is closed."""
REPEAT_DAYS = 90

Id = Annotated[int, Meta(ge=1, le=2**31 - 1)]
Title = Annotated[str, Meta(min_length=1, max_length=200)]
Body = Annotated[str, Meta(max_length=4000)]
Note = Annotated[str, Meta(max_length=1000)]
ProductCode = Annotated[str, Meta(min_length=1, max_length=32)]
Status = Literal["new", "in_progress", "waiting_customer", "resolved", "closed"]
Kind = Literal["complaint", "inquiry", "suggestion", "report", "care", "bill"]
Channel = Literal["counter", "phone", "web", "app", "wechat", "email"]
Priority = Literal["low", "normal", "high", "urgent"]
PRIORITIES: tuple[Priority, ...] = ("low", "normal", "high", "urgent")

TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"in_progress", "waiting_customer", "resolved", "closed"}),
    "in_progress": frozenset({"waiting_customer", "resolved"}),
    "waiting_customer": frozenset({"in_progress", "resolved"}),
    "resolved": frozenset({"closed", "in_progress"}),
    "closed": frozenset({"in_progress"}),
}
"""Where a status may go next; ``resolved``/``closed`` → ``in_progress`` is a reopen."""


class TicketIn(Struct, forbid_unknown_fields=True, kw_only=True):
    title: Title
    body: Body = ""
    kind: Kind = "inquiry"
    channel: Channel = "counter"
    priority: Priority = "normal"
    customer_id: Id | None = None
    """The archive's customer (omit for a walk-in without one)."""
    product_code: ProductCode | None = None
    assignee: Id | None = None
    """The staff user (user id) who works the ticket; told before and at an SLA breach."""
    branch_id: Id | None = None
    """Default: the customer's branch, else your home branch; it must be in your scope."""


class TicketPatch(Struct, forbid_unknown_fields=True, kw_only=True):
    title: Title | UnsetType = UNSET
    body: Body | UnsetType = UNSET
    priority: Priority | UnsetType = UNSET
    status: Status | UnsetType = UNSET
    assignee: Id | UnsetType | None = UNSET
    note: Note = ""
    """Why the status changes (kept in the history)."""


class TicketOut(Struct):
    id: int
    branch_id: int
    customer: int | None
    kind: str
    channel: str
    priority: str
    product_code: str | None
    title: str
    body: str
    status: str
    repeat_of: int | None
    created_by: str
    assignee: int | None
    resolved_at: datetime | None
    created_at: datetime
    updated_at: datetime
    sla_policy: int | None
    """The SLA policy that set the due time (None: the default by priority)."""
    sla_hours: int | None
    sla_warn_at: datetime | None
    sla_due_at: datetime | None
    """When the ticket must be resolved (business time; pushed out while it waits)."""
    sla_paused_at: datetime | None
    """Since when the SLA clock stands (waiting on the customer, resolved, closed)."""
    sla_paused_seconds: int
    sla_breached_at: datetime | None


class TicketEventOut(Struct):
    from_status: str | None
    to_status: str
    note: str
    actor: str
    at: datetime


def _out(row: Any) -> TicketOut:
    return TicketOut(**dict(row))


def _audited(row: Any) -> dict[str, Any]:
    return {
        k: row[k]
        for k in ("title", "kind", "channel", "priority", "status", "customer", "assignee")
    }


def _title(value: str) -> str:
    title = value.strip()
    if not title:
        raise invalid("/body/title", "must not be blank")
    return title


async def _branch_for_new(branch_id: int | None, customer_branch: int | None) -> int:
    scope = require_scope()
    chosen = branch_id if branch_id is not None else customer_branch or scope.home_branch_id
    if chosen is None:
        raise invalid("/body/branch_id", "required: you have no home branch")
    if chosen not in scope.branch_ids:
        raise invalid("/body/branch_id", "the branch is outside your scope")
    return chosen


async def _check_assignee(assignee: int | None, branch_id: int) -> None:
    if assignee is not None and not await able_to_receive([assignee], branch_id):
        raise invalid("/body/assignee", f"no active staff user {assignee} in the ticket's branch")


async def list_tickets(
    *,
    status: str | None = None,
    kind: str | None = None,
    customer_id: int | None = None,
    branch_id: int | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[TicketOut]:
    """The tickets of the branches in scope, newest first, in keyset pages."""
    after = decode_cursor(cursor, (int,))
    rows = await db.fetch(
        f"SELECT {COLUMNS} FROM {TABLE}"
        " WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR kind = $2)"
        " AND ($3::bigint IS NULL OR customer = $3) AND ($4::bigint IS NULL OR branch_id = $4)"
        " AND ($5::bigint IS NULL OR id < $5) ORDER BY id DESC LIMIT $6",
        status, kind, customer_id, branch_id, after[0] if after else None, limit + 1,
    )  # fmt: skip
    items = [_out(row) for row in rows[:limit]]
    more = len(rows) > limit
    return Page(items, encode_cursor([items[-1].id]) if more else None)


async def get_ticket(ticket_id: int) -> TicketOut:
    row = await db.fetchrow(f"SELECT {COLUMNS} FROM {TABLE} WHERE id = $1", ticket_id)
    if row is None:
        raise not_found(f"ticket {ticket_id}")
    return _out(row)


async def ticket_history(ticket_id: int) -> list[TicketEventOut]:
    """Every status change of a ticket, oldest first."""
    await get_ticket(ticket_id)
    rows = await db.fetch(
        f"SELECT from_status, to_status, note, actor, at FROM {EVENT} WHERE ticket = $1"
        " ORDER BY at, id",
        ticket_id,
    )
    return [TicketEventOut(**dict(r)) for r in rows]


async def _history(row: Any, before: str | None, note: str) -> None:
    await db.fetch(
        f"INSERT INTO {EVENT} (branch_id, ticket, from_status, to_status, note, actor, at)"
        " VALUES ($1, $2, $3, $4, $5, $6, now())",
        row["branch_id"], row["id"], before, row["status"], note, require_scope().actor,
    )  # fmt: skip


async def create_ticket(data: TicketIn) -> TicketOut:
    customer_branch: int | None = None
    if data.customer_id is not None:
        facts = await archive.customer_facts([data.customer_id])
        if not facts:
            raise invalid("/body/customer_id", f"no customer {data.customer_id} in your branches")
        customer_branch = facts[0].branch_id
    branch_id = await _branch_for_new(data.branch_id, customer_branch)
    title = _title(data.title)
    await _check_assignee(data.assignee, branch_id)
    priority: Priority = data.priority
    now = sla.utcnow()
    async with db.transaction():
        repeat_of = None
        if data.kind == "complaint" and data.customer_id is not None:
            repeat_of = await db.fetchval(
                f"SELECT id FROM {TABLE} WHERE customer = $1 AND kind = 'complaint'"
                " AND created_at > now() - make_interval(days => $2) ORDER BY id DESC LIMIT 1",
                data.customer_id, REPEAT_DAYS,
            )  # fmt: skip
            if repeat_of is not None and PRIORITIES.index(priority) < PRIORITIES.index("high"):
                priority = "high"
        due = await sla.start(branch_id, data.kind, priority, data.customer_id, now)
        row = await db.fetchrow(
            f"INSERT INTO {TABLE} (branch_id, customer, kind, channel, priority, product_code,"
            " title, body, status, repeat_of, created_by, assignee, created_at, updated_at,"
            " sla_policy, sla_hours, sla_warn_at, sla_due_at) VALUES ($1, $2, $3, $4, $5, $6,"
            " $7, $8, 'new', $9, $10, $11, $12, $12, $13, $14, $15, $16)"
            f" RETURNING {COLUMNS}",
            branch_id, data.customer_id, data.kind, data.channel, priority, data.product_code,
            title, data.body, repeat_of, require_scope().actor, data.assignee, now,
            due["sla_policy"], due["sla_hours"], due["sla_warn_at"], due["sla_due_at"],
        )  # fmt: skip
        assert row is not None
        await _history(row, None, "重复投诉" if repeat_of else "")
        await triage_queue.assess(row["id"], branch_id, f"{title}\n{data.body}", data.kind)
        await audit.record(
            audit.Action.CREATE, ENTITY, row["id"], branch_id=branch_id, after=_audited(row)
        )
        await emit_event(
            events.TICKET_CREATED,
            {"ticket_id": row["id"], "branch_id": branch_id, "kind": data.kind},
        )
    return _out(row)


async def update_ticket(ticket_id: int, data: TicketPatch) -> TicketOut:
    values = {
        k: v for k, v in msgspec.structs.asdict(data).items() if v is not UNSET and k != "note"
    }
    if "title" in values:
        values["title"] = _title(values["title"])
    async with db.transaction():
        before = await db.fetchrow(
            f"SELECT {COLUMNS} FROM {TABLE} WHERE id = $1 FOR UPDATE", ticket_id
        )
        if before is None:
            raise not_found(f"ticket {ticket_id}")
        changed = {k: v for k, v in values.items() if before[k] != v}
        if not changed:
            return _out(before)
        status = changed.get("status")
        if status is not None and status not in TRANSITIONS[before["status"]]:
            raise Problem(
                409,
                f"a ticket that is {before['status']} cannot become {status}",
                [FieldError("/body/status", f"allowed: {sorted(TRANSITIONS[before['status']])}")],
                "bad_transition",
            )
        if "assignee" in changed:
            await _check_assignee(changed["assignee"], before["branch_id"])
        clock = await sla.on_change(before, status, changed.get("priority"), sla.utcnow())
        columns = changed | clock
        assignments = ", ".join(f"{column} = ${i}" for i, column in enumerate(columns, 2))
        resolved = ""
        if status == "resolved":
            resolved = ", resolved_at = now()"
        elif status == "in_progress" and before["status"] in ("resolved", "closed"):
            resolved = ", resolved_at = NULL"
        row = await db.fetchrow(
            f"UPDATE {TABLE} SET {assignments}{resolved}, updated_at = now() WHERE id = $1"
            f" RETURNING {COLUMNS}",
            ticket_id, *columns.values(),
        )  # fmt: skip
        assert row is not None
        if status is not None:
            await _history(row, before["status"], data.note)
        await audit.record(
            audit.Action.UPDATE, ENTITY, ticket_id, branch_id=row["branch_id"],
            before={k: before[k] for k in changed}, after=changed, reason=data.note,
        )  # fmt: skip
        if status == "closed":
            await emit_event(
                events.TICKET_CLOSED, {"ticket_id": ticket_id, "branch_id": row["branch_id"]}
            )
    return _out(row)


async def delete_ticket(ticket_id: int) -> None:
    async with db.transaction():
        row = await db.fetchrow(f"DELETE FROM {TABLE} WHERE id = $1 RETURNING {COLUMNS}", ticket_id)
        if row is None:
            raise not_found(f"ticket {ticket_id}")
        await db.fetch(f"DELETE FROM {EVENT} WHERE ticket = $1", ticket_id)
        await db.fetch(f"DELETE FROM {triage_queue.TABLE} WHERE ticket = $1", ticket_id)
        await db.fetch(f"DELETE FROM {sla.STEP} WHERE ticket = $1", ticket_id)
        await audit.record(
            audit.Action.DELETE, ENTITY, ticket_id, branch_id=row["branch_id"],
            before=_audited(row),
        )  # fmt: skip


async def close_resolved(days: int = CLOSE_RESOLVED_AFTER_DAYS) -> int:
    """Close the resolved tickets in scope the customer has not reopened for ``days``
    days; how many. Safe to run twice: a closed row is no longer selected."""
    async with db.transaction():
        rows = await db.fetch(
            f"UPDATE {TABLE} SET status = 'closed', updated_at = now()"
            " WHERE status = 'resolved' AND updated_at < now() - make_interval(days => $1)"
            f" RETURNING {COLUMNS}",
            days,
        )
        for row in rows:
            await _history(row, "resolved", f"{days} 天未重开，自动关闭")
            await audit.record(
                audit.Action.UPDATE, ENTITY, row["id"], branch_id=row["branch_id"],
                before={"status": "resolved"}, after={"status": "closed"},
                reason=f"resolved and not reopened for {days} days",
            )  # fmt: skip
            await emit_event(
                events.TICKET_CLOSED, {"ticket_id": row["id"], "branch_id": row["branch_id"]}
            )
    return len(rows)


async def customer_tickets(customer_id: int, before: datetime, limit: int) -> list[TicketOut]:
    """A customer's tickets created before ``before``, newest first (the timeline)."""
    rows = await db.fetch(
        f"SELECT {COLUMNS} FROM {TABLE} WHERE customer = $1 AND created_at < $2"
        " ORDER BY created_at DESC LIMIT $3",
        customer_id, before, limit,
    )  # fmt: skip
    return [_out(r) for r in rows]


class ReasonOut(Struct):
    code: str
    zh: str
    en: str
    points: int


class UrgencyOut(Struct):
    ticket_id: int
    suggested_priority: str
    """What the signals suggest; the ticket's own ``priority`` is what staff set."""
    priority: str
    points: int
    reasons: list[ReasonOut]


async def ticket_urgency(ticket_id: int) -> UrgencyOut:
    """The urgency signals of a ticket with their reasons (:mod:`.urgency`): its title and
    text, whether it repeats a complaint, and its customer's value tier."""
    row = await db.fetchrow(f"SELECT {COLUMNS} FROM {TABLE} WHERE id = $1", ticket_id)
    if row is None:
        raise not_found(f"ticket {ticket_id}")
    tier = None
    if row["customer"] is not None:
        tier = await db.fetchval(
            f"SELECT value_tier FROM {archive.CUSTOMER} WHERE id = $1", row["customer"]
        )
    assessed = urgency.assess(
        f"{row['title']}\n{row['body']}", value_tier=tier, repeat=row["repeat_of"] is not None
    )
    return UrgencyOut(
        ticket_id,
        assessed.priority,
        row["priority"],
        assessed.points,
        [ReasonOut(r.code, r.zh, r.en, r.points) for r in assessed.reasons],
    )
