"""Service-level agreements (服务时效) in the branch's business time.

* **Policies** (``service_sla_policy``) give the business hours to resolve a ticket of a
  kind, priority and customer value tier — each left empty to match any — and the share of
  that time after which the assignee is warned (80 % by default). A policy holds for its
  branch and the branches below it; a ticket takes the most specific active policy of the
  nearest branch that has a matching one, else :data:`DEFAULT_HOURS` by priority.
  Policies are not confidential: they are read for the ticket's branch and its ancestors
  even when the caller sees only the ticket's branch (as the kernel's calendar reads
  inherited opening hours).
* **The clock** runs in the branch's business calendar (:mod:`bankcrm.business_calendar`:
  opening hours, weekends, Chinese public holidays and their adjusted working days). It
  stands while the ticket waits on the customer (and once resolved or closed) and runs
  again when it moves back to new/in progress: the business time it stood is added to
  ``sla_paused_seconds``, and the due time is always
  ``created_at + resolve_hours + paused`` in business time (the warning likewise with
  ``warn_percent`` of the hours). A priority change re-reads the policy.
* **The sweep** (a job every few minutes, idempotent) warns the assignee once when the
  warning time passes, and at the due time records the breach and escalates once: the
  assignee and their manager (else the branch manager) are told; a ticket without an
  assignee goes to the branch managers. Each step is a row of ``service_sla_step`` unique
  per (ticket, step), inserted with ``ON CONFLICT DO NOTHING`` in the transaction of its
  notifications: a redelivered message or two sweeps at once tell nobody twice.
* **The breach report** counts tickets with an SLA, breached ones (recorded, or running
  past their due time) and the breach rate per branch, kind, priority and month, under
  row-level security.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

import bankcrm.organisation.service as organisation
from bankcrm import audit, branches, business_calendar, db
from bankcrm.business_calendar import BranchCalendar
from bankcrm.context import require_scope
from bankcrm.notifications import NotificationSource, able_to_receive, notify
from bankcrm.web.problems import invalid, not_found
from bankcrm_customer_archive import services as archive

POLICY = "service_sla_policy"
STEP = "service_sla_step"
TICKET = "service_ticket"
POLICY_ENTITY = "service.sla_policy"
DEFAULT_HOURS: dict[str, int] = {"urgent": 4, "high": 8, "normal": 16, "low": 40}
"""Business hours to resolve by priority where no policy matches."""
DEFAULT_WARN_PERCENT = 80
RUNNING = frozenset({"new", "in_progress"})
"""Statuses in which the clock runs; in the others it stands."""
LISTED = 5
"""Tickets named in one notice; the rest are counted."""

Id = Annotated[int, Meta(ge=1, le=2**31 - 1)]
Name = Annotated[str, Meta(min_length=1, max_length=100)]
Hours = Annotated[int, Meta(ge=1, le=2000)]
Percent = Annotated[int, Meta(ge=1, le=99)]
Kind = Literal["complaint", "inquiry", "suggestion", "report", "care", "bill"]
Priority = Literal["low", "normal", "high", "urgent"]
Tier = Literal["private", "wealth", "affluent", "mass"]
POLICY_COLUMNS = (
    "id, branch_id, name, kind, priority, value_tier, resolve_hours, warn_percent, active,"
    " created_at, updated_at"
)


def utcnow() -> datetime:
    return datetime.now(UTC)


# --- policies ------------------------------------------------------------------------------


class SlaPolicyIn(Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name
    resolve_hours: Hours
    """Business hours from the ticket's creation to its resolution."""
    kind: Kind | None = None
    """None: tickets of any kind."""
    priority: Priority | None = None
    value_tier: Tier | None = None
    """The customer's value tier (private, wealth, affluent, mass); None: any customer."""
    warn_percent: Percent = DEFAULT_WARN_PERCENT
    """The assignee is warned once this share of the time has passed."""
    active: bool = True
    branch_id: Id | None = None
    """Default: your home branch; the policy holds for the branch and those below it."""


