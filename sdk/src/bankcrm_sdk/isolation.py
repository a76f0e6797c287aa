"""Branch-isolation machinery the generated security tests are built from.

Nothing here names a table, a route or a plugin: tables come from the Piccolo app registry
(every table with ``branch_id`` is row-level-security scoped; kernel tables bound to a
branch through a ``branch`` foreign key are scoped in code), data from every plugin's
``seed_demo_data`` hook, routes from the Litestar app (see :mod:`bankcrm_sdk.route_probe`).
A plugin's tables and routes are therefore covered as soon as the plugin is installed.

Ground truth is read as the database owner, who sees every branch: the checks compare what
an actor saw or changed with what the owner sees.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
from piccolo.conf.apps import AppRegistry, Finder
from piccolo.table import Table

from bankcrm import audit, auth, db
from bankcrm.context import Scope, bind_scope
from bankcrm.plugin_api import DemoContext
from bankcrm.roles import declared_permissions
from bankcrm.runtime import Kernel
from bankcrm.security import classify, registered_tables
from bankcrm.tables import Branch
from bankcrm_sdk.database import TestDatabase
from bankcrm_sdk.pytest_plugin import reset_database
from bankcrm_sdk.world import PASSWORD, World, build_world

PROBE_ROLE = "isolation_probe"
"""A role holding every declared permission: the probes are refused by scope alone."""

SAMPLE_BRANCHES = ("BJ", "BJ-HD", "SH", "SH-PD")
"""Branches that get kernel sample rows (API clients and their audit entries)."""


# --- tables -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BoundTable:
    """A table whose rows belong to a branch."""

    name: str
    primary_key: str
    branch_column: str
    row_level_security: bool
    """True: PostgreSQL enforces the scope; False: the kernel scopes it in code."""
    columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableIndex:
    bound: dict[str, BoundTable]
    global_tables: frozenset[str]
    """Registered tables whose rows belong to no branch (catalogues, users, ...)."""
    foreign_keys: dict[str, dict[str, str]] = field(default_factory=dict)
    """table -> foreign-key column -> referenced table."""

    @property
    def scoped(self) -> list[BoundTable]:
        return [t for t in self.bound.values() if t.row_level_security]

    def all_names(self) -> list[str]:
        return sorted({*self.bound, *self.global_tables})


def _branch_foreign_key(table: type[Table]) -> str | None:
    for column in table._meta.foreign_key_columns:
        if column._foreign_key_meta.resolved_references is Branch:
            return column._meta.db_column_name
    return None


def _referenced(column: Any) -> str:
    tablename: str = column._foreign_key_meta.resolved_references._meta.tablename
    return tablename


def table_index(registry: AppRegistry | None = None) -> TableIndex:
    """Every registered table, classified by how its rows belong to a branch."""
    registry = registry or Finder().get_app_registry()
    bound: dict[str, BoundTable] = {}
    global_tables: set[str] = set()
    foreign_keys: dict[str, dict[str, str]] = {}
    for table in registered_tables(registry):
        name = table._meta.tablename
        foreign_keys[name] = {
            column._meta.db_column_name: _referenced(column)
            for column in table._meta.foreign_key_columns
        }
        primary_key = table._meta.primary_key._meta.db_column_name
        columns = tuple(c._meta.db_column_name for c in table._meta.columns)
        if classify(table).scoped:
            bound[name] = BoundTable(name, primary_key, "branch_id", True, columns)
        elif table is Branch:
            # A branch belongs to itself: another branch's id is a foreign reference.
            bound[name] = BoundTable(name, primary_key, primary_key, False, columns)
        elif (column := _branch_foreign_key(table)) is not None:
            bound[name] = BoundTable(name, primary_key, column, False, columns)
        else:
            global_tables.add(name)
    return TableIndex(bound, frozenset(global_tables), foreign_keys)


# --- snapshots ----------------------------------------------------------------------------


def _render(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return repr(value)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, uuid.UUID):
        yield str(value)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


@dataclass
class TableRows:
    table: BoundTable
    rows: dict[Any, dict[str, Any]]

    def branch_of(self, row: Mapping[str, Any]) -> int | None:
        value = row[self.table.branch_column]
        return int(value) if value is not None else None

    def foreign(self, visible: frozenset[int]) -> dict[Any, tuple[str, ...]]:
        """Rows of branches outside ``visible`` (pk -> rendering); branch-less rows excluded."""
        answer = {}
        for key, row in self.rows.items():
            branch = self.branch_of(row)
            if branch is not None and branch not in visible:
                answer[key] = tuple(f"{k}={_render(v)}" for k, v in sorted(row.items()))
        return answer


@dataclass
class DatabaseSnapshot:
    """Every branch-bound row, and the text of every other row, as the owner sees them."""

    tables: dict[str, TableRows]
    global_text: list[str] = field(default_factory=list)

    def foreign_rows(self, visible: frozenset[int]) -> dict[str, dict[Any, tuple[str, ...]]]:
        return {name: rows.foreign(visible) for name, rows in self.tables.items()}

    def foreign_changes(self, later: DatabaseSnapshot, visible: frozenset[int]) -> list[str]:
        """What changed between this snapshot and ``later`` outside the ``visible`` branches."""
        before = self.foreign_rows(visible)
        after = later.foreign_rows(visible)
        problems = []
        for name in sorted(set(before) | set(after)):
            old, new = before.get(name, {}), after.get(name, {})
            added = sorted(map(str, new.keys() - old.keys()))
            removed = sorted(map(str, old.keys() - new.keys()))
            changed = sorted(str(k) for k in old.keys() & new.keys() if old[k] != new[k])
            if added or removed or changed:
                problems.append(
                    f"{name}: rows of other branches added {added}, removed {removed}, "
                    f"changed {changed}"
                )
        return problems

    def spread(self) -> dict[str, Counter[int | None]]:
        """Row counts per branch of every bound table."""
        return {
            name: Counter(rows.branch_of(row) for row in rows.rows.values())
            for name, rows in self.tables.items()
        }

    def rows_in(self, table: str, branches: frozenset[int]) -> list[dict[str, Any]]:
        rows = self.tables[table]
        return [r for r in rows.rows.values() if rows.branch_of(r) in branches]

    def canaries(self, visible: frozenset[int]) -> set[str]:
        """Distinctive strings that occur only in rows of branches outside ``visible``.

        One of them in a response means a row of another branch leaked, whatever shape the
        response has (list, detail, search hit, 360-degree view, export).
        """
        allowed_parts = list(self.global_text)
        foreign: set[str] = set()
        for rows in self.tables.values():
            for row in rows.rows.values():
                branch = rows.branch_of(row)
                texts = [s for value in row.values() for s in _strings(value)]
                if branch is not None and branch not in visible:
                    foreign.update(s for s in texts if distinctive(s))
                else:
                    allowed_parts.extend(texts)
        allowed = "\x00".join(allowed_parts)
        return {s for s in foreign if s not in allowed}


_LETTER = re.compile(r"[A-Za-z]")
_DIGIT = re.compile(r"[0-9]")


def distinctive(text: str) -> bool:
    """Would this value, found in a response, identify the row it came from?

    Names and addresses (non-ASCII), identifiers mixing letters and digits, and e-mail
    addresses do; enumerations, flags and short codes do not.
    """
    text = text.strip()
    if len(text) < 2 or text[0] in "{[":
        return False
    if any(ord(c) > 127 for c in text):
        return True
    if "@" in text and len(text) >= 6:
        return True
    return len(text) >= 8 and bool(_LETTER.search(text)) and bool(_DIGIT.search(text))


async def take_snapshot(owner_url: str, index: TableIndex | None = None) -> DatabaseSnapshot:
    """Read every bound row (and the text of global rows) as the owner."""
    index = index or table_index()
    connection = await asyncpg.connect(owner_url)
    try:
        existing = {
            r["tablename"]
            for r in await connection.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            )
        }
        tables = {}
        for table in index.bound.values():
            records = await connection.fetch(f"SELECT * FROM {db.quote_ident(table.name)}")
            tables[table.name] = TableRows(
                table, {r[table.primary_key]: dict(r.items()) for r in records}
            )
        global_text: list[str] = []
        for name in sorted(existing - set(index.bound)):
            for record in await connection.fetch(f"SELECT * FROM {db.quote_ident(name)}"):
                global_text.extend(s for value in record.values() for s in _strings(value))
        return DatabaseSnapshot(tables, global_text)
    finally:
        await connection.close()


# --- data ---------------------------------------------------------------------------------


async def seed_plugin_demo_data(world: World, scale: int = 60) -> list[str]:
    """Every plugin's ``seed_demo_data`` at ``scale``, under a system scope of all branches.

    The same call the kernel makes in ``bankcrm demo``; returns the plugins that answered.
    """
    context = DemoContext(
        branches=dict(world.branches),
        users=dict(world.users),
        roles=dict(world.roles),
        scale=scale,
    )
    system = Scope(
        actor="system:isolation-seed",
        branch_ids=frozenset(world.branches.values()),
        is_superuser=True,
    )
    seeded = []
    with bind_scope(system):
        for name, _ in await world.kernel.registry.call_in_order("seed_demo_data", demo=context):
            seeded.append(name)
    return seeded


async def seed_kernel_samples(world: World, codes: Iterable[str] = SAMPLE_BRANCHES) -> None:
    """An API client per branch with its audit entry, a team, and an assignment rule and an
    open assignment of one of its employees: kernel rows in several branches."""
    for code in codes:
        branch_id = world.branch(code)
        scope = Scope(
            actor="system:isolation-seed", branch_ids=frozenset({branch_id}), is_superuser=True
        )
        with bind_scope(scope):
            async with db.transaction():
                issued = await auth.create_api_client(
                    f"sample client {code} 样例接口", branch_id, [], scope.actor
                )
                await audit.record(
                    audit.Action.CREATE,
                    "bankcrm.api_client",
                    issued.client_id,
                    branch_id=branch_id,
                    after={"name": f"sample client {code} 样例接口"},
                )
                await db.fetch(
                    "INSERT INTO bankcrm_team (branch_id, code, name, name_en, active)"
                    " VALUES ($1, $2, $3, $4, true)",
                    branch_id, f"SAMPLE-{code}", f"样例团队 {code}", f"sample team {code}",
                )  # fmt: skip
                rule_id = await db.fetchval(
                    "INSERT INTO bankcrm_assignment_rule (branch_id, work_kind, name)"
                    " VALUES ($1, 'bankcrm.sample', $2) RETURNING id",
                    branch_id,
                    f"sample rule {code} 样例规则",
                )
                employee_id = await db.fetchval(
                    "SELECT id FROM bankcrm_employee WHERE branch_id = $1 ORDER BY id LIMIT 1",
                    branch_id,
                )
                if employee_id is not None:
                    await db.fetch(
                        "INSERT INTO bankcrm_assignment (branch_id, work_kind, item_id,"
                        " employee_id, rule_id, how, assigned_by) VALUES ($1, 'bankcrm.sample',"
                        " $2, $3, $4, 'rule', $5)",
                        branch_id, f"sample-{code}", employee_id, rule_id, scope.actor,
                    )  # fmt: skip


async def populate(world: World, scale: int = 60) -> list[str]:
    """Kernel sample rows plus every plugin's demo data; returns the seeded plugins."""
    await seed_kernel_samples(world)
    return await seed_plugin_demo_data(world, scale)


