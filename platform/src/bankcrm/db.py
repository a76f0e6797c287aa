"""One data-access layer: the scoped Piccolo engine, connection URLs and roles.

The application never connects as the owner or a superuser: it connects as
``settings.app_role``, which owns nothing and cannot bypass row-level security. Every
connection the engine hands out (pool checkout or a fresh connection) first receives the
bound :class:`~bankcrm.context.Scope` as two session settings that the RLS policies read;
asyncpg's ``RESET ALL`` on release clears them again.
"""

from __future__ import annotations

import contextlib
import json
import logging
import weakref
from collections.abc import AsyncIterator, Sequence
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import anyio
import asyncpg
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction

from bankcrm.context import Scope, bind_scope, current_scope, scope_setting

log = logging.getLogger(__name__)

SCOPE_SQL = (
    "SELECT set_config('bankcrm.branch_ids', $1, false), set_config('bankcrm.actor', $2, false)"
)


class UnsafeDatabaseRole(RuntimeError):
    """The application connection could bypass row-level security."""


_applied_scope: weakref.WeakKeyDictionary[asyncpg.Connection, tuple[str, str]] = (
    weakref.WeakKeyDictionary()
)
"""What each live server session holds, so an unchanged scope costs no round trip."""


async def apply_scope(connection: asyncpg.Connection) -> None:
    """Give the connection the current scope (pool ``setup``: runs on every checkout)."""
    desired = scope_setting(current_scope())
    session = getattr(connection, "_con", connection)  # the pool hands out proxies
    if _applied_scope.get(session) == desired:
        return
    await connection.execute(SCOPE_SQL, *desired)
    _applied_scope[session] = desired


async def keep_session_state(connection: asyncpg.Connection) -> None:
    """Pool ``reset``: asyncpg has already rolled back any open transaction.

    Its default reset (``RESET ALL``, ``UNLISTEN *``, ``CLOSE ALL``, advisory unlock) costs
    a round trip on every release, i.e. on every statement outside a transaction. The
    kernel keeps no session state but the scope, which :func:`apply_scope` replaces on
    the next checkout whenever it differs; plugins must not issue session-level ``SET``
    (use ``SET LOCAL`` inside a transaction).
    """


class ScopedPostgresEngine(PostgresEngine):
    """A Piccolo engine that applies the current scope to every connection it returns."""

    async def start_connection_pool(self, **kwargs: Any) -> None:
        kwargs.setdefault("setup", apply_scope)
        kwargs.setdefault("reset", keep_session_state)
        await super().start_connection_pool(**kwargs)

    async def get_new_connection(self) -> asyncpg.Connection:
        # Piccolo opens unpooled connections for batch reads (e.g. admin CSV export):
        # they must carry the scope too, or they would see nothing / everything.
        connection = await super().get_new_connection()
        await apply_scope(connection)
        return connection

    def configure(self, dsn: str) -> None:
        self.config = {"dsn": dsn}

    async def check_version(self) -> None:
        """Skipped: Piccolo would connect at import time; the kernel checks at boot."""


