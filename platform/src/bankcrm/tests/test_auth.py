from urllib.parse import parse_qs, urlsplit

import pyotp
from piccolo.apps.user.tables import BaseUser

from bankcrm import auth
from bankcrm_sdk.world import PASSWORD, World


async def test_login_me_and_scope(world: World) -> None:
    client = await world.client("demo.bj.manager")
    response = await client.get("/api/v1/auth/me")
    assert response.status_code == 200
    body = response.json()
    assert set(body["branch_ids"]) == await world.subtree("BJ")


async def test_wrong_password_is_401_problem(world: World) -> None:
    client = world.anonymous_client()
    response = await client.post(
        "/api/v1/auth/login", json={"username": "demo.bj.manager", "password": "nope-nope-nope"}
    )
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith("invalid_credentials")


async def test_lockout_after_repeated_failures(world: World) -> None:
    client = world.anonymous_client()
    for _ in range(5):
        response = await client.post(
            "/api/v1/auth/login", json={"username": "demo.teller", "password": "Wrong-Passw0rd!"}
        )
        assert response.status_code == 401
    locked = await client.post(
        "/api/v1/auth/login", json={"username": "demo.teller", "password": PASSWORD}
    )
    unknown = await client.post(
        "/api/v1/auth/login", json={"username": "no.such.user", "password": PASSWORD}
    )
    # A locked account answers exactly as a wrong password for anyone: the login does not
    # tell whether an account exists, nor that it is locked.
    for answer in (locked, unknown):
        assert answer.status_code == 401
        body = answer.json()
        assert body["type"].endswith("/invalid_credentials")
        assert body["detail"] == "wrong username or password"
        assert body["errors"] == []


async def test_wrong_one_time_codes_lock_the_account(world: World) -> None:
    client = await world.client("demo.sh.manager")
    enrol = await client.post("/api/v1/auth/mfa/enrol")
    secret = parse_qs(urlsplit(enrol.json()["provisioning_uri"]).query)["secret"][0]
    code = pyotp.TOTP(secret).now()
    assert (await client.post("/api/v1/auth/mfa/confirm", json={"code": code})).status_code == 204
    fresh = world.anonymous_client()
    body = {"username": "demo.sh.manager", "password": PASSWORD}
    wrong = str((int(pyotp.TOTP(secret).now()) + 500_000) % 1_000_000).zfill(6)
    answers = [
        (await fresh.post("/api/v1/auth/login", json={**body, "otp": wrong})).status_code
        for _ in range(world.kernel.settings.login_max_failures)
    ]
    assert answers == [401] * world.kernel.settings.login_max_failures
    right = await fresh.post("/api/v1/auth/login", json={**body, "otp": pyotp.TOTP(secret).now()})
    assert right.status_code == 401, right.text
    assert right.json()["type"].endswith("/invalid_credentials")


async def test_change_password_is_no_oracle(world: World) -> None:
    client = await world.client("demo.bj.rm")
    limit = world.kernel.settings.login_max_failures
    statuses = []
    for attempt in range(limit + 2):
        answer = await client.post(
            "/api/v1/auth/password",
            json={"current": f"Not-The-Passw0rd{attempt}", "new": "Another-Passw0rd#"},
        )
        statuses.append(answer.status_code)
        if answer.status_code == 429:
            assert int(answer.headers["retry-after"]) > 0
            assert answer.json()["type"].endswith("/locked")
    # The failure that locks the account ends the guessing session: the rest are 401.
    assert statuses == [422] * (limit - 1) + [429, 401, 401]
    assert (await client.get("/api/v1/auth/me")).status_code == 401
    again = await world.anonymous_client().post(
        "/api/v1/auth/login", json={"username": "demo.bj.rm", "password": PASSWORD}
    )
    assert again.status_code == 401


async def test_the_policy_refuses_common_and_recent_passwords(world: World) -> None:
    client = await world.client("demo.bj.manager")
    for new, message in (
        ("Password1234", "is one of the most common passwords; choose another"),
        (PASSWORD, "must differ from your last 5 passwords"),
    ):
        refused = await client.post("/api/v1/auth/password", json={"current": PASSWORD, "new": new})
        assert refused.status_code == 422, refused.text
        assert {"field": "/body/new", "message": message} in refused.json()["errors"]
    first, second = "Another-Passw0rd#", "Yet-Another-Passw0rd#"
    changed = await client.post("/api/v1/auth/password", json={"current": PASSWORD, "new": first})
    assert changed.status_code == 204, changed.text
    client = await world.client("demo.bj.manager", first)
    changed = await client.post("/api/v1/auth/password", json={"current": first, "new": second})
    assert changed.status_code == 204, changed.text
    client = await world.client("demo.bj.manager", second)
    back = await client.post("/api/v1/auth/password", json={"current": second, "new": PASSWORD})
    assert back.status_code == 422, back.text
    # The same password typed in another Unicode normal form is the same password.
    composed, decomposed = "Caf\u00e9-Passw0rd#1", "Cafe\u0301-Passw0rd#1"
    changed = await client.post("/api/v1/auth/password", json={"current": second, "new": composed})
    assert changed.status_code == 204, changed.text
    await world.client("demo.bj.manager", decomposed)


