"""Employees, teams, the manager tree and leave: the organisation every plugin asks about.

"Who is X's manager" (a reminder escalates to them), "everyone under Y" (a manager's
team view), "who is on leave on day D" (the assignment engine skips them) are answered
here once. Reads run under the caller's scope (row-level security); a job that escalates
binds a system scope over the branches it works for.

Writes check what the database cannot say clearly: the branch, team, manager and user an
employee names must be visible to the writer, and a person named as a user must work in a
branch that covers the employee's. The database keeps the invariants under concurrency:
no two employees share a number or a user, leave never overlaps, and a trigger refuses a
manager chain that would loop back (see the kernel migration ``2026-12-04T05:00``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import date
from typing import Any

import asyncpg

from bankcrm import audit, db, staff
from bankcrm.context import require_scope
from bankcrm.plugin_api import StandardRole
from bankcrm.web.problems import FieldError, Problem, invalid, not_found

EMPLOYEE_ENTITY = "bankcrm.employee"
TEAM_ENTITY = "bankcrm.team"
LEAVE_ENTITY = "bankcrm.employee_leave"
SKILL_FIELDS = ("products", "segments", "languages", "territories")
MAX_SKILLS = 64

_EMPLOYEE_COLUMNS = (
    "e.id, e.branch_id, e.employee_no, e.name, e.name_en, e.user_id, e.position, e.team_id,"
    " e.manager_id, e.products, e.segments, e.languages, e.territories, e.capacity, e.email,"
    " e.phone, e.active"
)


@dataclass(frozen=True)
class EmployeeFields:
    """What a writer gives for an employee (REST body, admin form or a row of a file)."""

    branch_id: int
    employee_no: str
    name: str
    name_en: str = ""
    user_id: int | None = None
    position: str = ""
    team_id: int | None = None
    manager_id: int | None = None
    products: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    territories: tuple[str, ...] = ()
    capacity: int = 0
    email: str = ""
    phone: str = ""
    active: bool = True


@dataclass(frozen=True)
class Employee(EmployeeFields):
    id: int = 0
    on_leave: bool = False
    """On leave today (the branch's local date is not needed: leave is by whole days)."""


@dataclass(frozen=True)
class Team:
    id: int
    branch_id: int
    code: str
    name: str
    name_en: str
    active: bool


@dataclass(frozen=True)
class Leave:
    id: int
    employee_id: int
    branch_id: int
    starts: date
    ends: date
    reason: str


@dataclass
class Reporting:
    """A manager's reports: direct and indirect, each with its depth under the manager."""

    manager: Employee
    reports: list[tuple[int, Employee]] = field(default_factory=list)


def _employee(row: Mapping[str, Any], on_leave: bool = False) -> Employee:
    values = {f.name: row[f.name] for f in fields(EmployeeFields)}
    for skill in SKILL_FIELDS:
        values[skill] = tuple(values[skill] or ())
    return Employee(**values, id=row["id"], on_leave=on_leave)


def _audited(employee: EmployeeFields) -> dict[str, Any]:
    values = asdict(employee)
    for skill in SKILL_FIELDS:
        values[skill] = list(values[skill])
    values.pop("on_leave", None)
    return values


async def _with_leave(rows: Sequence[Mapping[str, Any]], day: date | None = None) -> list[Employee]:
    away = await on_leave([r["id"] for r in rows], day or date.today())
    return [_employee(r, r["id"] in away) for r in rows]


async def get_employee(employee_id: int) -> Employee | None:
    rows = await db.fetch(
        f"SELECT {_EMPLOYEE_COLUMNS} FROM bankcrm_employee e WHERE e.id = $1", employee_id
    )
    found = await _with_leave(rows)
    return found[0] if found else None


async def employee_for_user(user_id: int) -> Employee | None:
    """The employee record of a staff user (None: the user is not an employee, or not
    visible in the current scope)."""
    rows = await db.fetch(
        f"SELECT {_EMPLOYEE_COLUMNS} FROM bankcrm_employee e WHERE e.user_id = $1", user_id
    )
    found = await _with_leave(rows)
    return found[0] if found else None


async def list_employees(
    *,
    branch_id: int | None = None,
    team_id: int | None = None,
    query: str | None = None,
    active: bool | None = None,
    after_id: int | None = None,
    limit: int = 50,
) -> list[Employee]:
    """Employees in scope, by id; ``query`` matches number, name or English name."""
    pattern = None if not query else "%" + query.replace("\\", "\\\\").replace("%", "\\%") + "%"
    rows = await db.fetch(
        f"SELECT {_EMPLOYEE_COLUMNS} FROM bankcrm_employee e"
        " WHERE ($1::int IS NULL OR e.branch_id = $1) AND ($2::int IS NULL OR e.team_id = $2)"
        " AND ($3::text IS NULL OR e.employee_no ILIKE $3 OR e.name ILIKE $3"
        " OR e.name_en ILIKE $3) AND ($4::boolean IS NULL OR e.active = $4)"
        " AND ($5::int IS NULL OR e.id > $5) ORDER BY e.id LIMIT $6",
        branch_id, team_id, pattern, active, after_id, limit,
    )  # fmt: skip
    return await _with_leave(rows)


async def manager_of(employee_id: int) -> Employee | None:
    """The direct manager (None: nobody, or the manager is outside the current scope)."""
    rows = await db.fetch(
        f"SELECT {_EMPLOYEE_COLUMNS} FROM bankcrm_employee e"
        " JOIN bankcrm_employee s ON s.manager_id = e.id WHERE s.id = $1",
        employee_id,
    )
    found = await _with_leave(rows)
    return found[0] if found else None


async def everyone_under(employee_id: int, *, max_depth: int = 32) -> Reporting | None:
    """Everyone who reports to ``employee_id`` directly or indirectly, nearest first."""
    manager = await get_employee(employee_id)
    if manager is None:
        return None
    rows = await db.fetch(
        "WITH RECURSIVE under(id, depth) AS ("
        " SELECT id, 1 FROM bankcrm_employee WHERE manager_id = $1"
        " UNION ALL SELECT e.id, u.depth + 1 FROM bankcrm_employee e"
        " JOIN under u ON e.manager_id = u.id WHERE u.depth < $2)"
        f" SELECT {_EMPLOYEE_COLUMNS}, u.depth FROM under u JOIN bankcrm_employee e"
        " ON e.id = u.id ORDER BY u.depth, e.id",
        employee_id,
        max_depth,
    )
    employees = await _with_leave(rows)
    return Reporting(manager, [(r["depth"], e) for r, e in zip(rows, employees, strict=True)])


async def escalation_user(user_id: int, branch_id: int) -> int | None:
    """Whom to escalate to for the work of ``user_id`` in ``branch_id``: their manager's
    user, else the branch manager of the branch (or of the nearest branch above it)."""
    row = await db.fetchrow(
        "SELECT m.user_id FROM bankcrm_employee e JOIN bankcrm_employee m ON m.id = e.manager_id"
        " WHERE e.user_id = $1 AND m.active AND m.user_id IS NOT NULL",
        user_id,
    )
    if row is not None:
        return int(row["user_id"])
    managers = await branch_managers(branch_id)
    others = [m for m in managers if m != user_id]
    return others[0] if others else None


async def branch_managers(branch_id: int) -> list[int]:
    """Active users holding the branch-manager role in ``branch_id``, else in the nearest
    branch above it that has one."""
    rows = await db.fetch(
        "WITH RECURSIVE up(id, parent, depth) AS ("
        " SELECT id, parent, 0 FROM bankcrm_branch WHERE id = $1"
        " UNION ALL SELECT b.id, b.parent, up.depth + 1 FROM bankcrm_branch b"
        " JOIN up ON b.id = up.parent)"
        " SELECT m.user, up.depth FROM up JOIN bankcrm_membership m ON m.branch = up.id"
        " JOIN bankcrm_role r ON r.id = m.role JOIN piccolo_user u ON u.id = m.user"
        " WHERE r.name = $2 AND u.active ORDER BY up.depth, m.user",
        branch_id,
        StandardRole.BRANCH_MANAGER.value,
    )
    if not rows:
        return []
    nearest = rows[0]["depth"]
    return [int(r["user"]) for r in rows if r["depth"] == nearest]


async def on_leave(employee_ids: Iterable[int], day: date) -> set[int]:
    """Which of ``employee_ids`` are on leave on ``day``."""
    ids = list(employee_ids)
    if not ids:
        return set()
    rows = await db.fetch(
        "SELECT DISTINCT employee_id FROM bankcrm_employee_leave"
        " WHERE employee_id = ANY($1::int[]) AND starts <= $2 AND ends >= $2",
        ids,
        day,
    )
    return {int(r["employee_id"]) for r in rows}


# --- writes ---------------------------------------------------------------------------------


def _branch_problem(branch_id: int, field_name: str) -> Problem | None:
    if branch_id not in require_scope().branch_ids:
        return invalid(field_name, f"branch {branch_id} is not one of your branches")
    return None


async def check_fields(data: EmployeeFields, employee_id: int | None = None) -> list[FieldError]:
    """Every reason ``data`` cannot be written, by field (empty: it can)."""
    errors: list[FieldError] = []
    if (problem := _branch_problem(data.branch_id, "branch_id")) is not None:
        errors.extend(problem.errors)
    if not data.employee_no.strip():
        errors.append(FieldError("employee_no", "required"))
    if not data.name.strip():
        errors.append(FieldError("name", "required"))
    if data.capacity < 0:
        errors.append(FieldError("capacity", "cannot be below zero"))
    for skill in SKILL_FIELDS:
        values = getattr(data, skill)
        if len(values) > MAX_SKILLS:
            errors.append(FieldError(skill, f"at most {MAX_SKILLS} entries"))
        if any(not v.strip() or len(v) > 64 for v in values):
            errors.append(FieldError(skill, "entries must be 1 to 64 characters"))
    if data.team_id is not None:
        team_branch = await db.fetchval(
            "SELECT branch_id FROM bankcrm_team WHERE id = $1", data.team_id
        )
        if team_branch is None:
            errors.append(FieldError("team_id", f"no team {data.team_id} in your branches"))
        elif team_branch != data.branch_id:
            errors.append(FieldError("team_id", "the team belongs to another branch"))
    if data.manager_id is not None:
        if data.manager_id == employee_id:
            errors.append(FieldError("manager_id", "an employee cannot be their own manager"))
        elif not await db.fetchval(
            "SELECT active FROM bankcrm_employee WHERE id = $1", data.manager_id
        ):
            errors.append(
                FieldError("manager_id", f"no active employee {data.manager_id} in your branches")
            )
    if data.user_id is not None:
        reason = await staff.reference_problem(data.user_id, data.branch_id)
        if reason is not None:
            errors.append(FieldError("user_id", reason))
    return errors


def _refused(errors: list[FieldError]) -> Problem:
    detail = "; ".join(f"{e.field}: {e.message}" for e in errors)
    return Problem(
        422, detail, [FieldError(f"body.{e.field}", e.message) for e in errors], "invalid"
    )


def _conflict(exc: asyncpg.PostgresError) -> Problem:
    constraint = getattr(exc, "constraint_name", "") or ""
    if constraint == "bankcrm_employee_manager_cycle":
        return Problem(
            422,
            "body.manager_id: this manager reports (directly or not) to the employee: the"
            " manager tree would loop",
            [FieldError("body.manager_id", "would make a cycle of managers")],
            "manager_cycle",
        )
    if "employee_no" in constraint:
        return Problem(
            409,
            "body.employee_no: another employee already has this number",
            [FieldError("body.employee_no", "already taken")],
            "duplicate",
        )
    if "user_id" in constraint:
        return Problem(
            409,
            "body.user_id: this user is already linked to another employee",
            [FieldError("body.user_id", "already linked")],
            "duplicate",
        )
    if constraint == "bankcrm_employee_leave_no_overlap":
        return Problem(
            409,
            "body.starts: the leave overlaps leave already recorded for this employee",
            [FieldError("body.starts", "overlaps existing leave")],
            "leave_overlaps",
        )
    if "bankcrm_team_branch_id_code" in constraint:
        return Problem(
            409,
            "body.code: the branch already has a team with this code",
            [FieldError("body.code", "already taken")],
            "duplicate",
        )
    raise exc


_WRITE_COLUMNS = [f.name for f in fields(EmployeeFields)]


def _values(data: EmployeeFields) -> list[Any]:
    values = []
    for name in _WRITE_COLUMNS:
        value = getattr(data, name)
        values.append(list(value) if name in SKILL_FIELDS else value)
    return values


async def create_employee(data: EmployeeFields) -> Employee:
    errors = await check_fields(data)
    if errors:
        raise _refused(errors)
    columns = ", ".join(_WRITE_COLUMNS)
    placeholders = ", ".join(f"${i}" for i in range(1, len(_WRITE_COLUMNS) + 1))
    try:
        async with db.transaction():
            employee_id = await db.fetchval(
                f"INSERT INTO bankcrm_employee ({columns}) VALUES ({placeholders}) RETURNING id",
                *_values(data),
            )
            await audit.record(
                audit.Action.CREATE,
                EMPLOYEE_ENTITY,
                employee_id,
                branch_id=data.branch_id,
                after=_audited(data),
            )
    except (asyncpg.UniqueViolationError, asyncpg.CheckViolationError) as exc:
        raise _conflict(exc) from exc
    created = await get_employee(employee_id)
    assert created is not None
    return created


async def update_employee(employee_id: int, changes: Mapping[str, Any]) -> Employee:
    """Apply ``changes`` (field -> new value) to a visible employee, audited."""
    unknown = sorted(set(changes) - set(_WRITE_COLUMNS))
    if unknown:
        raise invalid(f"body.{unknown[0]}", "not a field of an employee")
    async with db.transaction():
        row = await db.fetchrow(
            f"SELECT {_EMPLOYEE_COLUMNS} FROM bankcrm_employee e WHERE e.id = $1 FOR UPDATE",
            employee_id,
        )
        if row is None:
            raise not_found(f"employee {employee_id}")
        before = _employee(row)
        values = {f.name: getattr(before, f.name) for f in fields(EmployeeFields)}
        for name, value in changes.items():
            values[name] = tuple(value) if name in SKILL_FIELDS else value
        after = EmployeeFields(**values)
        errors = await check_fields(after, employee_id)
        if errors:
            raise _refused(errors)
        assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(_WRITE_COLUMNS, 2))
        try:
            await db.fetch(
                f"UPDATE bankcrm_employee SET {assignments}, updated_at = now() WHERE id = $1",
                employee_id,
                *_values(after),
            )
        except (asyncpg.UniqueViolationError, asyncpg.CheckViolationError) as exc:
            raise _conflict(exc) from exc
        old, new = _audited(before), _audited(after)
        await audit.record(
            audit.Action.UPDATE,
            EMPLOYEE_ENTITY,
            employee_id,
            branch_id=after.branch_id,
            before={k: v for k, v in old.items() if new.get(k) != v},
            after={k: v for k, v in new.items() if old.get(k) != v},
        )
    updated = await get_employee(employee_id)
    assert updated is not None
    return updated


