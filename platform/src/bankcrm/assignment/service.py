"""The assignment engine's service: who gets a lead, an opportunity, a ticket, a care task.

Plugins declare their kinds of work (``register_work_kinds``) and call :func:`assign` (or
:func:`assign_many` for a batch) inside their own transaction, and :func:`release` when
the work is done. Branch managers declare rules per branch (``bankcrm_assignment_rule``):
a typed condition over the item's attributes, a strategy (least loaded within capacity,
or round robin), skills the assignee must have (products, segments, languages,
territories) and optionally a team. Rules of the item's branch come first, then those of
the branches above it; when none gives anyone, the least loaded employee of the branch
with room gets it; when nobody has room, the branch manager (of the nearest branch above
that has one) does. People on leave or without capacity are skipped.

Concurrency: assignments of one branch are serialised by a transaction-level advisory
lock, and loads are counted under it, so eight workers assigning at once never push
anyone past their capacity; a partial unique index keeps one open assignment per item,
and assigning an item that already has one returns it (jobs are delivered at least once).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from bankcrm import audit, business_calendar, db
from bankcrm.assignment import engine
from bankcrm.context import require_scope
from bankcrm.organisation import service as organisation
from bankcrm.plugin_api import WorkKind
from bankcrm.plugins import PluginRegistry
from bankcrm.web.problems import FieldError, Problem, invalid, not_found

LOCK_CLASS = 0x62616E6B  # "bank": the advisory-lock namespace of assignment, per branch
ASSIGNMENT_ENTITY = "bankcrm.assignment"
RULE_ENTITY = "bankcrm.assignment_rule"
LOCAL_ZONE = business_calendar.DEFAULT_ZONE

_kinds: dict[str, WorkKind] = {}


def install(registry: PluginRegistry) -> None:
    """Collect the declared kinds of work (the kernel does this when it connects)."""
    found: dict[str, WorkKind] = {}
    for plugin, kinds in registry.call_each("register_work_kinds"):
        for kind in kinds or ():
            if not kind.name.startswith(f"{plugin}."):
                raise ValueError(f"work kind {kind.name!r} of {plugin} must start with {plugin}.")
            engine.check_kind(kind)
            found[kind.name] = kind
    _kinds.clear()
    _kinds.update(found)


def work_kinds() -> dict[str, WorkKind]:
    return dict(_kinds)


def kind_of(name: str, field_name: str = "body.work_kind") -> WorkKind:
    kind = _kinds.get(name)
    if kind is None:
        known = ", ".join(sorted(_kinds)) or "none is declared"
        raise invalid(field_name, f"unknown kind of work {name!r} (known: {known})")
    return kind


@dataclass(frozen=True)
class WorkItem:
    kind: str
    item_id: str
    branch_id: int
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Assigned:
    work_kind: str
    item_id: str
    branch_id: int
    employee_id: int
    user_id: int | None
    how: str
    """``rule``, ``default``, ``fallback`` (the branch manager) or ``manual``."""
    rule_id: int | None
    assigned_at: datetime
    new: bool
    """False when the item already had this open assignment (a redelivered job)."""


def _check_item(item: WorkItem) -> WorkKind:
    kind = kind_of(item.kind)
    if not item.item_id or len(item.item_id) > 64:
        raise invalid("item_id", "must be 1 to 64 characters")
    problems = engine.check_attributes(kind, item.attributes)
    if problems:
        name, message = problems[0]
        raise Problem(
            422,
            f"attributes.{name}: {message}",
            [FieldError(f"attributes.{n}", m) for n, m in problems],
            "invalid",
        )
    if item.branch_id not in require_scope().branch_ids:
        raise not_found(f"branch {item.branch_id}")
    return kind


async def _candidates(branch_id: int, today: date) -> dict[int, engine.Candidate]:
    rows = await db.fetch(
        "SELECT e.id, e.team_id, e.products, e.segments, e.languages, e.territories,"
        " e.capacity, l.load, EXISTS (SELECT 1 FROM bankcrm_employee_leave v"
        " WHERE v.employee_id = e.id AND v.starts <= $2 AND v.ends >= $2) AS away"
        # Counted per employee of the branch on the partial index of open assignments, not
        # over every open assignment of the bank.
        " FROM bankcrm_employee e CROSS JOIN LATERAL (SELECT count(*) AS load"
        " FROM bankcrm_assignment a WHERE a.employee_id = e.id AND a.released_at IS NULL) l"
        " WHERE e.branch_id = $1 AND e.active",
        branch_id,
        today,
    )
    return {
        r["id"]: engine.Candidate(
            r["id"],
            r["team_id"],
            {s: frozenset(r[s] or ()) for s in engine.SKILL_FIELDS},
            r["capacity"],
            r["load"],
            r["away"],
        )
        for r in rows
    }


async def _rules(branch_id: int, kind: WorkKind) -> list[engine.CompiledRule]:
    rows = await db.fetch(
        "WITH RECURSIVE up(id, parent, depth) AS ("
        " SELECT id, parent, 0 FROM bankcrm_branch WHERE id = $1"
        " UNION ALL SELECT b.id, b.parent, up.depth + 1 FROM bankcrm_branch b"
        " JOIN up ON b.id = up.parent)"
        " SELECT r.id, r.name, r.strategy, r.condition, r.match_skills, r.team_id"
        " FROM bankcrm_assignment_rule r JOIN up ON up.id = r.branch_id"
        " WHERE r.work_kind = $2 AND r.active ORDER BY up.depth, r.priority, r.id",
        branch_id,
        kind.name,
    )
    compiled = []
    for r in rows:
        try:
            condition = engine.compile_condition(kind, r["condition"])
        except engine.RuleProblem:
            # The kind's attributes changed since the rule was written: skip it, loudly.
            engine.log.warning("assignment rule %s no longer compiles; skipped", r["id"])
            continue
        pairs = db_json(r["match_skills"])
        compiled.append(
            engine.CompiledRule(
                r["id"], r["name"], r["strategy"], condition, tuple(sorted(pairs.items())),
                r["team_id"],
            )
        )  # fmt: skip
    return compiled


def db_json(value: Any) -> dict[str, str]:
    return dict(json.loads(value) if isinstance(value, str) else value or {})


async def _fallback(branch_id: int) -> tuple[int, int | None] | None:
    """The branch manager's employee record (nearest branch above that has one)."""
    for user_id in await organisation.branch_managers(branch_id):
        row = await db.fetchrow(
            "SELECT id FROM bankcrm_employee WHERE user_id = $1 AND active", user_id
        )
        if row is not None:
            return int(row["id"]), user_id
    return None


