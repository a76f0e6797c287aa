"""Credentials, generated over every route that declares one.

Every unsafe route whose path looks like a credential's declares ``opt={"credential":
kind}``; for every declared kind a richer credential is made (in the callers' branch and
in another), and callers who may manage credentials but hold less are sent to every route
of that kind: refused, and nothing changes.
"""

from __future__ import annotations

import httpx

from bankcrm.credentials import LOADERS, undeclared_credential_routes
from bankcrm_sdk.credential_probe import (
    FACTORIES,
    declared_credential_routes,
    probe_credential_routes,
)
from bankcrm_sdk.world import World


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


async def test_no_caller_manages_a_credential_richer_than_itself(world: World) -> None:
    admin = await world.client("demo.admin")
    callers = {
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