async def build_populated_world(
    database: TestDatabase, kernel: Kernel, app: Any, scale: int = 60
) -> World:
    """An emptied database with the demo world, kernel sample rows and every plugin's demo
    data: what the generated isolation tests run against."""
    await reset_database(database)
    world = await build_world(kernel, app)
    await populate(world, scale)
    return world


def single_branch_tables(snapshot: DatabaseSnapshot, index: TableIndex) -> dict[str, list[int]]:
    """Scoped tables whose rows all sit in one branch: isolation there proves nothing."""
    answer = {}
    for table in index.scoped:
        branches = [b for b in snapshot.spread()[table.name] if b is not None]
        if len(branches) == 1:
            answer[table.name] = branches
    return answer


# --- actors -------------------------------------------------------------------------------


async def ensure_probe_role(world: World) -> int:
    permissions = sorted(declared_permissions(world.kernel.registry))
    role_id: int = await db.fetchval(
        "INSERT INTO bankcrm_role (name, title, title_en, permissions) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (name) DO UPDATE SET permissions = EXCLUDED.permissions RETURNING id",
        PROBE_ROLE,
        "隔离测试",
        "Isolation probe",
        permissions,
    )
    return role_id


async def branch_user_client(world: World, code: str) -> httpx.AsyncClient:
    """A logged-in staff user of branch ``code`` holding every declared permission.

    Not a superuser and not a member anywhere else, so only the branch scope stands
    between it and other branches' data.
    """
    username = f"probe.{code.lower()}"
    role_id = await ensure_probe_role(world)
    user_id = await auth.create_user(username, PASSWORD, email=f"{username}@probe.local")
    await db.fetch(
        'INSERT INTO bankcrm_membership ("user", branch, role) VALUES ($1, $2, $3)',
        user_id,
        world.branch(code),
        role_id,
    )
    world.users[username] = user_id
    return await world.client(username)