class SlaPolicyPatch(Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name | UnsetType = UNSET
    resolve_hours: Hours | UnsetType = UNSET
    kind: Kind | UnsetType | None = UNSET
    priority: Priority | UnsetType | None = UNSET
    value_tier: Tier | UnsetType | None = UNSET
    warn_percent: Percent | UnsetType = UNSET
    active: bool | UnsetType = UNSET


class SlaPolicyOut(Struct):
    id: int
    branch_id: int
    name: str
    kind: str | None
    priority: str | None
    value_tier: str | None
    resolve_hours: int
    warn_percent: int
    active: bool
    created_at: datetime
    updated_at: datetime


def _policy_out(row: Any) -> SlaPolicyOut:
    return SlaPolicyOut(**dict(row))


async def list_policies(branch_id: int | None = None) -> list[SlaPolicyOut]:
    rows = await db.fetch(
        f"SELECT {POLICY_COLUMNS} FROM {POLICY} WHERE ($1::bigint IS NULL OR branch_id = $1)"
        " ORDER BY branch_id, id",
        branch_id,
    )
    return [_policy_out(r) for r in rows]


async def get_policy(policy_id: int) -> SlaPolicyOut:
    row = await db.fetchrow(f"SELECT {POLICY_COLUMNS} FROM {POLICY} WHERE id = $1", policy_id)
    if row is None:
        raise not_found(f"SLA policy {policy_id}")
    return _policy_out(row)


def _name(value: str) -> str:
    name = value.strip()
    if not name:
        raise invalid("/body/name", "must not be blank")
    return name


async def create_policy(data: SlaPolicyIn) -> SlaPolicyOut:
    scope = require_scope()
    branch_id = data.branch_id if data.branch_id is not None else scope.home_branch_id
    if branch_id is None:
        raise invalid("/body/branch_id", "required: you have no home branch")
    if branch_id not in scope.branch_ids:
        raise invalid("/body/branch_id", "the branch is outside your scope")
    async with db.transaction():
        row = await db.fetchrow(
            f"INSERT INTO {POLICY} (branch_id, name, kind, priority, value_tier, resolve_hours,"
            " warn_percent, active, created_at, updated_at)"
            f" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now(), now()) RETURNING {POLICY_COLUMNS}",
            branch_id, _name(data.name), data.kind, data.priority, data.value_tier,
            data.resolve_hours, data.warn_percent, data.active,
        )  # fmt: skip
        assert row is not None
        await audit.record(
            audit.Action.CREATE, POLICY_ENTITY, row["id"], branch_id=branch_id,
            after=_audited(row),
        )  # fmt: skip
    return _policy_out(row)


def _audited(row: Any) -> dict[str, Any]:
    return {
        k: row[k]
        for k in ("name", "kind", "priority", "value_tier", "resolve_hours", "warn_percent")
    } | {"active": row["active"]}


async def update_policy(policy_id: int, data: SlaPolicyPatch) -> SlaPolicyOut:
    """Change a policy; tickets keep the due times they have (a policy applies to tickets
    created, or re-prioritised, after the change)."""
    values = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not UNSET}
    if "name" in values:
        values["name"] = _name(values["name"])
    async with db.transaction():
        before = await db.fetchrow(
            f"SELECT {POLICY_COLUMNS} FROM {POLICY} WHERE id = $1 FOR UPDATE", policy_id
        )
        if before is None:
            raise not_found(f"SLA policy {policy_id}")
        changed = {k: v for k, v in values.items() if before[k] != v}
        if not changed:
            return _policy_out(before)
        assignments = ", ".join(f"{column} = ${i}" for i, column in enumerate(changed, 2))
        row = await db.fetchrow(
            f"UPDATE {POLICY} SET {assignments}, updated_at = now() WHERE id = $1"
            f" RETURNING {POLICY_COLUMNS}",
            policy_id, *changed.values(),
        )  # fmt: skip
        assert row is not None
        await audit.record(
            audit.Action.UPDATE, POLICY_ENTITY, policy_id, branch_id=row["branch_id"],
            before={k: before[k] for k in changed}, after=changed,
        )  # fmt: skip
    return _policy_out(row)


async def delete_policy(policy_id: int) -> None:
    async with db.transaction():
        row = await db.fetchrow(
            f"DELETE FROM {POLICY} WHERE id = $1 RETURNING {POLICY_COLUMNS}", policy_id
        )
        if row is None:
            raise not_found(f"SLA policy {policy_id}")
        await audit.record(
            audit.Action.DELETE, POLICY_ENTITY, policy_id, branch_id=row["branch_id"],
            before=_audited(row),
        )  # fmt: skip


# --- the clock -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Terms:
    policy_id: int | None
    hours: int
    warn_percent: int


