"""Demo seeding: the kernel's world, then each plugin's data in dependency order, each
awaited before the next, at the scale asked for; never twice."""

from __future__ import annotations

import asyncio
from typing import Any

from bankcrm import db, demo, kernel_plugin
from bankcrm.plugin_api import DemoContext, StandardRole
from bankcrm.plugins import PluginRegistry, build_registry
from bankcrm.runtime import Kernel
from bankcrm_sdk import database
from bankcrm_sdk.plugins import make_plugin


def seeding_registry(calls: list[tuple[str, Any]]) -> PluginRegistry:
    async def seed_ledger(demo: DemoContext) -> None:
        await asyncio.sleep(0.01)  # an await point: the next plugin must still wait
        calls.append(("ledger", demo.scale))
        demo.users["ledger.bot"] = -1

    def seed_reports(demo: DemoContext) -> None:
        # Synchronous, and after the asynchronous plugin it requires: it sees its work.
        calls.append(("reports", "ledger.bot" in demo.users))

    return build_registry(
        [
            make_plugin("reports", requires=["ledger"], hooks={"seed_demo_data": seed_reports}),
            make_plugin("ledger", hooks={"seed_demo_data": seed_ledger}),
        ],
        kernel_plugin=kernel_plugin,
    )


async def test_plugins_seed_in_dependency_order_each_awaited(
    clean_database: database.TestDatabase, kernel: Kernel
) -> None:
    calls: list[tuple[str, Any]] = []
    registry = seeding_registry(calls)
    seeded = Kernel(kernel.settings, registry, kernel.owner_url, kernel.app_url)
    context = await demo.seed(seeded, scale=42)
    assert context is not None
    assert calls == [("ledger", 42), ("reports", True)]
    assert set(context.roles) == {str(role) for role in StandardRole}
    assert set(context.branches) == {code for code, *_ in demo.BRANCHES}
    members = await db.fetch(
        "SELECT u.username, r.name FROM bankcrm_membership m JOIN piccolo_user u ON u.id = m.user"
        " JOIN bankcrm_role r ON r.id = m.role ORDER BY u.username"
    )
    assert [(row["username"], row["name"]) for row in members] == sorted(
        (username, str(role)) for username, role, _, _ in demo.USERS
    )
    assert await demo.seed(seeded, scale=42) is None
    assert len(calls) == 2