async def assign_many(items: Sequence[WorkItem]) -> list[Assigned]:
    """Assign every item (in the caller's transaction, or one of its own); items that
    already have an open assignment keep it."""
    if not items:
        return []
    for item in items:
        _check_item(item)
    actor = require_scope().actor
    today = datetime.now(LOCAL_ZONE).date()
    results: dict[int, Assigned] = {}
    async with db.transaction():
        by_branch: dict[int, list[int]] = {}
        for index, item in enumerate(items):
            by_branch.setdefault(item.branch_id, []).append(index)
        for branch_id in sorted(by_branch):
            await db.fetch("SELECT pg_advisory_xact_lock($1, $2)", LOCK_CLASS, branch_id)
            indexes = by_branch[branch_id]
            # A few items (a job's one lead) are looked up first; a large batch inserts
            # with ON CONFLICT and looks up only the items that turn out to be open.
            existing = await _open([items[i] for i in indexes]) if len(indexes) <= 20 else {}
            first: dict[tuple[str, str], int] = {}
            for i in indexes:
                key = (items[i].kind, items[i].item_id)
                if key in existing:
                    results[i] = existing[key]
                else:
                    first.setdefault(key, i)
            todo = sorted(first.values())
            if todo:
                made = await _assign_branch(branch_id, [items[i] for i in todo], actor, today)
                taken = [items[i] for i, a in zip(todo, made, strict=True) if a is None]
                existing |= await _open(taken) if taken else {}
                for i, assigned in zip(todo, made, strict=True):
                    results[i] = assigned or existing[(items[i].kind, items[i].item_id)]
            for i in indexes:
                if i not in results:  # the same item twice in one call
                    results[i] = results[first[(items[i].kind, items[i].item_id)]]
    return [results[i] for i in range(len(items))]


