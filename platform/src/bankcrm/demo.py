"""Demo data: a head office, two branches with sub-branches, a user per standard role,
and each plugin's own data through ``seed_demo_data``, plugins in dependency order.

The kernel names no plugin here: the roles and their permissions come from the plugins'
declarations (:mod:`bankcrm.roles`)."""

from __future__ import annotations

import logging
from datetime import date, time
from functools import partial

import asyncpg

from bankcrm import auth, branches, business_calendar, db, roles
from bankcrm.context import Scope, bind_scope
from bankcrm.plugin_api import DemoContext, StandardRole
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


# username, role, branch code, superuser
USERS = [
    ("demo.admin", StandardRole.HEAD_OFFICE_ADMIN, "HQ", True),
    ("demo.bj.manager", StandardRole.BRANCH_MANAGER, "BJ", False),
    ("demo.bj.rm", StandardRole.RELATIONSHIP_MANAGER, "BJ-HD", False),
    ("demo.sh.manager", StandardRole.BRANCH_MANAGER, "SH", False),
    ("demo.sh.rm", StandardRole.RELATIONSHIP_MANAGER, "SH-PD", False),
    ("demo.teller", StandardRole.TELLER, "SH-XH", False),
    ("demo.auditor", StandardRole.AUDITOR, "HQ", False),
]


async def ensure_roles(kernel: Kernel, actor: str) -> dict[str, int]:
    """Bring the declared roles into the database (emptied test databases have none)."""
    declared = roles.declared_roles(kernel.registry)
    async with db.transaction() as transaction:
        await roles.sync_roles(transaction.connection, declared, actor)
        return await roles.role_ids(transaction.connection, declared)


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
    role_ids = await ensure_roles(kernel, "system:demo")
    branches.invalidate()
    await seed_calendar(branch_ids)
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
    await seed_employees(branch_ids, user_ids)
    return DemoContext(
        branches=branch_ids,
        users=user_ids,
        roles=role_ids,
        scale=scale,
        refresh_statistics=partial(analyze, kernel.owner_url),
    )


# username, employee number, name, position, manager's username, products, capacity
EMPLOYEES = [
    ("demo.admin", "E0001", "周总", "总行系统管理员", None, (), 0),
    ("demo.auditor", "E0002", "吴审", "稽核员", "demo.admin", (), 0),
    ("demo.bj.manager", "E1001", "王北", "北京分行行长", "demo.admin", (), 20),
    ("demo.bj.rm", "E1101", "李海", "客户经理", "demo.bj.manager", ("deposit", "wealth"), 50),
    ("demo.sh.manager", "E2001", "陈沪", "上海分行行长", "demo.admin", (), 20),
    ("demo.sh.rm", "E2101", "张浦", "客户经理", "demo.sh.manager", ("loan", "card"), 50),
    ("demo.teller", "E2201", "刘徐", "柜员", "demo.sh.manager", ("deposit",), 30),
]


async def seed_employees(branch_ids: dict[str, int], user_ids: dict[str, int]) -> None:
    """An employee record per demo user, with the manager tree the demo's escalations and
    assignments follow (relationship managers report to their branch's manager)."""
    home = {username: branch for username, _, branch, _ in USERS}
    everywhere = Scope(
        actor="system:demo", branch_ids=frozenset(branch_ids.values()), is_superuser=True
    )
    ids: dict[str, int] = {}
    with bind_scope(everywhere):
        async with db.transaction():
            for username, number, name, position, manager, products, capacity in EMPLOYEES:
                ids[username] = await db.fetchval(
                    "INSERT INTO bankcrm_employee (branch_id, employee_no, name, user_id,"
                    " position, manager_id, products, languages, capacity, email)"
                    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                    branch_ids[home[username]], number, name, user_ids[username], position,
                    ids[manager] if manager else None, list(products), ["zh", "en"], capacity,
                    f"{username}@demo.bankcrm.local",
                )  # fmt: skip


async def seed_calendar(branch_ids: dict[str, int]) -> None:
    """The national calendar of this year and the next, and two branches' own hours: the
    Beijing branch opens on Saturday mornings, Shanghai's Xuhui sub-branch closes early."""
    await business_calendar.ensure_years(business_calendar.current_years())
    weekdays = [(d, time(9), time(17)) for d in range(5)]
    hours = {
        "BJ": [*weekdays, (5, time(9), time(12))],
        "SH-XH": [(d, time(9), time(16)) for d in range(5)],
    }
    for code, rows in hours.items():
        branch_id = branch_ids[code]
        with bind_scope(
            Scope(actor="system:demo", branch_ids=frozenset({branch_id}), is_superuser=True)
        ):
            async with db.transaction():
                for weekday, opens, closes in rows:
                    await db.fetch(
                        "INSERT INTO bankcrm_branch_hours (branch, weekday, opens, closes)"
                        " VALUES ($1, $2, $3, $4)",
                        branch_id, weekday, opens, closes,
                    )  # fmt: skip
                await db.fetch(
                    "INSERT INTO bankcrm_branch_calendar_override (branch, day, closed, reason)"
                    " VALUES ($1, $2, true, $3)",
                    branch_id,
                    date(business_calendar.current_years()[0], 12, 31),
                    "年终决算 year-end closing",
                )
    business_calendar.invalidate()


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
    # Plugins' demo code may ask for the running kernel's hooks (reporting reads every
    # plugin's KPIs): during seeding the kernel being seeded is the running one.
    from bankcrm.runtime import activate

    previous = activate(kernel)
    try:
        with bind_scope(system):
            for name, _ in await kernel.registry.call_in_order("seed_demo_data", demo=context):
                log.info("demo data seeded", extra={"plugin": name})
    finally:
        activate(previous)
    return context
