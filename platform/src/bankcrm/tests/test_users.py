"""User administration over REST: the lifecycle, bad input, and who may manage whom."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx

from bankcrm import db
from bankcrm_sdk.world import PASSWORD, World

USERS = "/api/v1/users"
NEW_PASSWORD = "Own-Chosen-Passw0rd!"


async def audit_rows(world: World, *entities: str) -> list[asyncpg.Record]:
    owner = await asyncpg.connect(world.kernel.owner_url)
    try:
        return list(
            await owner.fetch(
                "SELECT * FROM bankcrm_audit WHERE entity = ANY($1::text[]) ORDER BY id",
                list(entities),
            )
        )
    finally:
        await owner.close()


async def login(world: World, username: str, password: str) -> httpx.Response:
    return await world.anonymous_client().post(
        "/api/v1/auth/login", json={"username": username, "password": password}
    )


def problem(response: httpx.Response, status: int, kind: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["type"].endswith(f"/{kind}"), body
    return body


def fields(body: dict[str, Any]) -> list[str]:
    return [e["field"] for e in body["errors"]]


async def test_a_superuser_runs_a_users_whole_life(world: World) -> None:
    admin = await world.client("demo.admin")
    created = await admin.post(
        USERS,
        json={
            "username": "bj.teller2",
            "first_name": "小明",
            "last_name": "王",
            "email": "wang@example.com",
            "memberships": [{"branch_id": world.branch("BJ-HD"), "role": "teller"}],
        },
    )
    assert created.status_code == 201, created.text
    user = created.json()
    generated = user["password"]
    assert generated
    assert user["password_change_required"]
    assert [(m["branch_code"], m["role"]) for m in user["memberships"]] == [("BJ-HD", "teller")]
    assert (await admin.get(f"{USERS}/{user['id']}")).json()["password"] is None

    # The generated password works once: until the user picks their own, the session
    # reaches no branch and holds no permission.
    first = await world.client("bj.teller2", generated)
    me = (await first.get("/api/v1/auth/me")).json()
    assert (me["branch_ids"], me["permissions"], me["password_change_required"]) == ([], [], True)
    assert (await first.get("/api/v1/audit")).status_code == 403
    changed = await first.post(
        "/api/v1/auth/password", json={"current": generated, "new": NEW_PASSWORD}
    )
    assert changed.status_code == 204, changed.text
    session = await world.client("bj.teller2", NEW_PASSWORD)
    me = (await session.get("/api/v1/auth/me")).json()
    assert set(me["branch_ids"]) == await world.subtree("BJ-HD")
    assert me["password_change_required"] is False

    listed = (await admin.get(USERS, params={"branch_id": world.branch("BJ")})).json()
    assert {"demo.bj.manager", "demo.bj.rm", "bj.teller2"} == {
        u["username"] for u in listed["items"]
    }
    found = (await admin.get(USERS, params={"username": "TELLER2"})).json()["items"]
    assert [u["id"] for u in found] == [user["id"]]

    moved = await admin.put(
        f"{USERS}/{user['id']}/memberships",
        json={
            "memberships": [{"branch_id": world.branch("BJ-CY"), "role": "relationship_manager"}]
        },
    )
    assert moved.status_code == 200, moved.text
    assert [m["branch_code"] for m in moved.json()["memberships"]] == ["BJ-CY"]
    me = (await session.get("/api/v1/auth/me")).json()
    assert set(me["branch_ids"]) == await world.subtree("BJ-CY")

    reset = await admin.post(f"{USERS}/{user['id']}/reset-password", json={})
    assert reset.status_code == 200, reset.text
    temporary = reset.json()["password"]
    assert temporary
    assert temporary != generated
    assert (await session.get("/api/v1/auth/me")).status_code == 401, "sessions end on reset"
    assert (await login(world, "bj.teller2", NEW_PASSWORD)).status_code == 401
    after_reset = await world.client("bj.teller2", temporary)
    assert (await after_reset.get("/api/v1/auth/me")).json()["password_change_required"]

    locked = await admin.post(f"{USERS}/{user['id']}/lock")
    assert locked.status_code == 200, locked.text
    assert locked.json()["locked"]
    assert (await after_reset.get("/api/v1/auth/me")).status_code == 401
    assert (await login(world, "bj.teller2", temporary)).status_code == 401
    # An administrator's lock outlasts a password reset; unlocking ends it.
    given = await admin.post(
        f"{USERS}/{user['id']}/reset-password", json={"password": "Given-By-Admin-9!"}
    )
    assert given.status_code == 200
    assert given.json()["password"] is None
    assert given.json()["locked"]
    assert (await login(world, "bj.teller2", "Given-By-Admin-9!")).status_code == 401
    unlocked = await admin.post(f"{USERS}/{user['id']}/unlock")
    assert unlocked.status_code == 200
    assert not unlocked.json()["locked"]
    assert (await login(world, "bj.teller2", "Given-By-Admin-9!")).status_code == 200

    deactivated = await admin.post(f"{USERS}/{user['id']}/deactivate")
    assert deactivated.status_code == 200
    assert not deactivated.json()["active"]
    assert (await login(world, "bj.teller2", "Given-By-Admin-9!")).status_code == 401
    inactive = (await admin.get(USERS, params={"active": "false"})).json()["items"]
    assert [u["username"] for u in inactive] == ["bj.teller2"]
    activated = await admin.post(f"{USERS}/{user['id']}/activate")
    assert activated.json()["active"]

    trail = await audit_rows(world, "bankcrm.user", "bankcrm.membership")
    assert [(r["entity"], r["action"], r["reason"]) for r in trail] == [
        ("bankcrm.user", "create", ""),
        ("bankcrm.membership", "create", ""),
        ("bankcrm.membership", "delete", ""),
        ("bankcrm.membership", "create", ""),
        ("bankcrm.user", "update", "password reset"),
        ("bankcrm.user", "update", "locked"),
        ("bankcrm.user", "update", "password reset"),
        ("bankcrm.user", "update", "unlocked"),
        ("bankcrm.user", "update", "deactivated"),
        ("bankcrm.user", "update", "activated"),
    ]
    assert all(r["actor"] == f"user:{world.users['demo.admin']}" for r in trail)
    assert trail[2]["branch_id"] == world.branch("BJ-HD")
    secrets = (generated, temporary, "Given-By-Admin-9!", "pbkdf2")
    for row in trail:
        text = f"{row['before']} {row['after']}"
        assert not any(secret in text for secret in secrets), text
    # Filed under the user's branch, so that branch's auditors see it.
    assert trail[4]["branch_id"] == world.branch("BJ-CY")


async def test_bad_input_names_the_field(world: World) -> None:
    admin = await world.client("demo.admin")
    bj = world.branch("BJ")

    def body(**changes: Any) -> dict[str, Any]:
        return {
            "username": "new.person",
            "email": "new.person@example.com",
            "memberships": [{"branch_id": bj, "role": "teller"}],
            **changes,
        }

    unknown_role = await admin.post(
        USERS, json=body(memberships=[{"branch_id": bj, "role": "no_such_role"}])
    )
    assert fields(problem(unknown_role, 422, "invalid")) == ["/body/memberships/0/role"]
    unknown_branch = await admin.post(
        USERS, json=body(memberships=[{"branch_id": 99999, "role": "teller"}])
    )
    assert fields(problem(unknown_branch, 422, "invalid")) == ["/body/memberships/0/branch_id"]
    twice = await admin.post(
        USERS,
        json=body(memberships=[{"branch_id": bj, "role": "teller"}] * 2),
    )
    assert fields(problem(twice, 422, "invalid")) == ["/body/memberships/1"]
    weak = problem(await admin.post(USERS, json=body(password="short")), 422, "password_policy")
    assert set(fields(weak)) == {"/body/password"}
    assert any("at least 12" in e["message"] for e in weak["errors"])
    with_name = await admin.post(USERS, json=body(password="new.person-Passw0rd"))
    assert "must not contain the username" in problem(with_name, 422, "password_policy")["detail"]
    taken = problem(await admin.post(USERS, json=body(username="demo.bj.rm")), 409, "conflict")
    assert fields(taken) == ["/body/username"]
    address = await admin.post(USERS, json=body(email="demo.bj.rm@demo.bankcrm.local"))
    assert fields(problem(address, 409, "conflict")) == ["/body/email"]
    no_membership = await admin.post(USERS, json=body(memberships=[]))
    assert "/body/memberships" in fields(problem(no_membership, 422, "invalid"))
    bad_name = await admin.post(USERS, json=body(username="has space"))
    assert "/body/username" in fields(problem(bad_name, 422, "invalid"))

    user_id = world.users["demo.bj.rm"]
    reused = await admin.post(f"{USERS}/{user_id}/reset-password", json={"password": PASSWORD})
    assert "differ from your last" in problem(reused, 422, "password_policy")["detail"]
    assert (await login(world, "demo.bj.rm", PASSWORD)).status_code == 200
    problem(await admin.get(f"{USERS}/99999"), 404, "not_found")
    problem(await admin.post(f"{USERS}/99999/lock"), 404, "not_found")
    own = await admin.post(f"{USERS}/{world.users['demo.admin']}/lock")
    problem(own, 403, "own_account")
    assert (await admin.get("/api/v1/auth/me")).status_code == 200
    assert await audit_rows(world, "bankcrm.user", "bankcrm.membership") == []


async def make_role(name: str, permissions: list[str]) -> None:
    await db.fetch(
        "INSERT INTO bankcrm_role (name, title, title_en, permissions, managed, description)"
        " VALUES ($1, $1, $1, $2, false, '')",
        name,
        permissions,
    )


async def make_staff(world: World, username: str, *memberships: tuple[str, str]) -> int:
    admin = await world.client("demo.admin")
    created = await admin.post(
        USERS,
        json={
            "username": username,
            "email": f"{username}@example.com",
            "password": PASSWORD,
            "memberships": [{"branch_id": world.branch(b), "role": r} for b, r in memberships],
        },
    )
    assert created.status_code == 201, created.text
    user_id: int = created.json()["id"]
    await db.fetch(
        'UPDATE bankcrm_user_security SET must_change_password = false WHERE "user" = $1', user_id
    )
    world.users[username] = user_id
    return user_id


async def test_a_branch_manager_manages_only_their_branch_and_grants_only_what_they_hold(
    world: World,
) -> None:
    await make_role("user_admin", ["bankcrm.user.manage"])
    await make_staff(world, "bj.boss", ("BJ", "branch_manager"), ("BJ", "user_admin"))
    boss = await world.client("bj.boss")
    sh_rm = world.users["demo.sh.rm"]
    bj_rm = world.users["demo.bj.rm"]
    both = await make_staff(world, "roams", ("BJ-HD", "teller"), ("SH-PD", "teller"))

    listed = {u["username"] for u in (await boss.get(USERS)).json()["items"]}
    assert listed == {"demo.bj.manager", "demo.bj.rm", "bj.boss"}
    shanghai = (await boss.get(USERS, params={"branch_id": world.branch("SH")})).json()
    assert shanghai["items"] == []
    for hidden in (sh_rm, both, world.users["demo.admin"]):
        problem(await boss.get(f"{USERS}/{hidden}"), 404, "not_found")
        for action in ("lock", "unlock", "deactivate", "reset-password"):
            problem(await boss.post(f"{USERS}/{hidden}/{action}", json={}), 404, "not_found")
        moved = await boss.put(
            f"{USERS}/{hidden}/memberships",
            json={"memberships": [{"branch_id": world.branch("BJ"), "role": "teller"}]},
        )
        problem(moved, 404, "not_found")

    outside = await boss.post(
        USERS,
        json={
            "username": "sh.new",
            "email": "sh.new@example.com",
            "memberships": [{"branch_id": world.branch("SH"), "role": "teller"}],
        },
    )
    assert fields(problem(outside, 403, "forbidden")) == ["/body/memberships/0/branch_id"]
    richer = await boss.put(
        f"{USERS}/{bj_rm}/memberships",
        json={"memberships": [{"branch_id": world.branch("BJ"), "role": "head_office_admin"}]},
    )
    assert fields(problem(richer, 403, "credential_exceeds_caller")) == ["/body/memberships/0/role"]
    superuser = await boss.post(
        USERS,
        json={
            "username": "bj.super",
            "email": "bj.super@example.com",
            "superuser": True,
            "memberships": [{"branch_id": world.branch("BJ"), "role": "teller"}],
        },
    )
    problem(superuser, 403, "forbidden")

    hired = await boss.post(
        USERS,
        json={
            "username": "bj.hd.teller",
            "email": "bj.hd.teller@example.com",
            "memberships": [{"branch_id": world.branch("BJ-HD"), "role": "teller"}],
        },
    )
    assert hired.status_code == 201, hired.text
    reset = await boss.post(f"{USERS}/{bj_rm}/lock")
    assert reset.status_code == 200, reset.text
    rows = await audit_rows(world, "bankcrm.user", "bankcrm.membership")
    assert {r["actor"] for r in rows[-3:]} == {f"user:{world.users['bj.boss']}"}
    # A user holding more in the branch than the manager (the user administrator role on
    # top of a branch manager's) is beyond them, in their own branch too.
    peer = await make_staff(world, "bj.peer", ("BJ", "branch_manager"), ("BJ", "user_admin"))
    assert (await boss.post(f"{USERS}/{peer}/lock")).status_code == 200
    await make_role("auditing_user_admin", ["bankcrm.user.manage", "bankcrm.branch.manage"])
    senior = await make_staff(world, "bj.senior", ("BJ", "auditing_user_admin"))
    beyond = await boss.post(f"{USERS}/{senior}/reset-password", json={})
    body = problem(beyond, 403, "credential_exceeds_caller")
    assert "bankcrm.branch.manage" in str(body)
    assert (await login(world, "bj.senior", PASSWORD)).status_code == 200


async def test_user_management_counts_per_branch_not_across_branches(world: World) -> None:
    """A user administrator in Beijing who is only a teller in Shanghai manages nobody in
    Shanghai, and cannot grant in Beijing what they hold only in Shanghai."""
    await make_role("user_admin", ["bankcrm.user.manage"])
    await make_staff(world, "mixed", ("BJ", "user_admin"), ("SH", "branch_manager"))
    mixed = await world.client("mixed")
    listed = {u["username"] for u in (await mixed.get(USERS)).json()["items"]}
    assert listed == {"demo.bj.manager", "demo.bj.rm"}, "mixed is also in Shanghai: not theirs"
    problem(await mixed.get(f"{USERS}/{world.users['demo.sh.rm']}"), 404, "not_found")
    granted = await mixed.post(
        USERS,
        json={
            "username": "bj.manager2",
            "email": "bj.manager2@example.com",
            "memberships": [{"branch_id": world.branch("BJ"), "role": "branch_manager"}],
        },
    )
    problem(granted, 403, "credential_exceeds_caller")
    beyond = await mixed.post(f"{USERS}/{world.users['demo.bj.manager']}/lock")
    problem(beyond, 403, "credential_exceeds_caller")
    equal = await make_staff(world, "bj.other.admin", ("BJ-HD", "user_admin"))
    assert (await mixed.post(f"{USERS}/{equal}/lock")).status_code == 200


async def test_without_the_permission_nothing_is_shown(world: World) -> None:
    manager = await world.client("demo.bj.manager")
    problem(await manager.get(USERS), 403, "forbidden")
    problem(await manager.post(f"{USERS}/{world.users['demo.bj.rm']}/lock"), 403, "forbidden")