async def terms_for(branch_id: int, kind: str, priority: str, tier: str | None) -> Terms:
    """The policy a ticket of ``kind``/``priority`` for a customer of ``tier`` in
    ``branch_id`` falls under: the nearest branch's most specific match."""
    chain = (await branches.snapshot()).ancestors(branch_id)
    scope = require_scope()
    async with db.under_scope(dataclasses.replace(scope, branch_ids=frozenset(chain))):
        rows = await db.fetch(
            f"SELECT id, branch_id, kind, priority, value_tier, resolve_hours, warn_percent"
            f" FROM {POLICY} WHERE active AND branch_id = ANY($1::bigint[])"
            " AND (kind IS NULL OR kind = $2) AND (priority IS NULL OR priority = $3)"
            " AND (value_tier IS NULL OR value_tier = $4)",
            chain, kind, priority, tier,
        )  # fmt: skip
    if not rows:
        return Terms(None, DEFAULT_HOURS[priority], DEFAULT_WARN_PERCENT)
    best = min(
        rows,
        key=lambda r: (
            chain.index(r["branch_id"]),
            -sum(r[c] is not None for c in ("kind", "priority", "value_tier")),
            r["id"],
        ),
    )
    return Terms(best["id"], best["resolve_hours"], best["warn_percent"])


def schedule(
    calendar: BranchCalendar, created_at: datetime, hours: int, warn_percent: int, paused: int
) -> tuple[datetime, datetime]:
    """(warn at, due at): ``hours`` of business time (and ``warn_percent`` of it) after
    ``created_at``, pushed out by the ``paused`` seconds of business time the clock stood."""
    stood = timedelta(seconds=paused)
    limit = timedelta(hours=hours)
    warn = calendar.add(created_at, limit * warn_percent / 100 + stood)
    return warn, calendar.add(created_at, limit + stood)


async def customer_tier(customer_id: int | None) -> str | None:
    if customer_id is None:
        return None
    tier: str | None = await db.fetchval(
        f"SELECT value_tier FROM {archive.CUSTOMER} WHERE id = $1", customer_id
    )
    return tier


async def start(
    branch_id: int, kind: str, priority: str, customer_id: int | None, created_at: datetime
) -> dict[str, Any]:
    """The SLA columns of a new ticket."""
    terms = await terms_for(branch_id, kind, priority, await customer_tier(customer_id))
    calendar = await business_calendar.calendar_for(branch_id)
    warn, due = schedule(calendar, created_at, terms.hours, terms.warn_percent, 0)
    return {
        "sla_policy": terms.policy_id,
        "sla_hours": terms.hours,
        "sla_warn_at": warn,
        "sla_due_at": due,
    }


async def on_change(
    before: Any,
    status: str | None,
    priority: str | None,
    now: datetime,
    *,
    kind: str | None = None,
) -> dict[str, Any]:
    """The SLA columns to change when a ticket (``before``: its row) moves to ``status``
    and/or ``priority`` (or ``kind``): the clock stops or runs again, a new priority or
    kind re-reads the policy, and stopping after the due time records the breach."""
    if before["sla_due_at"] is None:
        return {}  # a ticket from before SLAs: none to keep
    changes: dict[str, Any] = {}
    was_running = before["status"] in RUNNING
    runs = (status or before["status"]) in RUNNING
    paused = before["sla_paused_seconds"]
    calendar = await business_calendar.calendar_for(before["branch_id"])
    resumed = runs and not was_running and before["sla_paused_at"] is not None
    if was_running and not runs:
        changes["sla_paused_at"] = now
        if now > before["sla_due_at"] and before["sla_breached_at"] is None:
            changes["sla_breached_at"] = before["sla_due_at"]
    elif resumed:
        paused += int(calendar.between(before["sla_paused_at"], now).total_seconds())
        changes["sla_paused_at"] = None
        changes["sla_paused_seconds"] = paused
    reread = priority is not None or kind is not None
    if not resumed and not reread:
        return changes
    hours, percent = before["sla_hours"], DEFAULT_WARN_PERCENT
    if before["sla_policy"] is not None:
        percent = (
            await db.fetchval(
                f"SELECT warn_percent FROM {POLICY} WHERE id = $1", before["sla_policy"]
            )
            or DEFAULT_WARN_PERCENT
        )
    if reread:
        tier = await customer_tier(before["customer"])
        terms = await terms_for(
            before["branch_id"], kind or before["kind"], priority or before["priority"], tier
        )
        hours, percent = terms.hours, terms.warn_percent
        changes["sla_policy"] = terms.policy_id
        changes["sla_hours"] = hours
    warn, due = schedule(calendar, before["created_at"], hours, percent, paused)
    changes["sla_warn_at"], changes["sla_due_at"] = warn, due
    return changes