async def add_leave(employee_id: int, starts: date, ends: date, reason: str = "") -> Leave:
    if starts > ends:
        raise invalid("body.ends", "must be on or after starts")
    employee = await get_employee(employee_id)
    if employee is None:
        raise not_found(f"employee {employee_id}")
    try:
        async with db.transaction():
            leave_id = await db.fetchval(
                "INSERT INTO bankcrm_employee_leave (branch_id, employee_id, starts, ends, reason)"
                " VALUES ($1, $2, $3, $4, $5) RETURNING id",
                employee.branch_id, employee_id, starts, ends, reason,
            )  # fmt: skip
            await audit.record(
                audit.Action.CREATE,
                LEAVE_ENTITY,
                leave_id,
                branch_id=employee.branch_id,
                after={"employee": employee_id, "starts": starts, "ends": ends, "reason": reason},
            )
    except asyncpg.ExclusionViolationError as exc:
        raise _conflict(exc) from exc
    return Leave(leave_id, employee_id, employee.branch_id, starts, ends, reason)


async def list_leave(employee_id: int) -> list[Leave]:
    rows = await db.fetch(
        "SELECT id, employee_id, branch_id, starts, ends, reason FROM bankcrm_employee_leave"
        " WHERE employee_id = $1 ORDER BY starts",
        employee_id,
    )
    return [Leave(**dict(r)) for r in rows]