def with_user(url: str, user: str, password: str | None = None) -> str:
    """``url`` with its user (and password) replaced, host/database/query kept."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    credentials = quote(user, safe="")
    if password:
        credentials += ":" + quote(password, safe="")
    return urlunsplit((parts.scheme, f"{credentials}@{host}", parts.path, parts.query, ""))


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, ""))


def database_name(url: str) -> str:
    return unquote(urlsplit(url).path.lstrip("/")) or "postgres"


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def ensure_database(admin_url: str, name: str) -> None:
    connection = await asyncpg.connect(with_database(admin_url, "postgres"))
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await connection.execute(f"CREATE DATABASE {quote_ident(name)} ENCODING 'UTF8'")
    finally:
        await connection.close()


async def drop_database(admin_url: str, name: str) -> None:
    connection = await asyncpg.connect(with_database(admin_url, "postgres"))
    try:
        await connection.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)} WITH (FORCE)")
    finally:
        await connection.close()


async def ensure_app_role(owner: asyncpg.Connection, role: str, password: str | None) -> None:
    """Create the login role the application uses; it must not bypass RLS."""
    exists = await owner.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
    if not exists:
        await owner.execute(
            f"CREATE ROLE {quote_ident(role)} LOGIN NOSUPERUSER NOBYPASSRLS "
            "NOCREATEDB NOCREATEROLE NOINHERIT"
        )
    if password:
        await owner.execute(f"ALTER ROLE {quote_ident(role)} PASSWORD {_literal(password)}")


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


async def assert_safe_app_connection(connection: asyncpg.Connection) -> None:
    """Refuse to run on a connection that would ignore row-level security."""
    row = await connection.fetchrow(
        "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
    )
    if row is None or row["rolsuper"] or row["rolbypassrls"]:
        user = await connection.fetchval("SELECT current_user")
        raise UnsafeDatabaseRole(
            f"the application connects as {user!r}, which is a superuser or has BYPASSRLS; "
            "row-level security would not apply. Connect as the application role."
        )
    owned = await connection.fetchval(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND pg_get_userbyid(c.relowner) = current_user"
    )
    if owned:
        raise UnsafeDatabaseRole(
            "the application role owns tables; owners can alter policies. Use a non-owner role."
        )


@contextlib.asynccontextmanager
async def transaction() -> AsyncIterator[PostgresTransaction]:
    """The unit of work: writes, their audit rows and outbox messages commit together."""
    from bankcrm.piccolo_conf import DB

    async with DB.transaction() as txn:
        yield txn


@contextlib.asynccontextmanager
async def connection() -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection of the caller's own, carrying the current scope, outside any
    transaction the caller holds: for a server-side cursor read across many awaits (a
    streamed export) or a write others must see before the caller's transaction commits
    (progress). Start transactions on it yourself; it goes back to the pool (or, without
    a pool, is closed) on exit, even when the caller is being cancelled."""
    from bankcrm.piccolo_conf import DB

    pool = DB.pool
    held = await (pool.acquire() if pool is not None else DB.get_new_connection())
    try:
        yield held
    finally:
        with anyio.CancelScope(shield=True):
            if pool is not None:
                await pool.release(held)
            else:
                await held.close()


@contextlib.asynccontextmanager
async def under_scope(scope: Scope | None) -> AsyncIterator[None]:
    """Run the block with ``scope`` bound, also inside a transaction: its connection took
    the scope of its checkout, so it is given ``scope`` for the block and the caller's
    back afterwards (a job computing a figure per branch in its one transaction)."""
    from bankcrm.piccolo_conf import DB

    transaction = DB.current_transaction.get()
    previous = current_scope()
    with bind_scope(scope):
        if transaction is not None:
            await apply_scope(transaction.connection)
        try:
            yield
        finally:
            if transaction is not None:
                with bind_scope(previous):
                    await apply_scope(transaction.connection)


async def fetch(sql: str, *args: Any) -> list[asyncpg.Record]:
    """Run raw SQL in the current transaction or on a scoped pool connection."""
    from bankcrm.piccolo_conf import DB

    txn = DB.current_transaction.get()
    if txn is not None:
        return list(await txn.connection.fetch(sql, *args))
    if DB.pool is None:
        raise RuntimeError("the database pool is not running")
    async with DB.pool.acquire() as connection:
        return list(await connection.fetch(sql, *args))


async def fetchrow(sql: str, *args: Any) -> asyncpg.Record | None:
    rows = await fetch(sql, *args)
    return rows[0] if rows else None


async def fetchval(sql: str, *args: Any) -> Any:
    row = await fetchrow(sql, *args)
    return None if row is None else row[0]


async def execute_many(sql: str, args: Sequence[Sequence[Any]]) -> None:
    from bankcrm.piccolo_conf import DB

    txn = DB.current_transaction.get()
    if txn is not None:
        await txn.connection.executemany(sql, args)
        return
    async with transaction() as outer:
        await outer.connection.executemany(sql, args)


def jsonb(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)