async def test_login_rate_limit_per_address(world: World) -> None:
    client = world.anonymous_client()
    statuses = []
    for _ in range(25):
        response = await client.post(
            "/api/v1/auth/login", json={"username": "nobody", "password": "Wrong-Passw0rd!"}
        )
        statuses.append(response.status_code)
    assert statuses[:20] == [401] * 20
    assert statuses[-1] == 429
    assert response.headers["retry-after"] == "60"
    assert response.json()["type"].endswith("/rate_limited")


async def test_password_policy_and_change(world: World) -> None:
    client = await world.client("demo.bj.rm")
    weak = await client.post("/api/v1/auth/password", json={"current": PASSWORD, "new": "short"})
    assert weak.status_code == 422
    fields = {e["field"] for e in weak.json()["errors"]}
    assert fields == {"/body/new"}
    changed = await client.post(
        "/api/v1/auth/password", json={"current": PASSWORD, "new": "Another-Passw0rd#"}
    )
    assert changed.status_code == 204
    # changing the password ends every session
    assert (await client.get("/api/v1/auth/me")).status_code == 401
    await world.client("demo.bj.rm", "Another-Passw0rd#")


async def test_totp_mfa(world: World) -> None:
    client = await world.client("demo.sh.manager")
    enrol = await client.post("/api/v1/auth/mfa/enrol")
    secret = parse_qs(urlsplit(enrol.json()["provisioning_uri"]).query)["secret"][0]
    assert (await client.post("/api/v1/auth/mfa/confirm", json={"code": "000000"})).status_code in (
        204,
        422,
    )
    confirmed = await client.post(
        "/api/v1/auth/mfa/confirm", json={"code": pyotp.TOTP(secret).now()}
    )
    assert confirmed.status_code == 204
    fresh = world.anonymous_client()
    body = {"username": "demo.sh.manager", "password": PASSWORD}
    needs = await fresh.post("/api/v1/auth/login", json=body)
    assert needs.status_code == 401
    assert needs.json()["type"].endswith("mfa_required")
    wrong = await fresh.post("/api/v1/auth/login", json={**body, "otp": "123456"})
    assert wrong.status_code == 401
    ok = await fresh.post("/api/v1/auth/login", json={**body, "otp": pyotp.TOTP(secret).now()})
    assert ok.status_code == 200


async def test_logout_ends_session(world: World) -> None:
    client = await world.client("demo.bj.manager")
    assert (await client.post("/api/v1/auth/logout")).status_code == 204
    assert (await client.get("/api/v1/auth/me")).status_code == 401


async def test_api_token_lifecycle(world: World) -> None:
    manager = await world.client("demo.bj.manager")
    created = await manager.post(
        "/api/v1/api-clients",
        json={
            "name": "core banking",
            "branch_id": world.branch("BJ-HD"),
            "permissions": ["bankcrm.audit.read"],
        },
    )
    assert created.status_code == 201, created.text
    token = created.json()["token"]
    client_id = created.json()["id"]
    system = world.token_client(token)
    me = (await system.get("/api/v1/auth/me")).json()
    assert set(me["branch_ids"]) == await world.subtree("BJ-HD")
    assert me["permissions"] == ["bankcrm.audit.read"]

    rotated = await manager.post(f"/api/v1/api-clients/{client_id}/rotate")
    assert rotated.status_code == 200
    assert rotated.json()["rotated_by"] == f"user:{world.users['demo.bj.manager']}"
    assert rotated.json()["previous_token_valid_until"] is not None
    # The integration keeps working during the switch-over (60 minutes by default)...
    assert (await system.get("/api/v1/auth/me")).status_code == 200
    renewed = world.token_client(rotated.json()["token"])
    assert (await renewed.get("/api/v1/auth/me")).status_code == 200
    # ...and a rotation without overlap (a leaked token) ends both earlier tokens at once.
    again = await manager.post(
        f"/api/v1/api-clients/{client_id}/rotate", json={"overlap_minutes": 0}
    )
    assert again.status_code == 200, again.text
    assert (await system.get("/api/v1/auth/me")).status_code == 401
    assert (await renewed.get("/api/v1/auth/me")).status_code == 401
    renewed = world.token_client(again.json()["token"])
    assert (await renewed.get("/api/v1/auth/me")).status_code == 200

    assert (await manager.delete(f"/api/v1/api-clients/{client_id}")).status_code == 204
    assert (await renewed.get("/api/v1/auth/me")).status_code == 401


