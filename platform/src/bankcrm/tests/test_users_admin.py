"""The admin's user forms (lock, unlock, reset a password or one-time codes): the same
service, rules and audit as the REST API."""

from __future__ import annotations

from bankcrm.tests.test_admin import admin_client
from bankcrm.tests.test_users import audit_rows, login, problem
from bankcrm_sdk.world import PASSWORD, World

FORMS = "/admin/api/forms"


async def test_a_superuser_locks_unlocks_and_resets_from_the_admin(world: World) -> None:
    admin = await admin_client(world, "demo.admin")
    listed = (await admin.get(f"{FORMS}/")).json()
    assert {"lock-user", "unlock-user", "reset-password", "reset-mfa"} <= {
        f["slug"] for f in listed
    }
    assert "锁定用户" in {f["name"] for f in listed}
    grouped = (await admin.get(f"{FORMS}/grouped/")).json()
    assert [f["slug"] for f in grouped["grouped"]["用户管理"]] == [
        "lock-user",
        "unlock-user",
        "reset-password",
        "reset-mfa",
    ]
    admin.cookies.set("bankcrm_admin_lang", "en", path="/admin")
    schema = (await admin.get(f"{FORMS}/reset-password/schema/")).json()
    assert schema["properties"]["username"]["title"] == "Username"
    assert (await admin.get(f"{FORMS}/lock-user/")).json()["name"] == "Lock a user"

    locked = await admin.post(f"{FORMS}/lock-user/", json={"username": "demo.bj.rm"})
    assert locked.status_code == 200, locked.text
    assert "locked" in locked.json()["custom_form_success"]
    assert (await login(world, "demo.bj.rm", PASSWORD)).status_code == 401
    unlocked = await admin.post(f"{FORMS}/unlock-user/", json={"username": "demo.bj.rm"})
    assert unlocked.status_code == 200, unlocked.text
    assert (await login(world, "demo.bj.rm", PASSWORD)).status_code == 200

    reset = await admin.post(f"{FORMS}/reset-password/", json={"username": "demo.bj.rm"})
    assert reset.status_code == 200, reset.text
    generated = reset.json()["custom_form_success"].rsplit(" ", 1)[-1]
    answer = await login(world, "demo.bj.rm", generated)
    assert answer.json()["password_change_required"] is True
    weak = await admin.post(
        f"{FORMS}/reset-password/", json={"username": "demo.bj.rm", "new_password": "weak"}
    )
    body = problem(weak, 422, "password_policy")
    assert body["db_error"].startswith("password")
    assert {e["field"] for e in body["errors"]} == {"/body/new_password"}

    unknown = await admin.post(f"{FORMS}/lock-user/", json={"username": "nobody"})
    assert problem(unknown, 422, "invalid")["errors"][0]["field"] == "/body/username"
    own = await admin.post(f"{FORMS}/lock-user/", json={"username": "demo.admin"})
    problem(own, 403, "own_account")
    extra = await admin.post(f"{FORMS}/lock-user/", json={"username": "demo.bj.rm", "x": 1})
    problem(extra, 422, "invalid")
    no_csrf = await admin.post(
        f"{FORMS}/lock-user/", json={"username": "demo.bj.rm"}, headers={"X-CSRFToken": "bad"}
    )
    problem(no_csrf, 403, "csrf")

    trail = await audit_rows(world, "bankcrm.user")
    assert [r["reason"] for r in trail] == ["locked", "unlocked", "password reset"]
    assert all(generated not in f"{r['before']} {r['after']}" for r in trail)


async def test_the_user_forms_are_closed_without_the_permission(world: World) -> None:
    manager = await admin_client(world, "demo.bj.manager")
    assert "lock-user" not in {f["slug"] for f in (await manager.get(f"{FORMS}/")).json()}
    assert "用户管理" not in (await manager.get(f"{FORMS}/grouped/")).json()["grouped"]
    problem(await manager.get(f"{FORMS}/lock-user/schema/"), 404, "not_found")
    refused = await manager.post(f"{FORMS}/lock-user/", json={"username": "demo.bj.rm"})
    problem(refused, 404, "not_found")
    assert (await login(world, "demo.bj.rm", PASSWORD)).status_code == 200
