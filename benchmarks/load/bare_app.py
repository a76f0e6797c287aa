"""The bare baseline: the platform's SQL behind a minimal Litestar app on a raw asyncpg pool.

Every route here serves the same path as the platform and sends the same statements the
platform sends for it (the session's user and memberships, the scope setting, then the
endpoint's own queries), as the same non-owner role ``bankcrm_app``, so row-level security
costs the same on both sides. What the bare app leaves out is the platform itself: the scope
middleware and its access log, pluggy hook calls, central guards, one pool checkout (with its
``set_config`` round trip and reset) per statement instead of one per request, DTOs, masking
and problem rendering. The ratio platform/bare measured in one run is that overhead.

The session statement is copied from ``bankcrm.auth``, the scope setting and the customer
archive's statements are the modules' own constants (so this process loads the kernel and
plugin modules, which shows in its memory, not in its per-request work). ``capture_sql.py``
checks that both apps send the same statements.

It runs under uvicorn with the same flags ``bankcrm serve`` uses (see ``UVICORN_FLAGS``):

    BENCH_APP_DSN=postgresql://bankcrm_app@127.0.0.1:5432/bankcrm_bench \
        uv run python benchmarks/load/bare_app.py --port 8101

The branch tree is read once at start-up, as the platform caches it (it re-reads it every
five seconds: two small queries per five seconds, nothing per request).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import msgspec
import uvicorn
import uvloop
from litestar import Litestar, Request, Response, get
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.params import FromPath, FromQuery

from bankcrm import auth, db
from bankcrm.notifications import service as notification_service
from bankcrm_customer_archive import services
from bankcrm_customer_archive.search import services as search

# The statement bankcrm.auth.scope_for_session sends on every request, copied so that
from bankcrm_customer_archive.view_360 import services as view_360

# PostgreSQL plans and runs the same work on both sides (asyncpg prepares each once).
SESSION_SCOPE_SQL = (
    f"SELECT {auth._SCOPE_COLUMNS} JOIN sessions s ON s.user_id = u.id WHERE s.token = $1"
    " AND s.expiry_date > localtimestamp AND s.max_expiry_date > localtimestamp"
    " ORDER BY m.id"
)
BRANCH_SQL = "SELECT id, path FROM bankcrm_branch"

# The customer archive's reads take their SQL from the plugin's services module itself: the
# statement constants, and for search the plugin's own query builder (which only assembles
# text and arguments for a name query), so the baseline cannot drift from the plugin while
# it changes. What the bare app skips is everything around the SQL.
JSON_COLUMNS = (
    "tags", "addresses", "contacts", "holdings",
    # the 360 statement's profile panels and portrait aggregates
    "relations", "household", "channels", "rating_history", "contracts", "aum_points",
    "holding_totals", "opened", "mix", "trend", "averages", "tag_marks", "latest_ratings",
)  # fmt: skip

# Kept identical to bankcrm.server._serve so that only the application differs.
UVICORN_FLAGS: dict[str, Any] = {
    "log_config": None,
    "access_log": False,
    "reset_contextvars": True,
    "lifespan": "on",
    "proxy_headers": False,
}


@dataclass(frozen=True)
class Actor:
    user_id: int
    username: str
    superuser: bool
    branch_ids: list[int]
    permissions: list[str]

    @property
    def branch_setting(self) -> str:
        return ",".join(str(i) for i in self.branch_ids)


class State:
    pool: asyncpg.Pool
    branch_paths: dict[int, str]


STATE = State()


def subtree(branch_id: int) -> set[int]:
    root = STATE.branch_paths.get(branch_id)
    if root is None:
        return set()
    return {b for b, path in STATE.branch_paths.items() if path.startswith(root)}


async def authenticate(connection: asyncpg.Connection, request: Request[Any, Any, Any]) -> Actor:
    token = request.cookies.get("id")
    rows = await connection.fetch(SESSION_SCOPE_SQL, token) if token else []
    if not rows or not rows[0]["active"]:
        raise NotAuthorizedException()
    branch_ids: set[int] = set()
    permissions: set[str] = set()
    for row in rows:
        if row["branch"] is not None:
            branch_ids |= subtree(row["branch"])
            permissions |= set(row["permissions"] or [])
    first = rows[0]
    return Actor(
        first["id"], first["username"], first["superuser"], sorted(branch_ids), sorted(permissions)
    )


async def scoped(connection: asyncpg.Connection, actor: Actor) -> None:
    await connection.execute(db.SCOPE_SQL, actor.branch_setting, f"user:{actor.user_id}")


@get("/api/v1/auth/me")
async def me(request: Request[Any, Any, Any]) -> dict[str, Any]:
    async with STATE.pool.acquire() as connection:
        actor = await authenticate(connection, request)
    return {
        "actor": f"user:{actor.user_id}",
        "username": actor.username,
        "branch_ids": actor.branch_ids,
        "permissions": actor.permissions,
        "superuser": actor.superuser,
    }


@get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


def not_found(what: str) -> NotFoundException:
    return NotFoundException(f"{what} does not exist or is not visible to you")


def record(row: asyncpg.Record) -> dict[str, Any]:
    values = dict(row)
    for column in JSON_COLUMNS:
        if values.get(column) is not None:
            values[column] = msgspec.json.decode(values[column])
    return values


@get("/api/v1/customer_archive/customers/{customer_id:int}")
async def customer_detail(
    request: Request[Any, Any, Any], customer_id: FromPath[int]
) -> dict[str, Any]:
    async with STATE.pool.acquire() as connection:
        actor = await authenticate(connection, request)
        await scoped(connection, actor)
        row = await connection.fetchrow(
            services.VIEW_DETAIL_SQL, customer_id, '{"screen": "detail"}', uuid.uuid4().hex
        )
    if row is None:
        raise not_found(f"customer {customer_id}")
    return record(row)


@get("/api/v1/customer_archive/customers/{customer_id:int}/360")
async def customer_360(
    request: Request[Any, Any, Any], customer_id: FromPath[int]
) -> dict[str, Any]:
    # The customer archive is the only plugin installed: its sections are the whole view.
    async with STATE.pool.acquire() as connection:
        actor = await authenticate(connection, request)
        await scoped(connection, actor)
        # The platform's one 360 statement; the manager may read contracts and holdings.
        row = await connection.fetchrow(
            view_360.VIEW_360_SQL,
            *view_360.view_360_arguments(
                customer_id, uuid.uuid4().hex, reads_contracts=True, reads_holdings=True
            ),
        )
    if row is None:
        raise not_found(f"customer {customer_id}")
    return {"customer_id": customer_id, "branch_id": row["branch_id"], "sections": [record(row)]}


@get("/api/v1/customer_archive/customers")
async def customer_search(
    request: Request[Any, Any, Any], q: FromQuery[str], limit: FromQuery[int] = 50
) -> dict[str, Any]:
    # The platform's own statement (search.search_statement is what search_customers
    # sends). No fuzzy fallback: the load only sends names and pinyin of existing customers.
    statement = await search.search_statement(search.CustomerFilter(q=q), limit + 1)
    async with STATE.pool.acquire() as connection:
        actor = await authenticate(connection, request)
        await scoped(connection, actor)
        rows = [] if statement is None else await connection.fetch(statement[0], *statement[1])
    items = [dict(r) for r in rows[:limit]]
    return {"items": items, "next_cursor": str(items[-1]["id"]) if len(rows) > limit else None}


@get("/api/v1/notifications/badge")
async def notification_badge(request: Request[Any, Any, Any]) -> Response[dict[str, int]]:
    # The platform's statement; the ETag and cache header as the platform sends them (the
    # load sends no If-None-Match, so both answer 200 with the count).
    async with STATE.pool.acquire() as connection:
        actor = await authenticate(connection, request)
        await scoped(connection, actor)
        count = await connection.fetchval(notification_service.UNREAD_COUNT_SQL, actor.user_id)
    headers = {"ETag": f'W/"{count}"', "Cache-Control": "private, no-cache"}
    return Response({"unread": int(count)}, headers=headers)


@asynccontextmanager
async def lifespan(app: Litestar) -> AsyncIterator[None]:
    STATE.pool = await asyncpg.create_pool(
        os.environ["BENCH_APP_DSN"],
        min_size=int(os.environ.get("BANKCRM_POOL_MIN", "2")),
        max_size=int(os.environ.get("BANKCRM_POOL_MAX", "20")),
    )
    try:
        rows = await STATE.pool.fetch(BRANCH_SQL)
        STATE.branch_paths = {r["id"]: r["path"] for r in rows}
        yield
    finally:
        await STATE.pool.close()


def create_app() -> Litestar:
    handlers = [me, healthz, customer_detail, customer_360, customer_search, notification_badge]
    return Litestar(route_handlers=handlers, lifespan=[lifespan])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8101)
    args = parser.parse_args()
    config = uvicorn.Config(create_app(), host=args.host, port=args.port, **UVICORN_FLAGS)
    # Like bankcrm.server: Server.serve() under asyncio.run on uvloop, so both run on the
    # same event loop implementation.
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    asyncio.run(uvicorn.Server(config).serve())


if __name__ == "__main__":
    main()
