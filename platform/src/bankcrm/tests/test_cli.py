"""The CLI against the test database, as an operator would run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from urllib.parse import parse_qs, urlsplit

import asyncpg
from pyotp import TOTP

from bankcrm.plugins import entry_point_candidates
from bankcrm_sdk.world import PASSWORD, World


async def audit_trail(world: World, entity: str) -> list[asyncpg.Record]:
    owner = await asyncpg.connect(world.kernel.owner_url)
    try:
        return list(
            await owner.fetch("SELECT * FROM bankcrm_audit WHERE entity = $1 ORDER BY id", entity)
        )
    finally:
        await owner.close()


def bankcrm(world: World, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, BANKCRM_DATABASE_URL=world.kernel.owner_url)
    return subprocess.run(
        [sys.executable, "-m", "bankcrm", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_api_client_lifecycle_from_the_cli(world: World) -> None:
    created = bankcrm(
        world,
        "api-client",
        "create",
        "core banking",
        "--branch",
        "SH",
        "--permission",
        "bankcrm.audit.read",
    )
    assert created.returncode == 0, created.stderr
    issued = json.loads(created.stdout.strip().splitlines()[-1])
    client = world.token_client(issued["token"])
    me = (await client.get("/api/v1/auth/me")).json()
    assert set(me["branch_ids"]) == await world.subtree("SH")

    rotated = bankcrm(world, "api-client", "rotate", str(issued["id"]), "--overlap-minutes", "0")
    assert rotated.returncode == 0, rotated.stderr
    assert (await client.get("/api/v1/auth/me")).status_code == 401
    renewed = world.token_client(json.loads(rotated.stdout.strip().splitlines()[-1])["token"])
    assert (await renewed.get("/api/v1/auth/me")).status_code == 200

    listed = bankcrm(world, "api-client", "list")
    assert "core banking" in listed.stdout
    assert "active" in listed.stdout
    revoked = bankcrm(world, "api-client", "revoke", str(issued["id"]))
    assert revoked.returncode == 0, revoked.stderr
    assert (await renewed.get("/api/v1/auth/me")).status_code == 401
    again = bankcrm(world, "api-client", "revoke", str(issued["id"]))
    assert again.returncode == 1
    assert "already revoked" in again.stderr
    trail = await audit_trail(world, "bankcrm.api_client")
    assert [(r["action"], r["actor"]) for r in trail] == [
        ("create", "system:cli"),
        ("update", "system:cli"),
        ("delete", "system:cli"),
    ]


async def test_the_support_desk_unlocks_and_resets_one_time_codes(world: World) -> None:
    anonymous = world.anonymous_client()
    for _ in range(world.kernel.settings.login_max_failures):
        await anonymous.post(
            "/api/v1/auth/login", json={"username": "demo.teller", "password": "Wrong-Passw0rd!"}
        )
    locked = await anonymous.post(
        "/api/v1/auth/login", json={"username": "demo.teller", "password": PASSWORD}
    )
    assert locked.status_code == 401
    unlocked = bankcrm(world, "user", "unlock", "demo.teller")
    assert unlocked.returncode == 0, unlocked.stderr
    session = await world.client("demo.teller")

    enrol = await session.post("/api/v1/auth/mfa/enrol")
    secret = parse_qs(urlsplit(enrol.json()["provisioning_uri"]).query)["secret"][0]
    confirm = await session.post("/api/v1/auth/mfa/confirm", json={"code": TOTP(secret).now()})
    assert confirm.status_code == 204
    needs_code = await anonymous.post(
        "/api/v1/auth/login", json={"username": "demo.teller", "password": PASSWORD}
    )
    assert needs_code.json()["type"].endswith("/mfa_required")
    reset = bankcrm(world, "user", "reset-mfa", "demo.teller")
    assert reset.returncode == 0, reset.stderr
    assert (await session.get("/api/v1/auth/me")).status_code == 401
    await world.client("demo.teller")
    trail = await audit_trail(world, "bankcrm.user")
    assert [(r["reason"], r["actor"]) for r in trail] == [
        ("unlocked", "system:cli"),
        ("one-time codes reset", "system:cli"),
    ]

    unknown = bankcrm(world, "user", "unlock", "no.such.user")
    assert unknown.returncode == 1
    assert "no user named 'no.such.user'" in unknown.stderr


async def test_unknown_branch_is_a_clear_error(world: World) -> None:
    result = bankcrm(
        world, "api-client", "create", "x", "--branch", "NOPE", "--permission", "bankcrm.audit.read"
    )
    assert result.returncode == 2
    assert "no branch with code 'NOPE'" in result.stderr


def plugins_command(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bankcrm", "plugins"],
        env=dict(os.environ, **env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_plugins_command_lists_installed_plugins() -> None:
    installed = [candidate.name for candidate in entry_point_candidates()]
    result = plugins_command()
    assert result.returncode == 0, result.stderr
    for name in installed:
        assert name in result.stdout
    if not installed:
        assert result.stdout.startswith("no plugins")


def test_an_empty_plugin_list_loads_the_kernel_alone() -> None:
    result = plugins_command(BANKCRM_PLUGINS="")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("no plugins")


def test_plugins_command_lists_the_declared_access_rules() -> None:
    from piccolo.conf.apps import Finder

    from bankcrm.access_rules import declared_rules
    from bankcrm.runtime import load_registry
    from bankcrm.security import registered_tables
    from bankcrm.settings import get_settings

    registry = load_registry(get_settings())
    rules = declared_rules(registry, registered_tables(Finder().get_app_registry()))
    result = plugins_command(COLUMNS="300")
    assert result.returncode == 0, result.stderr
    for rule in rules:
        assert rule.name in result.stdout
        assert rule.describe() in result.stdout
    if not rules:
        assert result.stdout.startswith("no plugins") or (
            "access rules: none declared" in result.stdout
        )