async def assign(item: WorkItem) -> Assigned:
    [assigned] = await assign_many([item])
    return assigned


async def _open(items: Sequence[WorkItem]) -> dict[tuple[str, str], Assigned]:
    rows = await db.fetch(
        # Item by item on the partial unique index (a join would scan every open
        # assignment of the bank to find the few of this batch).
        "SELECT a.work_kind, a.item_id, a.branch_id, a.employee_id, e.user_id, a.how, a.rule_id,"
        " a.assigned_at FROM unnest($1::text[], $2::text[]) AS w(kind, item)"
        " CROSS JOIN LATERAL (SELECT * FROM bankcrm_assignment o WHERE o.work_kind = w.kind"
        " AND o.item_id = w.item AND o.released_at IS NULL) a"
        " JOIN bankcrm_employee e ON e.id = a.employee_id",
        [i.kind for i in items],
        [i.item_id for i in items],
    )
    return {
        (r["work_kind"], r["item_id"]): Assigned(
            r["work_kind"], r["item_id"], r["branch_id"], r["employee_id"], r["user_id"],
            r["how"], r["rule_id"], r["assigned_at"], False,
        )
        for r in rows
    }  # fmt: skip


async def _assign_branch(
    branch_id: int, items: Sequence[WorkItem], actor: str, today: date
) -> list[Assigned | None]:
    """The items' new assignments; None for an item another transaction assigned first."""
    candidates = await _candidates(branch_id, today)
    planners: dict[str, engine.Planner] = {}
    turns = {
        (r["work_kind"], r["rule_id"]): r["last_employee_id"]
        for r in await db.fetch(
            "SELECT work_kind, rule_id, last_employee_id FROM bankcrm_assignment_turn"
            " WHERE branch_id = $1",
            branch_id,
        )
    }
    choices = []
    for item in items:
        planner = planners.get(item.kind)
        if planner is None:
            kind = kind_of(item.kind)
            planner = engine.Planner(
                candidates,
                await _rules(branch_id, kind),
                {rule: last for (k, rule), last in turns.items() if k == item.kind},
            )
            planners[item.kind] = planner
        choices.append(planner.choose(item.attributes))
    fallback = None
    if any(c.employee_id is None for c in choices):
        fallback = await _fallback(branch_id)
        if fallback is None:
            raise Problem(
                409,
                f"nobody in branch {branch_id} has room for this work and no branch manager"
                " is on record as an employee to fall back to",
                code="no_assignee",
            )
    users: dict[int, int | None] = {c.id: None for c in candidates.values()}
    for row in await db.fetch(
        "SELECT id, user_id FROM bankcrm_employee WHERE id = ANY($1::int[])", list(users)
    ):
        users[row["id"]] = row["user_id"]
    rows = []
    for item, choice in zip(items, choices, strict=True):
        if choice.employee_id is None:
            assert fallback is not None
            employee, how, rule = fallback[0], "fallback", None
            users[employee] = fallback[1]
        else:
            employee, how, rule = choice.employee_id, choice.how, choice.rule_id
        rows.append((branch_id, item.kind, item.item_id, employee, rule, how, actor))
    stamped = await db.fetch(
        "INSERT INTO bankcrm_assignment (branch_id, work_kind, item_id, employee_id, rule_id,"
        " how, assigned_by) SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::int[],"
        " $5::int[], $6::text[], $7::text[]) ON CONFLICT (work_kind, item_id)"
        " WHERE released_at IS NULL DO NOTHING RETURNING item_id, work_kind, assigned_at",
        *[list(column) for column in zip(*rows, strict=True)],
    )
    at = {(r["work_kind"], r["item_id"]): r["assigned_at"] for r in stamped}
    await _save_turns(branch_id, planners)
    return [
        Assigned(kind, item_id, branch, employee, users.get(employee), how, rule,
                 at[(kind, item_id)], True) if (kind, item_id) in at else None
        for branch, kind, item_id, employee, rule, how, _ in rows
    ]  # fmt: skip


