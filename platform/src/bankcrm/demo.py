"""Demo data: a head office, two branches with sub-branches, a user per role, and each
plugin's own data through ``seed_demo_data``."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial

import asyncpg

from bankcrm import auth, branches, db
from bankcrm.context import Scope, bind_scope
from bankcrm.plugin_api import DemoContext
from bankcrm.runtime import Kernel

log = logging.getLogger(__name__)

DEMO_PASSWORD = "Demo-Passw0rd!"

BRANCHES = [
    # code, name, name_en, parent code
    ("HQ", "总行", "Head Office", None),
    ("BJ", "北京分行", "Beijing Branch", "HQ"),
    ("BJ-HD", "北京海淀支行", "Beijing Haidian Sub-branch", "BJ"),
    ("BJ-CY", "北京朝阳支行", "Beijing Chaoyang Sub-branch", "BJ"),
    ("SH", "上海分行", "Shanghai Branch", "HQ"),
    ("SH-PD", "上海浦东支行", "Shanghai Pudong Sub-branch", "SH"),
    ("SH-XH", "上海徐汇支行", "Shanghai Xuhui Sub-branch", "SH"),
]


@dataclass(frozen=True)
class RoleSpec:
    name: str
    title: str
    title_en: str
    permissions: tuple[str, ...]
    """``*`` grants every declared permission; ``<plugin>.*`` every one of that plugin."""


ROLES = [
    RoleSpec("head_office_admin", "总行管理员", "Head-office administrator", ("*",)),
    RoleSpec(
        "branch_manager",
        "分行行长",
        "Branch manager",
        ("customer_archive.*", "bankcrm.audit.read", "bankcrm.api_client.manage"),
    ),
    RoleSpec(
        "relationship_manager",
        "客户经理",
        "Relationship manager",
        (
            "customer_archive.customer.read",
            "customer_archive.customer.write",
            "customer_archive.product.read",
            "customer_archive.holding.read",
            "customer_archive.holding.write",
            "customer_archive.tag.read",
            "customer_archive.contract.read",
            "customer_archive.contract.write",
            "customer_archive.import.read",
            "customer_archive.import.write",
            "customer_archive.duplicate.read",
            "customer_archive.duplicate.review",
        ),
    ),
    RoleSpec(
        "teller",
        "柜员",
        "Teller",
        (
            "customer_archive.customer.read",
            "customer_archive.product.read",
            "customer_archive.holding.read",
            "customer_archive.tag.read",
        ),
    ),
    RoleSpec(
        "auditor",
        "审计员",
        "Auditor",
        (
            "bankcrm.audit.read",
            "customer_archive.customer.read",
            "customer_archive.holding.read",
            "customer_archive.contract.read",
            "customer_archive.import.read",
            "customer_archive.duplicate.read",
        ),
    ),
]

# username, role, branch code, superuser
USERS = [
    ("demo.admin", "head_office_admin", "HQ", True),
    ("demo.bj.manager", "branch_manager", "BJ", False),
    ("demo.bj.rm", "relationship_manager", "BJ-HD", False),
    ("demo.sh.manager", "branch_manager", "SH", False),
    ("demo.sh.rm", "relationship_manager", "SH-PD", False),
    ("demo.teller", "teller", "SH-XH", False),
    ("demo.auditor", "auditor", "HQ", False),
]


def expand_permissions(patterns: tuple[str, ...], declared: list[str]) -> list[str]:
    granted: set[str] = set()
    for pattern in patterns:
        if pattern == "*":
            granted.update(declared)
        elif pattern.endswith(".*"):
            granted.update(p for p in declared if p.startswith(pattern[:-1]))
        elif pattern in declared:
            granted.add(pattern)
    return sorted(granted)


def declared_permissions(kernel: Kernel) -> list[str]:
    names: list[str] = []
    for _, specs in kernel.registry.call_each("register_permissions"):
        names.extend(spec.name for spec in specs or [])
    return sorted(set(names))


async def ensure_roles(kernel: Kernel) -> dict[str, int]:
    declared = declared_permissions(kernel)
    ids = {}
    for role in ROLES:
        permissions = expand_permissions(role.permissions, declared)
        ids[role.name] = await db.fetchval(
            "INSERT INTO bankcrm_role (name, title, title_en, permissions) VALUES ($1,$2,$3,$4)"
            " ON CONFLICT (name) DO UPDATE SET permissions = EXCLUDED.permissions RETURNING id",
            role.name,
            role.title,
            role.title_en,
            permissions,
        )
    return ids


async def seed_kernel_world(kernel: Kernel, scale: int = 1000) -> DemoContext:
    """Branches, plugin enablement at head office, roles and one user per role."""
    branch_ids: dict[str, int] = {}
    async with db.transaction():
        for code, name, name_en, parent in BRANCHES:
            node = await branches.create_branch(
                code, name, name_en, branch_ids[parent] if parent else None
            )
            branch_ids[code] = node.id
        for plugin in kernel.registry.order:
            await db.fetch(
                "INSERT INTO bankcrm_plugin_enablement (branch, plugin, enabled, settings,"
                " changed_by, changed_at) VALUES ($1, $2, true, '{}'::jsonb, 'system:demo', now())",
                branch_ids["HQ"],
                plugin,
            )
        role_ids = await ensure_roles(kernel)
    branches.invalidate()
    user_ids: dict[str, int] = {}
    for username, role, branch, superuser in USERS:
        user_id = await auth.create_user(
            username, DEMO_PASSWORD, email=f"{username}@demo.bankcrm.local", superuser=superuser
        )
        await db.fetch(
            'INSERT INTO bankcrm_membership ("user", branch, role) VALUES ($1, $2, $3)',
            user_id,
            branch_ids[branch],
            role_ids[role],
        )
        user_ids[username] = user_id
    return DemoContext(
        branches=branch_ids,
        users=user_ids,
        scale=scale,
        refresh_statistics=partial(analyze, kernel.owner_url),
    )


async def analyze(owner_url: str) -> None:
    connection = await asyncpg.connect(owner_url)
    try:
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


async def seed(kernel: Kernel, scale: int = 1000) -> DemoContext | None:
    """Create the demo world once; returns None when the database already has branches."""
    if await db.fetchval("SELECT count(*) FROM bankcrm_branch"):
        return None
    context = await seed_kernel_world(kernel, scale)
    system = Scope(
        actor="system:demo", branch_ids=frozenset(context.branches.values()), is_superuser=True
    )
    with bind_scope(system):
        for name, result in kernel.registry.call_each("seed_demo_data", demo=context):
            if result is not None and hasattr(result, "__await__"):
                await result
            log.info("demo data seeded", extra={"plugin": name})
    return context
