"""Follow-up discipline: no lead or opportunity is lost to silence.

Every open lead and opportunity has a next follow-up (in the branch's business time).
The sweep, run by the scheduler every few minutes with a system scope over the branches
where sales is enabled (and by tests with a clock of their own), takes three steps per
branch, each with the branch's intervals from its sales settings:

1. **reminded**: due within ``remind_before_hours`` business hours: the owner is told;
2. **escalated**: overdue by ``escalate_after_hours``: the owner's manager (else the branch
   manager) is told, the item flagged, the owner told it was escalated;
3. **reassigned**: still idle ``reassign_after_hours`` after that: the assignment engine
   gives it to someone else by the branch's rules, with a new first follow-up; both
   people are told why.

Each step is a row of ``sales_follow_up_step`` keyed by (kind, item, due time, step),
inserted with ``ON CONFLICT DO NOTHING``: a second sweep in the same tick, a redelivered
message or two schedulers at once notify nobody twice. Recording an activity moves the
due time, which starts a new cycle. Notifications go through the kernel's centre and
e-mail, sent after each step's transaction commits; one notice per person and step
lists their items, so a sweep over many items sends few messages.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from msgspec import Struct

import bankcrm.organisation.service as organisation
from bankcrm import assignment, audit, business_calendar, db
from bankcrm.assignment import WorkItem
from bankcrm.context import require_scope
from bankcrm.jobs import emit_event
from bankcrm.notifications import NotificationSource, notify
from bankcrm.web.problems import Problem, invalid, not_found
from bankcrm_customer_archive import services as archive
from bankcrm_sales import events, settings
from bankcrm_sales.common import (
    LEAD,
    LEAD_KIND,
    OPPORTUNITY,
    OPPORTUNITY_KIND,
    OPPORTUNITY_PRODUCT,
    as_engine,
    utcnow,
    work_attributes,
)
from bankcrm_sales.leads import first_due

STEP = "sales_follow_up_step"
LISTED = 5
"""Items named in one notice; the rest are counted."""


@dataclass(frozen=True)
class Kind:
    name: str
    table: str
    work_kind: str
    open: str
    title: str
    event: str


KINDS = (
    Kind("lead", LEAD, LEAD_KIND, "status IN ('new', 'contacted', 'qualified')",
         "prospect_name", events.LEAD_REASSIGNED),
    Kind("opportunity", OPPORTUNITY, OPPORTUNITY_KIND, "status = 'open'", "title",
         events.OPPORTUNITY_REASSIGNED),
)  # fmt: skip
KIND_BY_NAME = {k.name: k for k in KINDS}
WHAT = {"lead": "线索", "opportunity": "商机"}


@dataclass
class SweepResult:
    reminded: int = 0
    escalated: int = 0
    reassigned: int = 0
    notifications: int = 0
    skipped: list[str] = field(default_factory=list)
    """Items that could not be reassigned (nobody else has room), with the reason."""


class StepOut(Struct):
    step: str
    due_at: datetime
    owner: int
    new_owner: int | None
    notified: list[int]
    reason: str
    at: datetime


def _listing(titles: list[str]) -> str:
    shown = "、".join(titles[:LISTED])
    return shown + (f" 等{len(titles)}项" if len(titles) > LISTED else "")


async def sweep(
    now: datetime | None = None, branch_ids: Iterable[int] | None = None
) -> SweepResult:
    """One tick over the branches in scope (or ``branch_ids``); safe to run twice."""
    now = now or utcnow()
    result = SweepResult()
    scope = require_scope()
    for branch_id in sorted(branch_ids if branch_ids is not None else scope.branch_ids):
        config = await settings.for_branch(branch_id)
        calendar = await business_calendar.calendar_for(branch_id)
        remind_until = calendar.add(now, timedelta(hours=config.remind_before_hours))
        escalate_before = calendar.subtract(now, timedelta(hours=config.escalate_after_hours))
        reassign_before = calendar.subtract(
            now, timedelta(hours=config.escalate_after_hours + config.reassign_after_hours)
        )
        for kind in KINDS:
            await _remind(kind, branch_id, now, remind_until, result)
            await _escalate(kind, branch_id, now, escalate_before, result)
            await _reassign(kind, branch_id, now, reassign_before, result)
    return result


async def _remind(
    kind: Kind, branch_id: int, now: datetime, until: datetime, result: SweepResult
) -> None:
    async with db.transaction():
        rows = await db.fetch(
            f"WITH due AS (SELECT id, owner, next_follow_up_at AS due_at, {kind.title} AS title"
            f" FROM {kind.table} WHERE branch_id = $1 AND {kind.open}"
            " AND next_follow_up_at > $2 AND next_follow_up_at <= $3),"
            f" made AS (INSERT INTO {STEP} (branch_id, kind, item_id, due_at, step, owner,"
            " notified, at) SELECT $1, $4, id, due_at, 'reminded', owner, ARRAY[owner], $2"
            " FROM due ON CONFLICT (kind, item_id, due_at, step) DO NOTHING"
            " RETURNING item_id) SELECT due.* FROM due JOIN made ON made.item_id = due.id"
            " ORDER BY due.due_at, due.id",
            branch_id, now, until, kind.name,
        )  # fmt: skip
        by_owner: dict[int, list[Any]] = defaultdict(list)
        for row in rows:
            by_owner[row["owner"]].append(row)
        for owner, items in by_owner.items():
            await notify(
                [owner], "sales.follow_up_due",
                {"count": len(items), "items": _listing([i["title"] for i in items]),
                 "what": WHAT[kind.name]},
                NotificationSource("sales", kind.table, items[0]["id"], branch_id),
            )  # fmt: skip
            result.notifications += 1
        result.reminded += len(rows)


async def _escalate(
    kind: Kind, branch_id: int, now: datetime, before: datetime, result: SweepResult
) -> None:
    async with db.transaction():
        rows = await db.fetch(
            f"WITH due AS (SELECT id, owner, next_follow_up_at AS due_at, {kind.title} AS title"
            f" FROM {kind.table} WHERE branch_id = $1 AND {kind.open}"
            " AND next_follow_up_at <= $2),"
            f" made AS (INSERT INTO {STEP} (branch_id, kind, item_id, due_at, step, owner,"
            " notified, at) SELECT $1, $3, id, due_at, 'escalated', owner, '{}', $4 FROM due"
            " ON CONFLICT (kind, item_id, due_at, step) DO NOTHING RETURNING item_id),"
            f" flagged AS (UPDATE {kind.table} t SET flagged = true FROM made"
            " WHERE t.id = made.item_id RETURNING t.id)"
            " SELECT due.* FROM due JOIN made ON made.item_id = due.id ORDER BY due.id",
            branch_id, before, kind.name, now,
        )  # fmt: skip
        if not rows:
            return
        by_owner: dict[int, list[Any]] = defaultdict(list)
        for row in rows:
            by_owner[row["owner"]].append(row)
        what = WHAT[kind.name]
        for owner, items in by_owner.items():
            manager = await organisation.escalation_user(owner, branch_id)
            employee = await organisation.employee_for_user(owner)
            name = employee.name if employee else f"用户{owner}"
            titles = _listing([i["title"] for i in items])
            told = [owner]
            await notify(
                [owner], "sales.follow_up_overdue",
                {"count": len(items), "items": titles, "what": what},
                NotificationSource("sales", kind.table, items[0]["id"], branch_id),
            )  # fmt: skip
            if manager is not None:
                await notify(
                    [manager], "sales.follow_up_escalated",
                    {"owner": name, "count": len(items), "items": titles, "what": what},
                    NotificationSource("sales", kind.table, items[0]["id"], branch_id),
                )  # fmt: skip
                told.append(manager)
            result.notifications += len(told)
            await db.fetch(
                f"UPDATE {STEP} SET notified = $1 WHERE kind = $2 AND step = 'escalated'"
                " AND item_id = ANY($3::int[]) AND due_at = ANY($4::timestamptz[])",
                told, kind.name, [i["id"] for i in items], [i["due_at"] for i in items],
            )  # fmt: skip
            for item in items:
                await emit_event(
                    events.FOLLOW_UP_ESCALATED,
                    {"kind": kind.name, "item_id": item["id"], "branch_id": branch_id,
                     "step": "escalated"},
                )  # fmt: skip
        result.escalated += len(rows)


async def _attributes(kind: Kind, row: Any, catalogue: list[archive.ProductOut]) -> dict[str, Any]:
    """The item's attributes for the branch's rules, as when it was first assigned."""
    if kind.name == "lead":
        by_code = {p.code: p.category for p in catalogue}
        category = by_code.get(row["product_interest"], "")
        return work_attributes(category, row["estimated_amount"], row["channel"])
    first = await db.fetchval(
        f"SELECT product FROM {OPPORTUNITY_PRODUCT} WHERE opportunity = $1 ORDER BY id LIMIT 1",
        row["id"],
    )
    by_id = {p.id: p.category for p in catalogue}
    return work_attributes(by_id.get(first, ""), row["amount"], row["channel"])


async def _reassign(
    kind: Kind, branch_id: int, now: datetime, before: datetime, result: SweepResult
) -> None:
    amount = "estimated_amount" if kind.name == "lead" else "amount"
    product = "product_interest" if kind.name == "lead" else "NULL AS product_interest"
    idle = await db.fetch(
        f"SELECT t.id, t.owner, t.next_follow_up_at AS due_at, t.{kind.title} AS title,"
        f" t.channel, t.{amount} AS {amount}, {product} FROM {kind.table} t"
        f" WHERE t.branch_id = $1 AND {kind.open.replace('status', 't.status')}"
        " AND t.next_follow_up_at <= $2"
        f" AND EXISTS (SELECT 1 FROM {STEP} s WHERE s.kind = $3 AND s.item_id = t.id"
        " AND s.due_at = t.next_follow_up_at AND s.step = 'escalated')"
        f" AND NOT EXISTS (SELECT 1 FROM {STEP} s WHERE s.kind = $3 AND s.item_id = t.id"
        " AND s.due_at = t.next_follow_up_at AND s.step = 'reassigned') ORDER BY t.id",
        branch_id, before, kind.name,
    )  # fmt: skip
    if not idle:
        return
    catalogue = await archive.list_products()
    reason = "逾期未跟进，按规则重新分配"
    for row in idle:
        employee = await organisation.employee_for_user(row["owner"])
        try:
            async with db.transaction():
                await _hand_over(
                    kind, branch_id, row, employee.id if employee else None,
                    await _attributes(kind, row, catalogue), reason, now, result,
                )  # fmt: skip
        except Problem as problem:
            if problem.code != "no_assignee":
                raise
            result.skipped.append(f"{kind.name} {row['id']}: {problem.detail}")


async def _hand_over(
    kind: Kind,
    branch_id: int,
    row: Any,
    away_from: int | None,
    attributes: dict[str, Any],
    reason: str,
    now: datetime,
    result: SweepResult,
) -> None:
    locked = await db.fetchrow(
        f"SELECT next_follow_up_at FROM {kind.table} WHERE id = $1 AND {kind.open} FOR UPDATE",
        row["id"],
    )
    if locked is None or locked["next_follow_up_at"] != row["due_at"]:
        return  # followed up (or closed) since the read: nothing to do
    moved = await assignment.reassign_by_rules(
        WorkItem(kind.work_kind, str(row["id"]), branch_id, attributes), reason,
        away_from=away_from,
    )  # fmt: skip
    assert moved.user_id is not None
    due = await first_due(branch_id, now)
    async with as_engine():
        await db.fetch(
            f"UPDATE {kind.table} SET owner = $2, next_follow_up_at = $3, flagged = false,"
            " updated_at = now() WHERE id = $1",
            row["id"], moved.user_id, due,
        )  # fmt: skip
    told = sorted({row["owner"], moved.user_id})
    await db.fetch(
        f"INSERT INTO {STEP} (branch_id, kind, item_id, due_at, step, owner, new_owner,"
        " notified, reason, at) VALUES ($1, $2, $3, $4, 'reassigned', $5, $6, $7, $8, $9)"
        " ON CONFLICT (kind, item_id, due_at, step) DO NOTHING",
        branch_id, kind.name, row["id"], row["due_at"], row["owner"], moved.user_id, told,
        reason, now,
    )  # fmt: skip
    await audit.record(
        audit.Action.UPDATE, kind.work_kind, row["id"], branch_id=branch_id,
        before={"owner": row["owner"]}, after={"owner": moved.user_id, "next_follow_up_at": due},
        reason=reason,
    )  # fmt: skip
    await emit_event(
        kind.event,
        {f"{kind.name}_id": row["id"], "branch_id": branch_id, "from_user": row["owner"],
         "to_user": moved.user_id, "reason": reason},
    )  # fmt: skip
    await notify(
        told, "sales.work_reassigned",
        {"title": row["title"], "reason": reason, "what": WHAT[kind.name]},
        NotificationSource("sales", kind.table, row["id"], branch_id),
    )  # fmt: skip
    result.notifications += len(told)
    result.reassigned += 1


async def history(kind_name: str, item_id: int) -> list[StepOut]:
    """The follow-up steps of an item the caller may see, oldest first."""
    kind = KIND_BY_NAME[kind_name]
    if await db.fetchval(f"SELECT id FROM {kind.table} WHERE id = $1", item_id) is None:
        raise not_found(f"{kind.name} {item_id}")
    rows = await db.fetch(
        f"SELECT step, due_at, owner, new_owner, notified, reason, at FROM {STEP}"
        " WHERE kind = $1 AND item_id = $2 ORDER BY at, id",
        kind.name,
        item_id,
    )
    return [StepOut(**dict(r)) for r in rows]


async def reassign(kind_name: str, item_id: int, employee_id: int, reason: str) -> dict[str, Any]:
    """A manager hands an item to another employee (the engine's manual reassignment),
    audited; both people are told why."""
    kind = KIND_BY_NAME[kind_name]
    if not reason.strip():
        raise invalid("body.reason", "say why the work changes hands")
    async with db.transaction():
        row = await db.fetchrow(
            f"SELECT id, branch_id, owner, {kind.title} AS title FROM {kind.table}"
            f" WHERE id = $1 AND {kind.open} FOR UPDATE",
            item_id,
        )
        if row is None:
            raise not_found(f"open {kind.name} {item_id}")
        open_assignment = [
            h for h in await assignment.history(kind.work_kind, str(item_id))
            if h.released_at is None
        ]  # fmt: skip
        if not open_assignment:
            # Items that never went through the engine (converted, demo): open one first.
            await assignment.reassign_by_rules(
                WorkItem(kind.work_kind, str(item_id), row["branch_id"], {}), reason,
                away_from=None,
            )  # fmt: skip
        moved = await assignment.reassign(kind.work_kind, str(item_id), employee_id, reason)
        if moved.user_id is None:
            raise invalid("body.employee_id", "the employee has no staff login")
        async with as_engine():
            await db.fetch(
                f"UPDATE {kind.table} SET owner = $2, flagged = false, updated_at = now()"
                " WHERE id = $1",
                item_id, moved.user_id,
            )  # fmt: skip
        await audit.record(
            audit.Action.UPDATE, kind.work_kind, item_id, branch_id=row["branch_id"],
            before={"owner": row["owner"]}, after={"owner": moved.user_id}, reason=reason,
        )  # fmt: skip
        await emit_event(
            kind.event,
            {f"{kind.name}_id": item_id, "branch_id": row["branch_id"], "from_user": row["owner"],
             "to_user": moved.user_id, "reason": reason},
        )  # fmt: skip
        await notify(
            sorted({row["owner"], moved.user_id}), "sales.work_reassigned",
            {"title": row["title"], "reason": reason,
             "what": WHAT[kind.name]},
            NotificationSource("sales", kind.table, item_id, row["branch_id"]),
        )  # fmt: skip
    return {"id": item_id, "owner": moved.user_id, "previous_owner": row["owner"]}