async def _save_turns(branch_id: int, planners: Mapping[str, engine.Planner]) -> None:
    for kind, planner in planners.items():
        for rule_id, last in planner.turns.items():
            await db.fetch(
                "INSERT INTO bankcrm_assignment_turn (branch_id, work_kind, rule_id,"
                " last_employee_id) VALUES ($1, $2, $3, $4) ON CONFLICT (branch_id, work_kind,"
                " rule_id) DO UPDATE SET last_employee_id = $4",
                branch_id, kind, rule_id, last,
            )  # fmt: skip


async def preview(item: WorkItem) -> tuple[int | None, str, int | None]:
    """Who would get ``item`` now (employee, how, rule), without writing anything."""
    kind = _check_item(item)
    today = datetime.now(LOCAL_ZONE).date()
    planner = engine.Planner(
        await _candidates(item.branch_id, today), await _rules(item.branch_id, kind)
    )
    choice = planner.choose(item.attributes)
    if choice.employee_id is not None:
        return choice.employee_id, choice.how, choice.rule_id
    fallback = await _fallback(item.branch_id)
    return (fallback[0] if fallback else None), "fallback", None


async def release(kind: str, item_id: str) -> bool:
    """The work is done: the assignee's capacity is free again. False: nothing was open."""
    rows = await db.fetch(
        "UPDATE bankcrm_assignment SET released_at = now() WHERE work_kind = $1 AND item_id = $2"
        " AND released_at IS NULL RETURNING id",
        kind,
        item_id,
    )
    return bool(rows)


async def reassign(kind: str, item_id: str, employee_id: int, reason: str) -> Assigned:
    """Give the item to ``employee_id`` by hand; audited with ``reason``."""
    kind_of(kind)
    if not reason.strip():
        raise invalid("body.reason", "say why the work changes hands")
    async with db.transaction():
        current = await db.fetchrow(
            "SELECT id, branch_id, employee_id FROM bankcrm_assignment WHERE work_kind = $1"
            " AND item_id = $2 AND released_at IS NULL FOR UPDATE",
            kind,
            item_id,
        )
        if current is None:
            raise not_found(f"an open assignment of {kind} {item_id}")
        branch_id = current["branch_id"]
        await db.fetch("SELECT pg_advisory_xact_lock($1, $2)", LOCK_CLASS, branch_id)
        target = await db.fetchrow(
            "SELECT e.user_id, b.path AS target_path, i.path AS item_path FROM bankcrm_employee e"
            " JOIN bankcrm_branch b ON b.id = e.branch_id JOIN bankcrm_branch i ON i.id = $2"
            " WHERE e.id = $1 AND e.active",
            employee_id,
            branch_id,
        )
        if target is None or not (
            target["item_path"].startswith(target["target_path"])
            or target["target_path"].startswith(target["item_path"])
        ):
            raise invalid(
                "body.employee_id",
                "no active employee of this branch, a branch above it or below it has this id",
            )
        if current["employee_id"] == employee_id:
            raise invalid("body.employee_id", "the work is already theirs")
        await db.fetch(
            "UPDATE bankcrm_assignment SET released_at = now() WHERE id = $1", current["id"]
        )
        row = await db.fetchrow(
            "INSERT INTO bankcrm_assignment (branch_id, work_kind, item_id, employee_id, how,"
            " reason, assigned_by) VALUES ($1, $2, $3, $4, 'manual', $5, $6)"
            " RETURNING id, assigned_at",
            branch_id, kind, item_id, employee_id, reason, require_scope().actor,
        )  # fmt: skip
        assert row is not None
        await audit.record(
            audit.Action.UPDATE,
            ASSIGNMENT_ENTITY,
            f"{kind}:{item_id}",
            branch_id=branch_id,
            before={"employee_id": current["employee_id"]},
            after={"employee_id": employee_id},
            reason=reason,
        )
    return Assigned(
        kind, item_id, branch_id, employee_id, target["user_id"], "manual", None,
        row["assigned_at"], True,
    )  # fmt: skip


