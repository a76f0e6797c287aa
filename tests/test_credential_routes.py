"""Credentials, generated over every route that declares one.

Every unsafe route whose path looks like a credential's declares ``opt={"credential":
kind}``; for every declared kind a richer credential is made (in the callers' branch and
in another), and callers who may manage credentials but hold less are sent to every route
of that kind: refused, and nothing changes.
"""

from __future__ import annotations

import httpx

from bankcrm import db
from bankcrm.credentials import LOADERS, undeclared_credential_routes
from bankcrm_sdk.credential_probe import (
    FACTORIES,
    declared_credential_routes,
    probe_credential_routes,
)
from bankcrm_sdk.world import PASSWORD, World


def test_every_credential_route_declares_its_credential(world: World) -> None:
    assert undeclared_credential_routes(world.app) == []


def test_every_credential_kind_can_be_probed(world: World) -> None:
    kinds = set(LOADERS) | {route.kind for route in declared_credential_routes(world.app)}
    assert kinds <= set(FACTORIES)


async def _client_manager_token(world: World, admin: httpx.AsyncClient, branch: str) -> str:
    created = await admin.post(
        "/api/v1/api-clients",
        json={
            "name": f"{branch} client manager",
            "branch_id": world.branch(branch),
            "permissions": ["bankcrm.api_client.manage"],
        },
    )
    assert created.status_code == 201, created.text
    token: str = created.json()["token"]
    return token


async def _user_administrator(world: World, admin: httpx.AsyncClient, branch: str) -> str:
    """A member of ``branch`` who manages its users and holds nothing else."""
    await db.fetch(
        "INSERT INTO bankcrm_role (name, title, title_en, permissions, managed, description)"
        " VALUES ('user_admin', '用户管理员', 'User administrator', $1, false, '')"
        " ON CONFLICT (name) DO NOTHING",
        ["bankcrm.user.manage"],
    )
    username = f"{branch.lower()}.user.admin"
    created = await admin.post(
        "/api/v1/users",
        json={
            "username": username,
            "email": f"{username}@example.com",
            "password": PASSWORD,
            "memberships": [{"branch_id": world.branch(branch), "role": "user_admin"}],
        },
    )
    assert created.status_code == 201, created.text
    await db.fetch(
        'UPDATE bankcrm_user_security SET must_change_password = false WHERE "user" = $1',
        created.json()["id"],
    )
    return username


async def test_no_caller_manages_a_credential_richer_than_itself(world: World) -> None:
    admin = await world.client("demo.admin")
    callers = {
        "BJ user administrator": await world.client(await _user_administrator(world, admin, "BJ")),
        "BJ manager's session": await world.client("demo.bj.manager"),
        "BJ token that only manages clients": world.token_client(
            await _client_manager_token(world, admin, "BJ")
        ),
        "HQ token that only manages clients": world.token_client(
            await _client_manager_token(world, admin, "HQ")
        ),
    }
    sweep = await probe_credential_routes(world, admin, callers)
    assert sweep.problems == [], "\n".join(sweep.problems)
    # Rotate and revoke, each with a credential in BJ and one in SH.
    assert len(sweep.checked) >= 4, sweep.checked
    for action in ("reset-password", "lock", "deactivate", "memberships"):
        for branch in ("BJ", "SH"):
            assert any(action in c and c.endswith(f"in {branch}") for c in sweep.checked), action