# --- the sweep -----------------------------------------------------------------------------


@dataclass
class SweepResult:
    warned: int = 0
    breached: int = 0
    notifications: int = 0
    untold: list[int] = field(default_factory=list)
    """Tickets whose breach nobody could be told of (no assignee, no branch manager)."""


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
        await _warn(branch_id, now, result)
        await _breach(branch_id, now, result)
    return result


async def _recipients(assignee: int | None, branch_id: int) -> list[int]:
    if assignee is not None:
        return await able_to_receive([assignee], branch_id)
    return await able_to_receive(await organisation.branch_managers(branch_id), branch_id)


async def _warn(branch_id: int, now: datetime, result: SweepResult) -> None:
    async with db.transaction():
        rows = await db.fetch(
            f"WITH due AS (SELECT id, assignee, sla_due_at, title FROM {TICKET}"
            " WHERE branch_id = $1 AND status IN ('new', 'in_progress')"
            " AND sla_warn_at <= $2 AND sla_due_at > $2),"
            f" made AS (INSERT INTO {STEP} (branch_id, ticket, step, due_at, notified, at)"
            " SELECT $1, id, 'warned', sla_due_at, '{}', $2 FROM due"
            " ON CONFLICT (ticket, step) DO NOTHING RETURNING ticket)"
            " SELECT due.* FROM due JOIN made ON made.ticket = due.id ORDER BY due.id",
            branch_id, now,
        )  # fmt: skip
        told: dict[int, list[Any]] = defaultdict(list)
        for row in rows:
            for user in await _recipients(row["assignee"], branch_id):
                told[user].append(row)
        for user, items in told.items():
            await notify(
                [user], "service.sla_warning",
                {"count": len(items), "items": _listing([_label(i) for i in items]),
                 "due": _local(min(i["sla_due_at"] for i in items))},
                NotificationSource("service", TICKET, items[0]["id"], branch_id),
            )  # fmt: skip
            result.notifications += 1
        await _record_told(told, "warned")
        result.warned += len(rows)


async def _breach(branch_id: int, now: datetime, result: SweepResult) -> None:
    async with db.transaction():
        rows = await db.fetch(
            f"WITH due AS (SELECT id, assignee, sla_due_at, title FROM {TICKET}"
            " WHERE branch_id = $1 AND status IN ('new', 'in_progress') AND sla_due_at <= $2),"
            f" made AS (INSERT INTO {STEP} (branch_id, ticket, step, due_at, notified, at)"
            " SELECT $1, id, 'breached', sla_due_at, '{}', $2 FROM due"
            " ON CONFLICT (ticket, step) DO NOTHING RETURNING ticket),"
            f" marked AS (UPDATE {TICKET} t SET sla_breached_at = t.sla_due_at FROM made"
            " WHERE t.id = made.ticket AND t.sla_breached_at IS NULL RETURNING t.id)"
            " SELECT due.* FROM due JOIN made ON made.ticket = due.id ORDER BY due.id",
            branch_id, now,
        )  # fmt: skip
        if not rows:
            return
        told: dict[int, list[Any]] = defaultdict(list)
        escalated: dict[tuple[int, str], list[Any]] = defaultdict(list)
        for row in rows:
            assignee = row["assignee"]
            mine = await able_to_receive([assignee], branch_id) if assignee is not None else []
            for user in mine:
                told[user].append(row)
            if assignee is not None:
                boss = await organisation.escalation_user(assignee, branch_id)
                bosses = [boss] if boss is not None else []
                employee = await organisation.employee_for_user(assignee)
                owner = employee.name if employee else f"用户{assignee}"
            else:
                bosses = await organisation.branch_managers(branch_id)
                owner = "（未分派）"
            for user in await able_to_receive(bosses, branch_id):
                escalated[(user, owner)].append(row)
            if not mine and not bosses:
                result.untold.append(row["id"])
        source = NotificationSource("service", TICKET, rows[0]["id"], branch_id)
        for user, items in told.items():
            await notify(
                [user], "service.sla_breached",
                {"count": len(items), "items": _listing([_label(i) for i in items])}, source,
            )  # fmt: skip
            result.notifications += 1
        for (user, owner), items in escalated.items():
            await notify(
                [user], "service.sla_escalated",
                {"owner": owner, "count": len(items),
                 "items": _listing([_label(i) for i in items])}, source,
            )  # fmt: skip
            result.notifications += 1
            told[user].extend(items)
        await _record_told(told, "breached")
        result.breached += len(rows)