async def branch_token_client(world: World, code: str) -> httpx.AsyncClient:
    """A client authenticated by an API token bound to ``code`` with every permission."""
    issued = await auth.create_api_client(
        f"probe token {code}",
        world.branch(code),
        sorted(declared_permissions(world.kernel.registry)),
        "system:isolation-probe",
    )
    return world.token_client(issued.token)


# --- database-level checks ----------------------------------------------------------------


@dataclass(frozen=True)
class Visibility:
    table: str
    rows: int
    branch_ids: frozenset[int]


async def visible_rows(table: str) -> Visibility:
    """What the application role sees of ``table`` with the currently bound scope."""
    rows = await db.fetch(
        f"SELECT branch_id, count(*) AS n FROM {db.quote_ident(table)} GROUP BY branch_id"
    )
    return Visibility(
        table,
        sum(r["n"] for r in rows),
        frozenset(r["branch_id"] for r in rows if r["branch_id"] is not None),
    )


async def visibility_problems(
    snapshot: DatabaseSnapshot, index: TableIndex, scope: Scope | None
) -> list[str]:
    """Each scoped table read with ``scope`` (None: no scope) against the owner's truth.

    The scope must see exactly the owner's rows of its branches: no fewer (RLS hiding own
    rows breaks the app) and no more (a leak). Rows without a branch are never visible.
    A table with a restrictive policy on top of the branch policy (notifications: the
    recipient's alone) may show fewer, never more; its own tests show who sees what.
    """
    allowed = scope.branch_ids if scope is not None else frozenset()
    problems = []
    narrowed = {
        row["tablename"]
        for row in await db.fetch(
            "SELECT tablename FROM pg_policies WHERE permissive = 'RESTRICTIVE'"
            " AND cmd IN ('SELECT', 'ALL')"
        )
    }
    with bind_scope(scope):
        for table in index.scoped:
            seen = await visible_rows(table.name)
            expected = len(snapshot.rows_in(table.name, allowed))
            outside = seen.branch_ids - allowed
            if outside:
                problems.append(f"{table.name}: sees rows of branches {sorted(outside)}")
            if seen.rows > expected or (seen.rows < expected and table.name not in narrowed):
                problems.append(f"{table.name}: sees {seen.rows} rows, the scope holds {expected}")
    return problems