async def reassign_by_rules(item: WorkItem, reason: str, *, away_from: int | None) -> Assigned:
    """Hand the item to whoever the branch's rules choose now, other than employee
    ``away_from`` (the idle owner): an escalation's last step. Releases the item's open
    assignment (if any), audited with ``reason``; the result's ``how`` is the rule's,
    the default's or ``fallback`` (the branch manager, when nobody else has room). Raises
    the 409 ``no_assignee`` when nobody but ``away_from`` could take it."""
    kind = _check_item(item)
    if not reason.strip():
        raise invalid("reason", "say why the work changes hands")
    actor = require_scope().actor
    today = datetime.now(LOCAL_ZONE).date()
    async with db.transaction():
        await db.fetch("SELECT pg_advisory_xact_lock($1, $2)", LOCK_CLASS, item.branch_id)
        current = await db.fetchrow(
            "UPDATE bankcrm_assignment SET released_at = now() WHERE work_kind = $1"
            " AND item_id = $2 AND released_at IS NULL RETURNING employee_id",
            item.kind,
            item.item_id,
        )
        candidates = await _candidates(item.branch_id, today)
        if away_from is not None:
            candidates.pop(away_from, None)
        planner = engine.Planner(candidates, await _rules(item.branch_id, kind))
        choice = planner.choose(item.attributes)
        employee, how, rule = choice.employee_id, choice.how, choice.rule_id
        if employee is None:
            fallback = await _fallback(item.branch_id)
            if fallback is None or fallback[0] == away_from:
                raise Problem(
                    409,
                    f"nobody in branch {item.branch_id} but the current assignee can take this"
                    " work",
                    code="no_assignee",
                )
            employee, how, rule = fallback[0], "fallback", None
        row = await db.fetchrow(
            "INSERT INTO bankcrm_assignment (branch_id, work_kind, item_id, employee_id, rule_id,"
            " how, reason, assigned_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            " RETURNING assigned_at",
            item.branch_id, item.kind, item.item_id, employee, rule, how, reason, actor,
        )  # fmt: skip
        assert row is not None
        user_id = await db.fetchval("SELECT user_id FROM bankcrm_employee WHERE id = $1", employee)
        await audit.record(
            audit.Action.UPDATE,
            ASSIGNMENT_ENTITY,
            f"{item.kind}:{item.item_id}",
            branch_id=item.branch_id,
            before={"employee_id": current["employee_id"] if current else None},
            after={"employee_id": employee, "how": how},
            reason=reason,
        )
    return Assigned(
        item.kind, item.item_id, item.branch_id, employee, user_id, how, rule,
        row["assigned_at"], True,
    )  # fmt: skip


@dataclass(frozen=True)
class AssignmentRecord:
    employee_id: int
    how: str
    rule_id: int | None
    reason: str
    assigned_by: str
    assigned_at: datetime
    released_at: datetime | None


async def history(kind: str, item_id: str) -> list[AssignmentRecord]:
    rows = await db.fetch(
        "SELECT employee_id, how, rule_id, reason, assigned_by, assigned_at, released_at"
        " FROM bankcrm_assignment WHERE work_kind = $1 AND item_id = $2 ORDER BY id",
        kind,
        item_id,
    )
    return [AssignmentRecord(**dict(r)) for r in rows]


@dataclass(frozen=True)
class Load:
    employee_id: int
    employee_no: str
    name: str
    capacity: int
    open: int
    on_leave: bool


async def loads(branch_id: int) -> list[Load]:
    today = datetime.now(LOCAL_ZONE).date()
    candidates = await _candidates(branch_id, today)
    names = {
        r["id"]: (r["employee_no"], r["name"])
        for r in await db.fetch(
            "SELECT id, employee_no, name FROM bankcrm_employee WHERE id = ANY($1::int[])",
            list(candidates),
        )
    }
    return [
        Load(c.id, *names[c.id], c.capacity, c.load, c.away)
        for c in sorted(candidates.values(), key=lambda c: names[c.id][0])
    ]


__all__ = [
    "Assigned",
    "AssignmentRecord",
    "Load",
    "WorkItem",
    "assign",
    "assign_many",
    "history",
    "install",
    "kind_of",
    "loads",
    "preview",
    "reassign",
    "release",
    "work_kinds",
]
