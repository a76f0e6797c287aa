"""Roles from declarations: the standard roles, plugins' roles and grants, and the sync of
managed roles into the database (custom roles untouched, every change audited)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import asyncpg
import pytest

from bankcrm import kernel_plugin
from bankcrm.plugin_api import (
    STANDARD_ROLES,
    PermissionSpec,
    RoleGrant,
    RoleSpec,
    StandardRole,
)
from bankcrm.plugins import PluginCandidate, PluginRegistry, build_registry
from bankcrm.roles import (
    AUDIT_ENTITY,
    RoleDeclarationError,
    declared_permissions,
    declared_roles,
    sync_roles,
)
from bankcrm.runtime import Kernel
from bankcrm_sdk import database
from bankcrm_sdk.plugins import make_plugin
from bankcrm_sdk.world import World

LOANS_READ = "loans.loan.read"
LOANS_WRITE = "loans.loan.write"
LOANS_APPROVE = "loans.approval.decide"


def registry_of(*candidates: PluginCandidate) -> PluginRegistry:
    return build_registry(list(candidates), kernel_plugin=kernel_plugin)


def loans(
    grants: Sequence[RoleGrant] = (),
    roles: Sequence[RoleSpec] = (),
    requires: Sequence[str] = (),
    name: str = "loans",
) -> PluginCandidate:
    permissions = [
        PermissionSpec(LOANS_READ, "查看贷款", "Read loans"),
        PermissionSpec(LOANS_WRITE, "维护贷款", "Change loans"),
        PermissionSpec(LOANS_APPROVE, "审批贷款", "Decide loan approvals"),
    ]
    return make_plugin(
        name,
        requires=requires,
        hooks={
            "register_permissions": lambda: [
                PermissionSpec(p.name.replace("loans.", f"{name}."), p.title, p.title_en)
                for p in permissions
            ],
            "register_roles": lambda: list(roles),
            "register_role_grants": lambda: list(grants),
        },
    )


def test_the_kernel_alone_declares_the_standard_roles() -> None:
    declared = declared_roles(registry_of())
    assert set(declared) == {str(role) for role in StandardRole}
    assert [spec.name for spec in STANDARD_ROLES] == list(StandardRole)
    kernel_permissions = sorted(declared_permissions(registry_of()))
    assert declared[StandardRole.HEAD_OFFICE_ADMIN].permissions == tuple(kernel_permissions)
    assert declared[StandardRole.AUDITOR].permissions == (
        "bankcrm.audit.read",
        "bankcrm.employee.read",
    )
    assert declared[StandardRole.TELLER].permissions == ("bankcrm.employee.read",)


def test_grants_by_name_and_pattern_reach_standard_and_plugin_roles() -> None:
    clerk = RoleSpec("loans.clerk", "贷款专员", "Loan clerk")
    declared = declared_roles(
        registry_of(
            loans(
                roles=[clerk],
                grants=[
                    RoleGrant(StandardRole.BRANCH_MANAGER, ("loans.*",)),
                    RoleGrant(StandardRole.TELLER, (LOANS_READ,)),
                    RoleGrant("loans.clerk", ("loans.loan.*",)),
                ],
            )
        )
    )
    manager = declared[StandardRole.BRANCH_MANAGER]
    assert {LOANS_READ, LOANS_WRITE, LOANS_APPROVE} <= set(manager.permissions)
    assert "bankcrm.audit.read" in manager.permissions
    assert manager.granted_by == ("bankcrm", "loans")
    assert declared[StandardRole.TELLER].permissions == ("bankcrm.employee.read", LOANS_READ)
    assert declared["loans.clerk"].permissions == (LOANS_READ, LOANS_WRITE)
    assert declared["loans.clerk"].declared_by == "loans"
    assert LOANS_APPROVE in declared[StandardRole.HEAD_OFFICE_ADMIN].permissions


def test_a_plugin_lends_what_it_requires_to_its_own_roles_only() -> None:
    officer = RoleSpec("cards.officer", "信用卡专员", "Card officer")
    declared = declared_roles(
        registry_of(
            loans(),
            loans(
                name="cards",
                requires=["loans"],
                roles=[officer],
                grants=[RoleGrant("cards.officer", ("cards.*", LOANS_READ, "bankcrm.audit.read"))],
            ),
        )
    )
    assert LOANS_READ in declared["cards.officer"].permissions
    assert "bankcrm.audit.read" in declared["cards.officer"].permissions
    with pytest.raises(RoleDeclarationError) as refused:
        declared_roles(
            registry_of(
                loans(),
                loans(
                    name="cards",
                    requires=["loans"],
                    grants=[RoleGrant(StandardRole.TELLER, (LOANS_WRITE,))],
                ),
            )
        )
    assert refused.value.problems == [
        "cards: may not grant 'loans.loan.write' (declared by loans) to 'teller';"
        " grant only your own permissions to this role"
    ]


@pytest.mark.parametrize(
    ("grants", "roles", "problem"),
    [
        (
            [RoleGrant(StandardRole.TELLER, ("bankcrm.audit.read",))],
            [],
            "loans: may not grant 'bankcrm.audit.read' (declared by bankcrm) to 'teller';"
            " grant only your own permissions to this role",
        ),
        (
            [RoleGrant(StandardRole.TELLER, ("loans.loan.raed",))],
            [],
            "loans: grant of 'loans.loan.raed' to 'teller' matches no permission loans may grant",
        ),
        (
            [RoleGrant(StandardRole.TELLER, ("loans.nothing.*",))],
            [],
            "loans: grant of 'loans.nothing.*' to 'teller' matches no permission loans may grant",
        ),
        (
            [RoleGrant("cashier", (LOANS_READ,))],
            [],
            "loans: grant to unknown role 'cashier'",
        ),
        (
            [RoleGrant("loans.cashier", (LOANS_READ,))],
            [],
            "loans: grant to unknown role 'loans.cashier'",
        ),
        (
            [],
            [RoleSpec("clerk", "专员", "Clerk")],
            "loans: role 'clerk' must be named 'loans.<role>'",
        ),
        (
            [],
            [RoleSpec("loans.root", "全部", "Everything", every_permission=True)],
            "loans: only the kernel declares roles with every permission",
        ),
        (
            [],
            [RoleSpec("loans.clerk", "专员", "Clerk"), RoleSpec("loans.clerk", "专员", "Clerk")],
            "loans: role 'loans.clerk' is already declared by loans",
        ),
    ],
)
def test_bad_declarations_are_refused_naming_the_plugin(
    grants: list[RoleGrant], roles: list[RoleSpec], problem: str
) -> None:
    with pytest.raises(RoleDeclarationError) as refused:
        declared_roles(registry_of(loans(grants=grants, roles=roles)))
    assert refused.value.problems == [problem]
    assert problem in str(refused.value)


def test_a_grant_to_a_role_of_an_absent_plugin_is_an_optional_integration() -> None:
    declared = declared_roles(
        registry_of(loans(grants=[RoleGrant("helpdesk.agent", (LOANS_READ,))]))
    )
    assert "helpdesk.agent" not in declared


# --- sync into the database -------------------------------------------------------------------


@pytest.fixture
async def owner(
    clean_database: database.TestDatabase, kernel: Kernel
) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(kernel.owner_url)
    try:
        yield connection
    finally:
        await connection.close()


async def role_rows(connection: asyncpg.Connection) -> dict[str, asyncpg.Record]:
    rows = await connection.fetch("SELECT * FROM bankcrm_role ORDER BY name")
    return {row["name"]: row for row in rows}


async def audit_trail(connection: asyncpg.Connection) -> list[dict[str, Any]]:
    rows = await connection.fetch(
        "SELECT actor, action, entity_id, before, after, reason FROM bankcrm_audit"
        " WHERE entity = $1 ORDER BY id",
        AUDIT_ENTITY,
    )
    return [
        {
            **dict(row),
            "before": json.loads(row["before"]) if row["before"] else None,
            "after": json.loads(row["after"]),
        }
        for row in rows
    ]


async def test_sync_creates_then_follows_the_declarations_audited(
    owner: asyncpg.Connection,
) -> None:
    first = registry_of(loans(grants=[RoleGrant(StandardRole.TELLER, (LOANS_READ,))]))
    created = await sync_roles(owner, declared_roles(first), "system:test")
    assert sorted(created.created) == sorted(str(role) for role in StandardRole)
    rows = await role_rows(owner)
    assert rows["teller"]["managed"] is True
    assert rows["teller"]["permissions"] == ["bankcrm.employee.read", LOANS_READ]
    assert rows["teller"]["title"] == "柜员"
    trail = await audit_trail(owner)
    assert len(trail) == len(StandardRole)
    assert {row["action"] for row in trail} == {"create"}
    assert {row["actor"] for row in trail} == {"system:test"}

    again = await sync_roles(owner, declared_roles(first), "system:test")
    assert (again.created, again.updated) == ([], [])
    assert len(await audit_trail(owner)) == len(StandardRole)

    # An upgrade of the plugin grants more: the managed role follows, audited.
    upgraded = registry_of(loans(grants=[RoleGrant(StandardRole.TELLER, ("loans.loan.*",))]))
    changed = await sync_roles(owner, declared_roles(upgraded), "system:migrate")
    assert changed.updated == ["teller"]
    assert (await role_rows(owner))["teller"]["permissions"] == [
        "bankcrm.employee.read",
        LOANS_READ,
        LOANS_WRITE,
    ]
    last = (await audit_trail(owner))[-1]
    assert (last["action"], last["entity_id"], last["actor"]) == (
        "update",
        "teller",
        "system:migrate",
    )
    assert last["before"]["permissions"] == ["bankcrm.employee.read", LOANS_READ]
    assert last["after"]["permissions"] == ["bankcrm.employee.read", LOANS_READ, LOANS_WRITE]
    assert last["reason"] == "declared by bankcrm, loans"


async def test_a_hand_edited_managed_role_is_put_back_and_custom_roles_are_never_touched(
    owner: asyncpg.Connection,
) -> None:
    registry = registry_of(
        loans(
            roles=[RoleSpec("loans.clerk", "贷款专员", "Loan clerk")],
            grants=[RoleGrant("loans.clerk", (LOANS_READ,))],
        )
    )
    await owner.execute(
        "INSERT INTO bankcrm_role (name, title, title_en, permissions) VALUES"
        " ('loans.clerk', '我行专员', 'Our clerk', $1), ('vip_desk', '贵宾', 'VIP desk', $1)",
        [LOANS_APPROVE],
    )
    await sync_roles(owner, declared_roles(registry), "system:test")
    await owner.execute(
        "UPDATE bankcrm_role SET permissions = $1 WHERE name = 'auditor'", [LOANS_APPROVE]
    )
    synced = await sync_roles(owner, declared_roles(registry), "system:test")
    assert synced.updated == ["auditor"]
    assert synced.custom_conflicts == ["loans.clerk"]
    assert "custom, left alone: loans.clerk" in synced.summary()
    rows = await role_rows(owner)
    assert rows["auditor"]["permissions"] == ["bankcrm.audit.read", "bankcrm.employee.read"]
    for custom in ("loans.clerk", "vip_desk"):
        assert rows[custom]["managed"] is False
        assert rows[custom]["permissions"] == [LOANS_APPROVE]
    assert rows["loans.clerk"]["title"] == "我行专员"

    # The plugin is uninstalled: its role stays as it was, reported, not deleted.
    await owner.execute("UPDATE bankcrm_role SET managed = true WHERE name = 'loans.clerk'")
    gone = await sync_roles(owner, declared_roles(registry_of()), "system:test")
    assert gone.no_longer_declared == ["loans.clerk"]
    assert (await role_rows(owner))["loans.clerk"]["permissions"] == [LOANS_APPROVE]


async def test_migrate_syncs_the_installed_plugins_roles(
    owner: asyncpg.Connection, kernel: Kernel
) -> None:
    assert await owner.fetchval("SELECT count(*) FROM bankcrm_role") == 0
    migrated = subprocess.run(
        [sys.executable, "-m", "bankcrm", "migrate"],
        env=dict(os.environ, BANKCRM_DATABASE_URL=kernel.owner_url),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert migrated.returncode == 0, migrated.stderr
    declared = declared_roles(kernel.registry)
    assert f"roles: {len(declared)} created, 0 updated" in migrated.stdout
    rows = await role_rows(owner)
    for name, role in declared.items():
        assert rows[name]["permissions"] == list(role.permissions)
        assert rows[name]["managed"] is True


async def test_migrate_stops_on_a_plugin_with_broken_grants(
    kernel_with: Callable[[list[PluginCandidate]], Kernel],
) -> None:
    broken = kernel_with([loans(grants=[RoleGrant(StandardRole.TELLER, ("bankcrm.user.manage",))])])
    with pytest.raises(
        RoleDeclarationError, match=re.escape("loans: may not grant 'bankcrm.user.manage'")
    ):
        await broken.migrate()


async def test_demo_users_hold_what_their_role_declares(world: World) -> None:
    declared = declared_roles(world.kernel.registry)
    teller = await world.client("demo.teller")
    me = (await teller.get("/api/v1/auth/me")).json()
    assert sorted(me["permissions"]) == list(declared[StandardRole.TELLER].permissions)
    assert set(world.roles) == set(declared)


async def test_the_admin_edits_custom_roles_only(world: World) -> None:
    admin = await world.client("demo.admin")
    assert (await admin.get("/admin/")).status_code == 200
    admin.headers["X-CSRFToken"] = admin.cookies["csrftoken"]
    base = "/admin/api/tables/bankcrm_role/"
    teller = world.roles[StandardRole.TELLER]
    refused = await admin.patch(f"{base}{teller}/", json={"permissions": ["bankcrm.user.manage"]})
    assert refused.status_code == 422
    assert "'teller' is managed" in refused.json()["detail"]
    created = await admin.post(
        base,
        json={
            "name": "vip_desk",
            "title": "贵宾窗口",
            "title_en": "VIP desk",
            "permissions": ["bankcrm.audit.read"],
            "managed": True,
            "description": "",
        },
    )
    assert created.status_code == 201, created.text
    custom = created.json()[0]["id"]
    changed = await admin.patch(f"{base}{custom}/", json={"title": "贵宾理财窗口"})
    assert changed.status_code == 200, changed.text
    owner = await asyncpg.connect(world.kernel.owner_url)
    try:
        rows = await role_rows(owner)
    finally:
        await owner.close()
    assert rows["vip_desk"]["managed"] is False
    assert rows["vip_desk"]["title"] == "贵宾理财窗口"
    assert rows["teller"]["permissions"] == list(
        declared_roles(world.kernel.registry)[StandardRole.TELLER].permissions
    )