async def write_problems(snapshot: DatabaseSnapshot, index: TableIndex, scope: Scope) -> list[str]:
    """Try to change, delete and move rows across the scope boundary; report what worked.

    Each attempt runs in a transaction that is rolled back, so the data stay as they were.
    """
    problems = []
    with bind_scope(scope):
        for table in index.scoped:
            name = db.quote_ident(table.name)
            foreign = sorted(
                {b for b in snapshot.spread()[table.name] if b is not None} - scope.branch_ids
            )
            own = snapshot.rows_in(table.name, scope.branch_ids)
            attempts: list[tuple[str, str, list[Any]]] = []
            if foreign:
                attempts.append(
                    (
                        "update rows of another branch",
                        f"UPDATE {name} SET branch_id = branch_id"
                        " WHERE branch_id = ANY($1::bigint[])",
                        [foreign],
                    )
                )
                attempts.append(
                    (
                        "delete rows of another branch",
                        f"DELETE FROM {name} WHERE branch_id = ANY($1::bigint[])",
                        [foreign],
                    )
                )
            if own and foreign:
                attempts.append(
                    (
                        "move an own row to another branch",
                        f"UPDATE {name} SET branch_id = $1"
                        f" WHERE {db.quote_ident(table.primary_key)} = $2",
                        [foreign[0], own[0][table.primary_key]],
                    )
                )
            for label, sql, args in attempts:
                outcome = await _rolled_back(sql, args)
                if outcome:
                    problems.append(f"{table.name}: {label} succeeded ({outcome})")
    return problems


class _Rollback(Exception):
    pass


async def _rolled_back(sql: str, args: list[Any]) -> str:
    """Run ``sql`` in a transaction that is always rolled back; describe rows it touched."""
    status = ""
    try:
        async with db.transaction() as txn:
            status = await txn.connection.execute(sql, *args)
            raise _Rollback
    except _Rollback:
        pass
    except asyncpg.InsufficientPrivilegeError:
        return ""
    affected = status.rsplit(" ", 1)[-1]
    return status if affected.isdigit() and int(affected) > 0 else ""
