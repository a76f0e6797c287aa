"""The permission matrix: every REST route of every plugin, sent by every standard role.

Each route names one permission (``opt={"permission": ...}``); a role that lacks it must
get 403 with the kernel's problem naming that permission, whatever the path's ids and
whatever the body — the check runs before anything is read. Generated from the running
application, so a new route is covered the day it lands.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from litestar.routes import HTTPRoute

from bankcrm.context import Scope
from bankcrm_sdk.world import World

ROLES = (
    "demo.bj.manager",
    "demo.bj.rm",
    "demo.sh.manager",
    "demo.sh.rm",
    "demo.teller",
    "demo.auditor",
)
"""One demo user per standard role (the head-office administrator is a superuser)."""
SAMPLE = {int: "1", str: "x", uuid.UUID: str(uuid.UUID(int=1)), date: "2026-12-01"}


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    permission: str
    multipart: bool


def routes(world: World) -> list[Route]:
    found = []
    for route in world.app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith("/api/"):
            continue
        path = route.path
        for name, parameter in route.path_parameters.items():
            value = SAMPLE.get(parameter.type, "1")
            path = path.replace(f"{{{name}:{parameter.type.__name__.lower()}}}", value)
            path = path.replace(f"{{{name}}}", value)
        for handler in route.route_handlers:
            permission = handler.opt.get("permission")
            if handler.opt.get("public") or permission in (None, "authenticated"):
                continue
            for method in sorted(set(handler.http_methods) - {"OPTIONS", "HEAD"}):
                multipart = handler.opt.get("body") == "multipart"
                found.append(Route(method, path, str(permission), multipart))
    return found


async def test_every_route_refuses_every_role_without_its_permission(world: World) -> None:
    table = routes(world)
    assert len(table) > 150, len(table)
    wrong: list[str] = []
    checked = 0
    for username in ROLES:
        client = await world.client(username)
        me = (await client.get("/api/v1/auth/me")).json()
        scope = Scope(
            actor=me["actor"], branch_ids=frozenset(), permissions=frozenset(me["permissions"])
        )
        for route in table:
            if scope.has(route.permission):
                continue
            checked += 1
            if route.multipart:  # an upload: the right media type, so only the role is wrong
                files = {"file": ("x.csv", b"a,b\n1,2\n", "text/csv")}
                response = await client.request(route.method, route.path, files=files)
            else:
                body = {} if route.method in ("POST", "PUT", "PATCH") else None
                response = await client.request(route.method, route.path, json=body)
            problem = response.json() if response.headers.get("content-type", "").startswith(
                "application/problem+json"
            ) else {}  # fmt: skip
            if response.status_code != 403 or route.permission not in str(
                problem.get("detail", "")
            ):
                wrong.append(
                    f"{username} {route.method} {route.path} (needs {route.permission}):"
                    f" {response.status_code} {response.text[:120]}"
                )
    print(f"permission matrix: {len(table)} route operations, {checked} refused pairs checked")
    assert checked > 300, checked
    assert wrong == [], "\n".join(wrong[:30])