async def _record_told(told: dict[int, list[Any]], step: str) -> None:
    by_ticket: dict[int, list[int]] = defaultdict(list)
    for user, items in told.items():
        for item in items:
            by_ticket[item["id"]].append(user)
    for ticket, users in by_ticket.items():
        await db.fetch(
            f"UPDATE {STEP} SET notified = $3 WHERE ticket = $1 AND step = $2",
            ticket, step, sorted(set(users)),
        )  # fmt: skip


def _label(row: Any) -> str:
    return f"#{row['id']} {row['title']}"


def _local(moment: datetime) -> str:
    return moment.astimezone(business_calendar.DEFAULT_ZONE).strftime("%Y-%m-%d %H:%M")


class SlaStepOut(Struct):
    step: str
    due_at: datetime
    notified: list[int]
    at: datetime


async def ticket_steps(ticket_id: int) -> list[SlaStepOut]:
    rows = await db.fetch(
        f"SELECT step, due_at, notified, at FROM {STEP} WHERE ticket = $1 ORDER BY at, id",
        ticket_id,
    )
    return [SlaStepOut(**dict(r)) for r in rows]


# --- the breach report ---------------------------------------------------------------------


class BreachRow(Struct):
    branch_id: int
    kind: str
    priority: str
    period: str
    """The month the tickets were created in (YYYY-MM, Asia/Shanghai)."""
    tickets: int
    breached: int
    """Recorded breaches and tickets running past their due time."""
    open_overdue: int
    breach_rate: float


class BreachReport(Struct):
    date_from: date
    date_to: date
    rows: list[BreachRow]
    tickets: int
    breached: int
    breach_rate: float


MAX_REPORT_DAYS = 3660


async def breach_report(
    date_from: date | None = None,
    date_to: date | None = None,
    *,
    branch_id: int | None = None,
    kind: str | None = None,
    priority: str | None = None,
    now: datetime | None = None,
) -> BreachReport:
    """SLA outcomes of the tickets created from ``date_from`` to ``date_to`` (inclusive,
    Asia/Shanghai days; default the last 30 days) in the branches in scope."""
    now = now or utcnow()
    today = now.astimezone(business_calendar.DEFAULT_ZONE).date()
    date_to = date_to or today
    date_from = date_from or date_to - timedelta(days=29)
    if date_from > date_to:
        raise invalid("date_from", "must not be after date_to")
    if (date_to - date_from).days > MAX_REPORT_DAYS:
        raise invalid("date_from", f"at most {MAX_REPORT_DAYS} days")
    zone = business_calendar.DEFAULT_TIMEZONE
    rows = await db.fetch(
        "SELECT branch_id, kind, priority,"
        " to_char(created_at AT TIME ZONE $7, 'YYYY-MM') AS period, count(*) AS tickets,"
        " count(*) FILTER (WHERE sla_breached_at IS NOT NULL OR (status IN ('new',"
        " 'in_progress') AND sla_due_at <= $6)) AS breached,"
        " count(*) FILTER (WHERE status IN ('new', 'in_progress') AND sla_due_at <= $6)"
        f" AS open_overdue FROM {TICKET} WHERE sla_due_at IS NOT NULL"
        " AND created_at >= ($1::date::timestamp AT TIME ZONE $7)"
        " AND created_at < (($2::date + 1)::timestamp AT TIME ZONE $7)"
        " AND ($3::bigint IS NULL OR branch_id = $3) AND ($4::text IS NULL OR kind = $4)"
        " AND ($5::text IS NULL OR priority = $5)"
        " GROUP BY 1, 2, 3, 4 ORDER BY 1, 4, 2, 3",
        date_from, date_to, branch_id, kind, priority, now, zone,
    )  # fmt: skip
    out = [
        BreachRow(
            r["branch_id"],
            r["kind"],
            r["priority"],
            r["period"],
            r["tickets"],
            r["breached"],
            r["open_overdue"],
            round(r["breached"] / r["tickets"], 4),
        )
        for r in rows
    ]
    tickets = sum(r.tickets for r in out)
    breached = sum(r.breached for r in out)
    return BreachReport(
        date_from, date_to, out, tickets, breached, round(breached / tickets, 4) if tickets else 0.0
    )
