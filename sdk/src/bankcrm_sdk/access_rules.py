"""Generated checks of the declared access rules (``register_access_rules``).

Nothing here names a rule, a table or a plugin: the rules come from the installed plugins,
the rows from their ``seed_demo_data``, the users from the demo world. For every rule and
every demo user, the rows of the rule's table in the user's branches are read as the
owner and judged by the rule's declaration, evaluated here in Python (not by the SQL the
kernel compiled, so a compiler mistake shows): the user must see exactly the rows the rule
allows, must not change or delete a row it hides, and must not hand a row it owns to
somebody else. A rule whose demo data give no user a row of its branches to be refused
fails too: seed rows that one user owns and another of the same branch must not see.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from bankcrm import auth, db
from bankcrm.access_rules import DeclaredRule
from bankcrm.context import Scope, bind_scope
from bankcrm.plugin_api import RowMatch, SessionValue
from bankcrm_sdk.world import World

SAMPLE = 5
"""Hidden rows per user on which writes are tried (each in a rolled-back transaction)."""

OVERSEEN: dict[str, frozenset[int]] = {}
"""Actor -> the user ids of the actor and everyone under them (filled by
:func:`learn_overseen` from the employee rows read as the owner, not by the kernel's SQL)."""


async def learn_overseen(owner: asyncpg.Connection, scope: Scope) -> None:
    """Walk the manager tree in Python among the employees of the scope's branches."""
    if scope.user_id is None:
        OVERSEEN[scope.actor] = frozenset()
        return
    rows = await owner.fetch(
        "SELECT id, user_id, manager_id FROM bankcrm_employee WHERE branch_id = ANY($1::bigint[])",
        sorted(scope.branch_ids),
    )
    reports: dict[int, list[Any]] = {}
    for row in rows:
        reports.setdefault(row["manager_id"], []).append(row)
    found = {scope.user_id}
    todo = [r["id"] for r in rows if r["user_id"] == scope.user_id]
    while todo:
        for row in reports.get(todo.pop(), []):
            if row["user_id"] is not None and row["user_id"] not in found:
                found.add(row["user_id"])
            todo.append(row["id"])
    OVERSEEN[scope.actor] = frozenset(found)


def session_value(value: SessionValue, scope: Scope) -> str | int | frozenset[int] | None:
    if value is SessionValue.ACTOR:
        return scope.actor
    if value is SessionValue.USER_ID:
        return scope.user_id
    if value is SessionValue.OVERSEEN_USER_IDS:
        if scope.actor.startswith("system:"):
            raise AssertionError("system scopes see every row; no demo user has one")
        return OVERSEEN[scope.actor]
    raise AssertionError(f"no oracle for {value!r}: add it here with the kernel's SQL")


def match_holds(match: RowMatch, row: Mapping[str, Any], scope: Scope) -> bool:
    """SQL's ``=`` in Python: a NULL on either side matches nothing (but ``IS NULL``)."""
    actual = row[match.column]
    wanted = match.value
    if wanted is None:
        return actual is None
    if actual is None:
        return False
    if isinstance(wanted, SessionValue):
        value = session_value(wanted, scope)
        if isinstance(value, frozenset):
            return actual in value
        return value is not None and actual == value
    if isinstance(wanted, tuple):
        return actual in wanted
    return bool(actual == wanted)


def allows(rule: DeclaredRule, row: Mapping[str, Any], scope: Scope) -> bool:
    return any(match_holds(match, row, scope) for match in rule.rule.any_of)


def shared_with_branch(rules: Sequence[DeclaredRule], table: str, row: Mapping[str, Any]) -> bool:
    """Does every rule on ``table`` let the row through whoever acts (a match on a literal
    holds), so that everyone who sees its branch sees it?

    A row kept for its owner's line of managers (``OVERSEEN_USER_IDS``) counts as shared:
    the probes' control is head office's administrator, who heads the demo's manager tree
    and so sees it, while branch isolation alone decides what other branches see."""
    nobody = Scope(actor="", branch_ids=frozenset())
    return all(
        any(
            m.value is SessionValue.OVERSEEN_USER_IDS
            or (not isinstance(m.value, SessionValue) and match_holds(m, row, nobody))
            for m in rule.rule.any_of
        )
        for rule in rules
        if rule.table == table
    )


@dataclass
class RuleReport:
    rule: str
    problems: list[str] = field(default_factory=list)
    hidden: int = 0
    """(user, row) pairs where the row is in the user's branches and the rule hides it."""
    handed_over: int = 0
    """Own rows the users tried to hand to someone else."""


class _Rollback(Exception):
    pass


async def _rows_touched(sql: str, *args: Any) -> int:
    """Run ``sql`` (with ``RETURNING``) in a transaction that is always rolled back."""
    touched = 0
    try:
        async with db.transaction() as transaction:
            touched = len(await transaction.connection.fetch(sql, *args))
            raise _Rollback
    except _Rollback:
        pass
    return touched


async def _refused(sql: str, *args: Any) -> bool:
    try:
        return await _rows_touched(sql, *args) == 0
    except asyncpg.InsufficientPrivilegeError:
        return True
    except (asyncpg.ForeignKeyViolationError, asyncpg.RestrictViolationError):
        # The statement reached the row (only then do the keys of the rows pointing at it
        # fire, NO ACTION or RESTRICT): the rule did not hide it.
        return False


async def user_scopes(world: World) -> dict[str, Scope]:
    scopes = {}
    for username, user_id in sorted(world.users.items()):
        scope = await auth.scope_for_user(user_id)
        if scope is not None and scope.branch_ids:
            scopes[username] = scope
    return scopes


async def check_rule(
    world: World, rule: DeclaredRule, primary_key: str, scopes: Mapping[str, Scope]
) -> RuleReport:
    report = RuleReport(rule.name)
    table, key = db.quote_ident(rule.table), db.quote_ident(primary_key)
    owner = await asyncpg.connect(world.kernel.owner_url)
    try:
        rows = [dict(r) for r in await owner.fetch(f"SELECT * FROM {table}")]
        for scope in scopes.values():
            await learn_overseen(owner, scope)
    finally:
        await owner.close()
    actors = sorted({scope.actor for scope in scopes.values()})
    for username, scope in scopes.items():
        in_scope = [r for r in rows if r["branch_id"] in scope.branch_ids]
        allowed = {r[primary_key] for r in in_scope if allows(rule, r, scope)}
        hidden = [r for r in in_scope if r[primary_key] not in allowed]
        report.hidden += len(hidden)
        with bind_scope(scope):
            seen = {r[0] for r in await db.fetch(f"SELECT {key} FROM {table}")}
            if seen - allowed:
                report.problems.append(
                    f"{rule.name}: {username} sees rows the rule hides: {sorted(seen - allowed)}"
                )
            if allowed - seen:
                report.problems.append(
                    f"{rule.name}: {username} misses rows the rule allows: {sorted(allowed - seen)}"
                )
            for row in hidden[:SAMPLE]:
                pk = row[primary_key]
                update = f"UPDATE {table} SET {key} = {key} WHERE {key} = $1 RETURNING {key}"
                if not await _refused(update, pk):
                    report.problems.append(f"{rule.name}: {username} updated hidden row {pk}")
                delete = f"DELETE FROM {table} WHERE {key} = $1 RETURNING {key}"
                if not await _refused(delete, pk):
                    report.problems.append(f"{rule.name}: {username} deleted hidden row {pk}")
            other = next((a for a in actors if a != scope.actor), None)
            for row in [r for r in in_scope if r[primary_key] in allowed][:SAMPLE]:
                problem = await _hand_over(rule, row, primary_key, scope, other)
                if problem is not None:
                    report.handed_over += 1
                    if problem:
                        report.problems.append(f"{rule.name}: {username} {problem}")
    return report


async def _hand_over(
    rule: DeclaredRule, row: Mapping[str, Any], primary_key: str, scope: Scope, other: str | None
) -> str | None:
    """Give a row the user sees only as its owner to ``other``; None: not such a row.

    Answers "" when the database refused, else what went wrong.
    """
    owned = [
        m
        for m in rule.rule.any_of
        if isinstance(m.value, SessionValue) and match_holds(m, row, scope)
    ]
    if not owned or other is None:
        return None
    other_user = int(other.split(":", 1)[1]) if other.startswith("user:") else None
    changed = dict(row)
    for match in owned:
        assert isinstance(match.value, SessionValue)
        changed[match.column] = other if match.value is SessionValue.ACTOR else other_user
    if allows(rule, changed, scope):
        return None
    columns = [m.column for m in owned]
    assignments = ", ".join(f"{db.quote_ident(c)} = ${i + 2}" for i, c in enumerate(columns))
    table, key = db.quote_ident(rule.table), db.quote_ident(primary_key)
    sql = f"UPDATE {table} SET {assignments} WHERE {key} = $1 RETURNING {key}"
    try:
        touched = await _rows_touched(sql, row[primary_key], *(changed[c] for c in columns))
    except asyncpg.InsufficientPrivilegeError:
        return ""
    return f"handed row {row[primary_key]} to {other} ({touched} row changed)"


def coverage_problems(report: RuleReport, rule: DeclaredRule) -> list[str]:
    problems = []
    if report.hidden == 0:
        problems.append(
            f"{rule.name}: no demo user has a row of {rule.table} in its branches that the rule"
            " hides, so nothing shows the rule works; make seed_demo_data write rows one user"
            " owns and another user of the same branch must not see"
        )
    owned = any(isinstance(m.value, SessionValue) for m in rule.rule.any_of)
    if owned and report.handed_over == 0:
        problems.append(
            f"{rule.name}: no demo user owns a row of {rule.table} through the rule, so handing"
            " a row to someone else was never tried; seed rows owned by demo users"
        )
    return problems


async def access_rule_problems(
    world: World, rules: Sequence[DeclaredRule], primary_keys: Mapping[str, str]
) -> list[str]:
    """Every problem of every rule against the world's data (empty: all rules hold)."""
    scopes = await user_scopes(world)
    problems = []
    for rule in rules:
        report = await check_rule(world, rule, primary_keys[rule.table], scopes)
        problems.extend(report.problems)
        problems.extend(coverage_problems(report, rule))
    return problems
