"""OAuth 2.0 client credentials for external systems: tokens, scopes, revocation, errors."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from bankcrm import db, oauth
from bankcrm.settings import SettingsError, load_settings
from bankcrm_sdk.world import World

FORM = {"content-type": "application/x-www-form-urlencoded"}


def basic(client_id: int, secret: str) -> dict[str, str]:
    pair = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {**FORM, "authorization": f"Basic {pair}"}


async def new_client(world: World, manager: httpx.AsyncClient, count: int = 2) -> dict[str, Any]:
    held = (await manager.get("/api/v1/auth/me")).json()["permissions"]
    permissions = sorted(p for p in held if p != "bankcrm.api_client.manage")[:count]
    created = await manager.post(
        "/api/v1/api-clients",
        json={
            "name": "core banking",
            "branch_id": world.branch("BJ-HD"),
            "permissions": permissions,
        },
    )
    assert created.status_code == 201, created.text
    return {**created.json(), "permissions": permissions}


async def access_token(
    world: World, client: dict[str, Any], scope: str | None = None
) -> dict[str, Any]:
    form = {"grant_type": "client_credentials", **({"scope": scope} if scope else {})}
    answer = await world.anonymous_client().post(
        "/oauth/token", data=form, headers=basic(client["id"], client["token"])
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    body: dict[str, Any] = answer.json()
    return body


async def test_a_token_acts_as_its_client_within_its_scopes(world: World) -> None:
    manager = await world.client("demo.bj.manager")
    client = await new_client(world, manager)
    first, second = client["permissions"]

    issued = await access_token(world, client, scope=first)
    assert issued["token_type"] == "Bearer"
    assert issued["expires_in"] == 15 * 60
    assert issued["scope"] == first
    assert issued["access_token"].startswith("bcat_")
    caller = world.token_client(issued["access_token"])
    me = (await caller.get("/api/v1/auth/me")).json()
    assert me["permissions"] == [first]
    assert set(me["branch_ids"]) == await world.subtree("BJ-HD")

    # The secret in the form (client_secret_post) and no scope: every permission.
    whole = await world.anonymous_client().post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": str(client["id"]),
            "client_secret": client["token"],
        },
        headers=FORM,
    )
    assert whole.status_code == 200, whole.text
    assert whole.json()["scope"] == f"{first} {second}"
    with world.bind(world.system_scope()):
        audited = await db.fetchval(
            "SELECT count(*) FROM bankcrm_audit WHERE entity = 'bankcrm.oauth_token'"
            " AND actor = $1",
            f"client:{client['id']}",
        )
    assert audited == 2

    # The client loses a permission: its live token loses it at once.
    with world.bind(world.system_scope()):
        await db.fetch(
            "UPDATE bankcrm_api_client SET permissions = $1 WHERE id = $2", [second], client["id"]
        )
    assert (await caller.get("/api/v1/auth/me")).json()["permissions"] == []


async def test_revocation_expiry_and_the_client_end_a_token(world: World) -> None:
    manager = await world.client("demo.bj.manager")
    client = await new_client(world, manager)
    other = await new_client(world, manager)
    token = (await access_token(world, client))["access_token"]
    caller = world.token_client(token)
    assert (await caller.get("/api/v1/auth/me")).status_code == 200

    # Another client cannot revoke it (RFC 7009: 200 all the same, nothing changes).
    anonymous = world.anonymous_client()
    foreign = await anonymous.post(
        "/oauth/revoke", data={"token": token}, headers=basic(other["id"], other["token"])
    )
    assert foreign.status_code == 200
    assert (await caller.get("/api/v1/auth/me")).status_code == 200
    own = await anonymous.post(
        "/oauth/revoke", data={"token": token}, headers=basic(client["id"], client["token"])
    )
    assert own.status_code == 200
    assert (await caller.get("/api/v1/auth/me")).status_code == 401
    unknown = await anonymous.post(
        "/oauth/revoke", data={"token": "bcat_0_x"}, headers=basic(client["id"], client["token"])
    )
    assert unknown.status_code == 200

    expiring = world.token_client((await access_token(world, client))["access_token"])
    with world.bind(world.system_scope()):
        await db.fetch(
            "UPDATE bankcrm_oauth_token SET issued_at = now() - interval '2 days',"
            " expires_at = now() - interval '1 day 1 minute' WHERE client = $1",
            client["id"],
        )
    assert (await expiring.get("/api/v1/auth/me")).status_code == 401
    with world.bind(world.system_scope()):
        assert await oauth.purge_expired() >= 1

    # A rotation without switch-over (a leaked secret) ends the tokens it bought.
    leaked = world.token_client((await access_token(world, client))["access_token"])
    rotated = await manager.post(
        f"/api/v1/api-clients/{client['id']}/rotate", json={"overlap_minutes": 0}
    )
    assert rotated.status_code == 200, rotated.text
    assert (await leaked.get("/api/v1/auth/me")).status_code == 401

    # Revoking the client ends every token of it.
    live = world.token_client((await access_token(world, other))["access_token"])
    assert (await manager.delete(f"/api/v1/api-clients/{other['id']}")).status_code == 204
    assert (await live.get("/api/v1/auth/me")).status_code == 401


async def test_bad_requests_answer_oauth_errors_naming_the_field(world: World) -> None:
    manager = await world.client("demo.bj.manager")
    client = await new_client(world, manager)
    anonymous = world.anonymous_client()
    good = basic(client["id"], client["token"])
    only_basic = {"authorization": good["authorization"]}
    cases: list[tuple[dict[str, Any], int, str, str]] = [
        ({"data": {"grant_type": "client_credentials"}, "headers": basic(client["id"], "bcrm_x_y")},
         401, "invalid_client", ""),
        ({"data": {"grant_type": "client_credentials"}, "headers": basic(999999, client["token"])},
         401, "invalid_client", ""),
        ({"data": {"grant_type": "client_credentials"}, "headers": FORM},
         401, "invalid_client", ""),
        ({"data": {"grant_type": "password"}, "headers": good},
         400, "unsupported_grant_type", "/body/grant_type"),
        ({"data": {"scope": "x"}, "headers": good}, 400, "invalid_request", "/body/grant_type"),
        ({"data": {"grant_type": "client_credentials", "scope": "bankcrm.branch.manage"},
          "headers": good}, 400, "invalid_scope", "/body/scope"),
        ({"json": {"grant_type": "client_credentials"}, "headers": only_basic},
         400, "invalid_request", "/header/content-type"),
        ({"content": "grant_type=client_credentials&grant_type=x", "headers": good},
         400, "invalid_request", "/body/grant_type"),
        ({"data": {"grant_type": "client_credentials", "client_secret": client["token"]},
          "headers": good}, 400, "invalid_request", "/body/client_secret"),
        ({"content": b"grant_type=\xff", "headers": good}, 400, "invalid_request", ""),
        ({"content": "a=" + "x" * 9000, "headers": good}, 400, "invalid_request", ""),
    ]  # fmt: skip
    for request, status, error, field in cases:
        answer = await anonymous.post("/oauth/token", **request)
        assert answer.status_code == status, (request, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        body = answer.json()
        assert body["error"] == error, (request, body)
        assert body["error_description"]
        assert body["status"] == status
        assert [e["field"] for e in body["errors"]] == ([field] if field else [])
        if status == 401:
            assert answer.headers["www-authenticate"].startswith("Basic")
    assert (
        "bankcrm.branch.manage"
        in (
            await anonymous.post(
                "/oauth/token",
                data={"grant_type": "client_credentials", "scope": "bankcrm.branch.manage"},
                headers=good,
            )
        ).json()["error_description"]
    )
    missing = await anonymous.post("/oauth/revoke", data={}, headers=good)
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["field"] == "/body/token"
    with world.bind(world.system_scope()):
        assert await db.fetchval("SELECT count(*) FROM bankcrm_oauth_token") == 0


async def test_metadata_and_the_api_description(world: World) -> None:
    anonymous = world.anonymous_client()
    metadata = (await anonymous.get("/.well-known/oauth-authorization-server")).json()
    assert metadata["token_endpoint"] == "http://testserver/oauth/token"
    assert metadata["grant_types_supported"] == ["client_credentials"]
    assert "bankcrm.audit.read" in metadata["scopes_supported"]
    schema = (await anonymous.get("/schema/openapi.json")).json()
    token = schema["paths"]["/oauth/token"]["post"]
    form = token["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert "grant_type" in form["required"]
    assert token["security"] == []


def test_token_lifetime_is_a_bounded_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANKCRM_OAUTH_TOKEN_MINUTES", "5")
    assert load_settings().oauth_token_minutes == 5
    for wrong in ("0", "61", "ten"):
        monkeypatch.setenv("BANKCRM_OAUTH_TOKEN_MINUTES", wrong)
        with pytest.raises(SettingsError, match="BANKCRM_OAUTH_TOKEN_MINUTES"):
            load_settings()
