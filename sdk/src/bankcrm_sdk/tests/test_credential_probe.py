"""The credential probe finds a route that lets a narrower caller manage a credential."""

from __future__ import annotations

import pytest

from bankcrm import credentials
from bankcrm_sdk.credential_probe import declared_credential_routes, probe_credential_routes
from bankcrm_sdk.world import World


def test_the_kernels_credential_routes_are_found(world: World) -> None:
    found = {str(route) for route in declared_credential_routes(world.app)}
    assert "POST /api/v1/api-clients/{client_id:int}/rotate (api_client)" in found
    assert "DELETE /api/v1/api-clients/{client_id:int} (api_client)" in found


async def test_a_missing_check_is_reported(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # As before the credential check existed: anyone holding the route's permission may
    # rotate or revoke any client in scope.
    monkeypatch.setattr(credentials, "exceeding", lambda scope, credential, where="body": [])
    admin = await world.client("demo.admin")
    sweep = await probe_credential_routes(
        world, admin, {"BJ manager's session": await world.client("demo.bj.manager")}
    )
    assert any("/rotate (api_client) as BJ manager's session" in p for p in sweep.problems)
    assert any("the credential changed" in p for p in sweep.problems), sweep.problems