async def remove_leave(employee_id: int, leave_id: int) -> None:
    async with db.transaction():
        row = await db.fetchrow(
            "DELETE FROM bankcrm_employee_leave WHERE id = $1 AND employee_id = $2"
            " RETURNING branch_id, starts, ends, reason",
            leave_id,
            employee_id,
        )
        if row is None:
            raise not_found(f"leave {leave_id} of employee {employee_id}")
        await audit.record(
            audit.Action.DELETE,
            LEAVE_ENTITY,
            leave_id,
            branch_id=row["branch_id"],
            before={"employee": employee_id, "starts": row["starts"], "ends": row["ends"]},
        )


# --- teams ----------------------------------------------------------------------------------


async def list_teams(branch_id: int | None = None) -> list[Team]:
    rows = await db.fetch(
        "SELECT id, branch_id, code, name, name_en, active FROM bankcrm_team"
        " WHERE ($1::int IS NULL OR branch_id = $1) ORDER BY branch_id, code",
        branch_id,
    )
    return [Team(**dict(r)) for r in rows]


async def get_team(team_id: int) -> Team:
    row = await db.fetchrow(
        "SELECT id, branch_id, code, name, name_en, active FROM bankcrm_team WHERE id = $1",
        team_id,
    )
    if row is None:
        raise not_found(f"team {team_id}")
    return Team(**dict(row))


