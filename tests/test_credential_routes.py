"""Credentials, generated over every route that declares one.

Every unsafe route whose path looks like a credential's declares ``opt={"credential":
kind}``; for every declared kind a richer credential is made, and a caller who may manage
credentials but holds less is sent to every route of that kind: 403, and nothing changes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import httpx
from litestar.routes import HTTPRoute

from bankcrm.credentials import LOADERS, SELF, undeclared_credential_routes
from bankcrm_sdk.world import World

RICH_PERMISSIONS = ["bankcrm.branch.manage", "bankcrm.audit.read", "bankcrm.api_client.manage"]


async def _rich_api_client(world: World, admin: httpx.AsyncClient) -> Any:
    created = await admin.post(
        "/api/v1/api-clients",
        json={"name": "rich", "branch_id": world.branch("BJ"), "permissions": RICH_PERMISSIONS},
    )
    assert created.status_code == 201, created.text
    return created.json()["id"]


async def _api_client_row(world: World, key: Any) -> Any:
    connection = await asyncpg.connect(world.kernel.owner_url)
    try:
        return dict(
            await connection.fetchrow("SELECT * FROM bankcrm_api_client WHERE id = $1", key)
        )
    finally:
        await connection.close()


FACTORIES: dict[str, tuple[Callable[..., Awaitable[Any]], Callable[..., Awaitable[Any]]]] = {
    "api_client": (_rich_api_client, _api_client_row),
}
"""kind -> (make a credential richer than the probing caller, read its stored state)."""


def _declared(app: Any) -> list[tuple[str, str, str]]:
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            kind = handler.opt.get("credential")
            if kind is None or kind == SELF:
                continue
            for method in sorted(set(handler.http_methods) - {"OPTIONS", "HEAD"}):
                found.append((kind, method, route.path))
    return found


def test_every_credential_route_declares_its_credential(world: World) -> None:
    assert undeclared_credential_routes(world.app) == []


async def test_no_caller_manages_a_credential_richer_than_itself(world: World) -> None:
    declared = _declared(world.app)
    assert {kind for kind, _, _ in declared} <= set(FACTORIES), "a credential kind has no factory"
    assert set(LOADERS) <= set(FACTORIES)
    admin = await world.client("demo.admin")
    narrow = await admin.post(
        "/api/v1/api-clients",
        json={
            "name": "client manager",
            "branch_id": world.branch("HQ"),
            "permissions": ["bankcrm.api_client.manage"],
        },
    )
    callers = {
        "bj manager session": await world.client("demo.bj.manager"),
        "manage-only token": world.token_client(narrow.json()["token"]),
    }
    probed = 0
    for kind, method, path in declared:
        parameter, _ = LOADERS[kind]
        if "{" + parameter not in path:
            continue
        make, read = FACTORIES[kind]
        key = await make(world, admin)
        before = await read(world, key)
        concrete = path.replace("{" + parameter + ":int}", str(key)).replace(
            "{" + parameter + "}", str(key)
        )
        for label, caller in callers.items():
            response = await caller.request(method, concrete, json={})
            assert response.status_code == 403, (label, method, concrete, response.text)
            assert response.json()["type"].endswith("/credential_exceeds_caller")
        assert await read(world, key) == before, (method, path)
        probed += 1
    assert probed >= 2, declared
