"""The three traps found in the stack trial (ARCHITECTURE section 5), on a real server.

(a) a response sent before its transaction commits; (b) the request scope leaking to the
next request on a keep-alive connection after a large body; (c) a connection that
ignores row-level security (superuser or BYPASSRLS).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import asyncpg
import pytest

from bankcrm import db, piccolo_conf
from bankcrm.context import Scope, current_scope, set_scope
from bankcrm.db import UnsafeDatabaseRole, assert_safe_app_connection, with_user
from bankcrm.runtime import boot
from bankcrm.settings import load_settings
from bankcrm_sdk.isolation import seed_kernel_samples
from bankcrm_sdk.live_server import KeepAliveConnection, live_server
from bankcrm_sdk.pytest_plugin import reset_database
from bankcrm_sdk.world import World, build_world

if TYPE_CHECKING:
    from bankcrm_sdk.database import TestDatabase

LARGE = 900_000
"""Large enough for uvicorn to pause and resume reading (its flow-control high-water mark
is 64 KiB), which is what carries one request's context into the next; below the 1 MiB
JSON limit, so that the body is read in full."""


@pytest.fixture(scope="module")
async def sample_world(
    bankcrm_database: TestDatabase, kernel: Any, app: Any
) -> AsyncIterator[World]:
    await reset_database(bankcrm_database)
    world = await build_world(kernel, app)
    await seed_kernel_samples(world)
    try:
        yield world
    finally:
        await world.close()


async def session_cookie(world: World, username: str) -> tuple[str, str]:
    client = await world.client(username)
    return ("cookie", f"id={client.cookies['id']}")


def big_password_change() -> bytes:
    """A body the handler must read in full before refusing it (400, too long)."""
    return json.dumps({"current": "x" * LARGE, "new": "y"}).encode()


# --- (a) commit before response -----------------------------------------------------------


async def test_a_write_is_committed_before_its_response(sample_world: World) -> None:
    world = sample_world
    admin = await session_cookie(world, "demo.admin")
    owner = await asyncpg.connect(world.kernel.owner_url)
    async with live_server(world.app) as url:
        connection = await KeepAliveConnection.open(url)
        try:
            for n in range(5):
                response = await connection.request(
                    "POST",
                    "/api/v1/api-clients",
                    headers=[admin],
                    json_body={
                        "name": f"trap a {n}",
                        "branch_id": world.branch("SH"),
                        "permissions": [],
                    },
                )
                assert response.status == 201, response.text
                client_id = response.json()["id"]
                # Straight after the response, on another connection: the row and its
                # audit entry (same transaction) must already be there.
                row = await owner.fetchrow(
                    "SELECT (SELECT count(*) FROM bankcrm_api_client WHERE id = $1) AS clients,"
                    " (SELECT count(*) FROM bankcrm_audit WHERE entity = 'bankcrm.api_client'"
                    "  AND entity_id = $1::text) AS audits",
                    client_id,
                )
                assert (row["clients"], row["audits"]) == (1, 1)
        finally:
            await connection.close()
            await owner.close()


async def test_the_read_after_response_check_catches_a_late_commit(sample_world: World) -> None:
    """The same observation against an app that commits after responding sees the trap."""
    owner_url = sample_world.kernel.owner_url
    setup = await asyncpg.connect(owner_url)
    await setup.execute("CREATE TABLE trap_late_commit (id serial PRIMARY KEY)")
    released = asyncio.Event()

    async def late_committer(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        connection = await asyncpg.connect(owner_url)
        try:
            async with connection.transaction():
                new_id = await connection.fetchval(
                    "INSERT INTO trap_late_commit DEFAULT VALUES RETURNING id"
                )
                body = json.dumps({"id": new_id}).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 201,
                        "headers": [(b"content-length", str(len(body)).encode())],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                await released.wait()
        finally:
            await connection.close()

    try:
        async with live_server(late_committer) as url:
            client = await KeepAliveConnection.open(url)
            response = await client.request("POST", "/")
            new_id = response.json()["id"]
            seen_early = await setup.fetchval(
                "SELECT count(*) FROM trap_late_commit WHERE id = $1", new_id
            )
            released.set()
            await client.close()
        seen_late = await setup.fetchval(
            "SELECT count(*) FROM trap_late_commit WHERE id = $1", new_id
        )
        assert (seen_early, seen_late) == (0, 1)
    finally:
        released.set()
        await setup.execute("DROP TABLE trap_late_commit")
        await setup.close()


# --- (b) context variables on keep-alive connections --------------------------------------


@pytest.mark.parametrize("http", ["h11", "httptools"])
async def test_uvicorn_carries_context_into_the_next_request_unless_reset(
    sample_world: World, http: str
) -> None:
    """The hazard itself, shown with a bare ASGI app that does not reset the scope.

    Without ``reset_contextvars`` the second request starts with the first one's scope;
    with it (as ``bankcrm serve`` runs uvicorn) it starts clean.
    """
    leaked: dict[bool, Scope | None] = {}

    async def bare(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        leaked[scope["path"] == "/second"] = current_scope()
        if scope["path"] == "/first":
            set_scope(Scope(actor="user:sh", branch_ids=frozenset({5})))
        more = True
        while more:
            message = await receive()
            more = message.get("more_body", False)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    seen = {}
    for reset in (False, True):
        async with live_server(bare, reset_contextvars=reset, http=http) as url:
            connection = await KeepAliveConnection.open(url)
            await connection.request("POST", "/first", body=b"x" * LARGE)
            await connection.request("GET", "/second")
            await connection.close()
        seen[reset] = leaked[True]
    leaked_scope = seen[False]
    assert leaked_scope is not None
    assert leaked_scope.actor == "user:sh"
    assert seen[True] is None


@pytest.mark.parametrize("reset_contextvars", [True, False])
async def test_kernel_scope_never_leaks_to_the_next_request(
    sample_world: World, reset_contextvars: bool
) -> None:
    """The kernel resets its scope per request, so it holds even without uvicorn's reset."""
    world = sample_world
    sh = await session_cookie(world, "demo.sh.manager")
    bj = await session_cookie(world, "demo.bj.manager")
    sh_branches = await world.subtree("SH")
    async with live_server(world.app, reset_contextvars=reset_contextvars) as url:
        connection = await KeepAliveConnection.open(url)
        try:
            first = await connection.request(
                "POST",
                "/api/v1/auth/password",
                headers=[sh, ("content-type", "application/json")],
                body=big_password_change(),
            )
            assert first.status == 422, first.text  # read, but the value is too long
            for path in ("/api/v1/auth/me", "/api/v1/audit"):
                anonymous = await connection.request("GET", path)
                assert anonymous.status == 401, anonymous.text
                assert not {"items", "branch_ids"} & set(anonymous.json())

            first = await connection.request(
                "POST",
                "/api/v1/auth/password",
                headers=[bj, ("content-type", "application/json")],
                body=big_password_change(),
            )
            assert first.status == 422, first.text  # read, but the value is too long
            me = await connection.request("GET", "/api/v1/auth/me", headers=[sh])
            assert me.status == 200
            assert set(me.json()["branch_ids"]) == sh_branches
            trail = await connection.request("GET", "/api/v1/audit?limit=200", headers=[sh])
            assert trail.status == 200, trail.text
            seen = {item["branch_id"] for item in trail.json()["items"]}
            assert seen
            assert seen <= sh_branches
            assert connection.requests == 6
        finally:
            await connection.close()