async def create_team(branch_id: int, code: str, name: str, name_en: str = "") -> Team:
    if (problem := _branch_problem(branch_id, "body.branch_id")) is not None:
        raise problem
    try:
        async with db.transaction():
            team_id = await db.fetchval(
                "INSERT INTO bankcrm_team (branch_id, code, name, name_en) VALUES ($1, $2, $3, $4)"
                " RETURNING id",
                branch_id, code, name, name_en,
            )  # fmt: skip
            await audit.record(
                audit.Action.CREATE,
                TEAM_ENTITY,
                team_id,
                branch_id=branch_id,
                after={"code": code, "name": name, "name_en": name_en},
            )
    except asyncpg.UniqueViolationError as exc:
        raise _conflict(exc) from exc
    return Team(team_id, branch_id, code, name, name_en, True)


__all__ = [
    "SKILL_FIELDS",
    "Employee",
    "EmployeeFields",
    "Leave",
    "Reporting",
    "Team",
    "add_leave",
    "branch_managers",
    "check_fields",
    "create_employee",
    "create_team",
    "employee_for_user",
    "escalation_user",
    "everyone_under",
    "get_employee",
    "list_employees",
    "list_leave",
    "list_teams",
    "manager_of",
    "on_leave",
    "remove_leave",
    "update_employee",
]
