"""``bankcrm user ...`` against the test database, as an operator would run it."""

from __future__ import annotations

import os
import subprocess
import sys

from bankcrm.tests.test_users import audit_rows, login
from bankcrm_sdk.world import World

PASSWORD_GIVEN = "Typed-By-Operator-7!"


def bankcrm(world: World, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    variables = {k: v for k, v in os.environ.items() if k != "BANKCRM_NEW_PASSWORD"}
    variables.update(BANKCRM_DATABASE_URL=world.kernel.owner_url, **env)
    return subprocess.run(
        [sys.executable, "-m", "bankcrm", "user", *args],
        env=variables,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_an_operator_administers_a_user_from_the_cli(world: World) -> None:
    created = bankcrm(
        world,
        "create",
        "sh.teller2",
        "--branch",
        "SH-PD",
        "--role",
        "teller",
        "--email",
        "sh.teller2@example.com",
        BANKCRM_NEW_PASSWORD=PASSWORD_GIVEN,
    )
    assert created.returncode == 0, created.stderr
    assert "teller@SH-PD" in created.stdout
    assert "must change password" in created.stdout
    first = await login(world, "sh.teller2", PASSWORD_GIVEN)
    assert first.json()["password_change_required"] is True

    granted = bankcrm(world, "grant", "sh.teller2", "--branch", "SH-XH", "--role", "teller")
    assert granted.returncode == 0, granted.stderr
    revoked = bankcrm(world, "revoke", "sh.teller2", "--branch", "SH-PD", "--role", "teller")
    assert revoked.returncode == 0, revoked.stderr
    listed = bankcrm(world, "list", "--branch", "SH")
    lines = {line.split("\t")[1]: line for line in listed.stdout.splitlines()}
    assert "teller@SH-XH" in lines["sh.teller2"]
    assert "SH-PD" not in lines["sh.teller2"]
    assert "demo.bj.rm" not in lines

    reset = bankcrm(world, "reset-password", "sh.teller2")
    assert reset.returncode == 0, reset.stderr
    generated = reset.stdout.strip().rsplit(" ", 1)[-1]
    assert (await login(world, "sh.teller2", PASSWORD_GIVEN)).status_code == 401
    assert (await login(world, "sh.teller2", generated)).status_code == 200

    assert bankcrm(world, "lock", "sh.teller2").returncode == 0
    assert (await login(world, "sh.teller2", generated)).status_code == 401
    assert bankcrm(world, "unlock", "sh.teller2").returncode == 0
    assert (await login(world, "sh.teller2", generated)).status_code == 200

    trail = await audit_rows(world, "bankcrm.user", "bankcrm.membership")
    assert {r["actor"] for r in trail} == {"system:cli"}
    assert [(r["entity"], r["action"]) for r in trail] == [
        ("bankcrm.user", "create"),
        ("bankcrm.membership", "create"),
        ("bankcrm.membership", "create"),
        ("bankcrm.membership", "delete"),
        ("bankcrm.user", "update"),
        ("bankcrm.user", "update"),
        ("bankcrm.user", "update"),
    ]
    assert not any(generated in f"{r['before']} {r['after']}" for r in trail)


async def test_the_cli_refuses_bad_input_with_the_reason(world: World) -> None:
    weak = bankcrm(
        world,
        "create",
        "x.user",
        "--branch",
        "BJ",
        "--role",
        "teller",
        "--email",
        "x@example.com",
        BANKCRM_NEW_PASSWORD="short",
    )
    assert weak.returncode == 1
    assert "at least 12 characters" in weak.stderr
    unknown_role = bankcrm(world, "grant", "demo.bj.rm", "--branch", "BJ", "--role", "nope")
    assert unknown_role.returncode == 1
    assert "no role named 'nope'" in unknown_role.stderr
    unknown_branch = bankcrm(world, "grant", "demo.bj.rm", "--branch", "NOPE", "--role", "teller")
    assert unknown_branch.returncode == 2
    assert "no branch with code 'NOPE'" in unknown_branch.stderr
    last = bankcrm(
        world, "revoke", "demo.bj.rm", "--branch", "BJ-HD", "--role", "relationship_manager"
    )
    assert last.returncode == 1
    assert "deactivate" in last.stderr
    nobody = bankcrm(world, "lock", "no.such.user")
    assert nobody.returncode == 1
    assert "no user named 'no.such.user'" in nobody.stderr
