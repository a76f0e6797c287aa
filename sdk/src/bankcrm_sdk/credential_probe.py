"""Credentials, probed over every route that declares one (``opt={"credential": kind}``).

Nothing here names a route: the routes come from the app. For each declared kind a factory
makes a credential richer than the probing callers (and one in a branch outside their
scope); every route of that kind is then called by each caller, and must refuse (403
``credential_exceeds_caller``, or 404 for a credential the caller may not even see) and
leave the stored credential exactly as it was. A kind the app declares but no factory
knows is reported, so a new kind cannot slip past the probe.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
from litestar.routes import HTTPRoute

from bankcrm.credentials import LOADERS, SELF
from bankcrm_sdk.world import World

RICH_PERMISSIONS = ("bankcrm.branch.manage", "bankcrm.audit.read", "bankcrm.api_client.manage")
"""More than a branch manager or a token that only manages clients holds."""


@dataclass(frozen=True)
class CredentialRoute:
    kind: str
    method: str
    path: str
    permission: str = ""
    """The permission the route declares: a caller without it is refused before any
    credential is looked at, which proves nothing about the credential check."""

    def concrete(self, key: Any) -> str | None:
        """The path with the credential's key, or ``None`` for a route naming none (create)."""
        parameter, _ = LOADERS[self.kind]
        for placeholder in (f"{{{parameter}:int}}", f"{{{parameter}:str}}", f"{{{parameter}}}"):
            if placeholder in self.path:
                return self.path.replace(placeholder, str(key))
        return None

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.kind})"


def declared_credential_routes(app: Any) -> list[CredentialRoute]:
    """Every method of every route declaring a credential other than the caller's own."""
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            kind = handler.opt.get("credential")
            if kind is None or kind == SELF:
                continue
            permission = str(handler.opt.get("permission") or "")
            for method in sorted(set(handler.http_methods) - {"OPTIONS", "HEAD"}):
                found.append(CredentialRoute(kind, method, route.path, permission))
    return found


MakeCredential = Callable[[World, httpx.AsyncClient, str], Awaitable[Any]]
"""(world, a head-office client, branch code) -> the key of a new rich credential."""
ReadCredential = Callable[[World, Any], Awaitable[Mapping[str, Any] | None]]
"""(world, key) -> the credential's stored state, read as the database owner."""


async def _make_api_client(world: World, admin: httpx.AsyncClient, branch: str) -> Any:
    created = await admin.post(
        "/api/v1/api-clients",
        json={"name": "rich", "branch_id": world.branch(branch), "permissions": RICH_PERMISSIONS},
    )
    assert created.status_code == 201, created.text
    return created.json()["id"]


async def _read_api_client(world: World, key: Any) -> Mapping[str, Any] | None:
    connection = await asyncpg.connect(world.kernel.owner_url)
    try:
        row = await connection.fetchrow("SELECT * FROM bankcrm_api_client WHERE id = $1", key)
        return None if row is None else dict(row)
    finally:
        await connection.close()


RICH_ROLE = "branch_manager"
"""The standard role with the most permissions short of the head office's."""


async def _make_user(world: World, admin: httpx.AsyncClient, branch: str) -> Any:
    username = f"rich.{branch.lower()}.{len(world.users)}"
    created = await admin.post(
        "/api/v1/users",
        json={
            "username": username,
            "email": f"{username}@probe.local",
            "memberships": [{"branch_id": world.branch(branch), "role": RICH_ROLE}],
        },
    )
    assert created.status_code == 201, created.text
    world.users[username] = created.json()["id"]
    return created.json()["id"]


async def _read_user(world: World, key: Any) -> Mapping[str, Any] | None:
    connection = await asyncpg.connect(world.kernel.owner_url)
    try:
        user = await connection.fetchrow("SELECT * FROM piccolo_user WHERE id = $1", key)
        if user is None:
            return None
        security = await connection.fetchrow(
            'SELECT * FROM bankcrm_user_security WHERE "user" = $1', key
        )
        memberships = await connection.fetch(
            'SELECT id, branch, role FROM bankcrm_membership WHERE "user" = $1 ORDER BY id', key
        )
        sessions = await connection.fetchval(
            "SELECT count(*) FROM sessions WHERE user_id = $1", key
        )
        return {
            "user": dict(user),
            "security": dict(security) if security else None,
            "memberships": [dict(m) for m in memberships],
            "sessions": sessions,
        }
    finally:
        await connection.close()


FACTORIES: dict[str, tuple[MakeCredential, ReadCredential]] = {
    "api_client": (_make_api_client, _read_api_client),
    "user": (_make_user, _read_user),
}
"""kind -> (make a credential richer than the probing callers, read its stored state)."""


@dataclass
class CredentialSweep:
    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Caller and route pairs left out: the caller lacks the route's permission."""


async def _permissions(caller: httpx.AsyncClient) -> tuple[frozenset[str], bool]:
    me = await caller.get("/api/v1/auth/me")
    assert me.status_code == 200, me.text
    body = me.json()
    return frozenset(body["permissions"]), bool(body["superuser"])


async def probe_credential_routes(
    world: World,
    admin: httpx.AsyncClient,
    callers: Mapping[str, httpx.AsyncClient],
    *,
    in_scope: str = "BJ",
    out_of_scope: str = "SH",
) -> CredentialSweep:
    """Send every caller to every declared credential route, once for a richer credential
    in ``in_scope`` (the callers' branch) and once for one in ``out_of_scope``."""
    sweep = CredentialSweep()
    held = {label: await _permissions(caller) for label, caller in callers.items()}
    for route in declared_credential_routes(world.app):
        if route.kind not in FACTORIES:
            sweep.problems.append(f"{route}: no factory makes a credential of this kind")
            continue
        make, read = FACTORIES[route.kind]
        for branch, allowed in ((in_scope, {403}), (out_of_scope, {403, 404})):
            key = await make(world, admin, branch)
            path = route.concrete(key)
            if path is None:
                continue  # creation: the handler checks what it is about to issue
            before = await read(world, key)
            sent = 0
            for label, caller in callers.items():
                where = f"{route} as {label}, credential in {branch}"
                permissions, superuser = held[label]
                if route.permission not in {"", "authenticated"} and not (
                    superuser or route.permission in permissions
                ):
                    sweep.skipped.append(where)
                    continue
                answer = await caller.request(route.method, path, json={})
                sent += 1
                if answer.status_code not in allowed:
                    sweep.problems.append(f"{where}: {answer.status_code} {answer.text[:200]}")
                elif answer.status_code == 403 and not str(answer.json().get("type", "")).endswith(
                    "/credential_exceeds_caller"
                ):
                    sweep.problems.append(f"{where}: 403 of another kind: {answer.text[:200]}")
            if await read(world, key) != before:
                sweep.problems.append(f"{route}, credential in {branch}: the credential changed")
            if sent:
                sweep.checked.append(f"{route} in {branch}")
    return sweep