# --- (c) connections that ignore row-level security ---------------------------------------


async def test_the_pool_connects_as_the_safe_application_role(sample_world: World) -> None:
    settings = sample_world.kernel.settings
    assert await db.fetchval("SELECT current_user") == settings.app_role
    assert piccolo_conf.DB.pool is not None
    async with piccolo_conf.DB.pool.acquire() as connection:
        await assert_safe_app_connection(connection)


async def test_a_superuser_or_bypassrls_connection_is_refused(sample_world: World) -> None:
    owner_url = sample_world.kernel.owner_url
    owner = await asyncpg.connect(owner_url)
    # Roles are cluster-wide and other test sessions may share the server: a unique name.
    role = f"bankcrm_test_bypass_{uuid.uuid4().hex[:8]}"
    try:
        assert await owner.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        with pytest.raises(UnsafeDatabaseRole, match="superuser or has BYPASSRLS"):
            await assert_safe_app_connection(owner)
        await owner.execute(f"DROP ROLE IF EXISTS {role}")
        await owner.execute(f"CREATE ROLE {role} LOGIN NOSUPERUSER BYPASSRLS")
        bypass = await asyncpg.connect(with_user(owner_url, role))
        try:
            with pytest.raises(UnsafeDatabaseRole, match="BYPASSRLS"):
                await assert_safe_app_connection(bypass)
        finally:
            await bypass.close()
    finally:
        await owner.execute(f"DROP ROLE IF EXISTS {role}")
        await owner.close()


async def test_the_kernel_refuses_to_boot_as_a_superuser(
    sample_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    superuser = await asyncpg.connect(sample_world.kernel.owner_url)
    try:
        name = await superuser.fetchval("SELECT current_user")
    finally:
        await superuser.close()
    monkeypatch.setenv("BANKCRM_APP_ROLE", name)
    settings = replace(load_settings(), database_url=sample_world.kernel.owner_url)
    assert settings.app_role == name
    engine_config = dict(piccolo_conf.DB.config)
    registry = piccolo_conf.APP_REGISTRY
    try:
        with pytest.raises(UnsafeDatabaseRole):
            await boot(settings, migrate=False, connect=True)
    finally:
        # The refused boot pointed the shared engine at the superuser: undo it.
        piccolo_conf.DB.config = engine_config
        piccolo_conf.APP_REGISTRY = registry