async def test_api_token_cannot_exceed_creator(world: World) -> None:
    manager = await world.client("demo.bj.manager")
    outside = await manager.post(
        "/api/v1/api-clients",
        json={"name": "x", "branch_id": world.branch("SH"), "permissions": []},
    )
    assert outside.status_code == 422
    assert outside.json()["errors"][0]["field"] == "/body/branch_id"
    greedy = await manager.post(
        "/api/v1/api-clients",
        json={
            "name": "x",
            "branch_id": world.branch("BJ"),
            "permissions": ["bankcrm.branch.manage"],
        },
    )
    assert greedy.status_code == 422
    other = await world.client("demo.sh.manager")
    created = await manager.post(
        "/api/v1/api-clients",
        json={"name": "x", "branch_id": world.branch("BJ"), "permissions": []},
    )
    revoke = await other.delete(f"/api/v1/api-clients/{created.json()['id']}")
    assert revoke.status_code == 404


async def test_malformed_tokens_and_bodies(world: World) -> None:
    for header in (
        "Bearer",
        "Bearer bcrm_x",
        "Bearer bcrm_aa_bb",
        "Basic abc",
        "Bearer " + "x" * 500,
    ):
        client = world.anonymous_client()
        client.headers["Authorization"] = header
        assert (await client.get("/api/v1/auth/me")).status_code == 401
    client = world.anonymous_client()
    bad = await client.post("/api/v1/auth/login", json={"username": "", "password": 3})
    assert bad.status_code == 422  # read, but a value is wrong
    assert bad.json()["errors"], bad.json()
    garbage = await client.post(
        "/api/v1/auth/login", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert garbage.status_code == 400  # cannot be read
    assert garbage.json()["errors"][0]["field"] == "/body"


async def test_rotation_is_refused_to_whoever_holds_less_than_the_client(world: World) -> None:
    admin = await world.client("demo.admin")
    rich = await admin.post(
        "/api/v1/api-clients",
        json={
            "name": "head-office integration",
            "branch_id": world.branch("BJ"),
            "permissions": ["bankcrm.branch.manage", "bankcrm.audit.read"],
        },
    )
    assert rich.status_code == 201, rich.text
    rich_id = rich.json()["id"]
    manager = await world.client("demo.bj.manager")
    for attempt in (
        manager.post(f"/api/v1/api-clients/{rich_id}/rotate"),
        manager.delete(f"/api/v1/api-clients/{rich_id}"),
    ):
        refused = await attempt
        assert refused.status_code == 403, refused.text
        body = refused.json()
        assert body["type"].endswith("/credential_exceeds_caller")
        assert body["errors"] == [
            {
                "field": "/path/client_id",
                "message": "holds what you lack: bankcrm.branch.manage",
            }
        ]
    original = world.token_client(rich.json()["token"])
    assert (await original.get("/api/v1/auth/me")).status_code == 200
    # A token holding only the right to manage clients cannot rotate a richer one either.
    narrow = await admin.post(
        "/api/v1/api-clients",
        json={
            "name": "client manager",
            "branch_id": world.branch("HQ"),
            "permissions": ["bankcrm.api_client.manage"],
        },
    )
    token_manager = world.token_client(narrow.json()["token"])
    refused = await token_manager.post(f"/api/v1/api-clients/{rich_id}/rotate")
    assert refused.status_code == 403, refused.text


def test_unknown_users_are_verified_at_the_users_cost() -> None:
    # As many rounds as the users' hashes: an unknown user must not answer faster or slower.
    _, iterations, _, _ = BaseUser.split_stored_password(auth.unknown_user_hash())
    assert int(iterations) == BaseUser._pbkdf2_iteration_count


async def test_user_scope_is_what_the_user_session_would_have(world: World) -> None:
    from bankcrm import plugin_api

    rm = world.users["demo.bj.rm"]
    scope = await plugin_api.user_scope(rm)
    assert scope is not None
    assert scope.actor == f"user:{rm}"
    assert scope.user_id == rm
    assert scope.branch_ids == await world.subtree("BJ-HD")
    assert scope.home_branch_id == world.branch("BJ-HD")
    assert not scope.is_superuser
    assert scope.permissions
    await BaseUser.update({BaseUser.active: False}).where(BaseUser.id == rm)
    assert await plugin_api.user_scope(rm) is None
    assert await plugin_api.user_scope(987654) is None
