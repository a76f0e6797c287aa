"""The demo data: snapshots of every branch, each visible only within its branch."""

from __future__ import annotations

from typing import Any

from bankcrm import db
from bankcrm.plugin_api import DemoContext
from bankcrm_reporting.demo import seed_demo
from bankcrm_reporting.snapshots import HISTORY_DAYS
from bankcrm_sdk.world import World


async def test_demo_snapshots_stay_in_their_branches(world: World, kit: Any) -> None:
    demo = DemoContext(branches=dict(world.branches), users=dict(world.users))
    with world.bind(world.system_scope()):
        await seed_demo(demo)
    rows = await kit.owner_fetch(
        "SELECT DISTINCT branch_id, day FROM reporting_snapshot"
        " WHERE metric = 'customer_archive.customers'"
    )
    assert len(rows) == len(world.branches) * (HISTORY_DAYS + 1)
    with world.bind(await world.scope_of("SH")):
        seen = {r["branch_id"] for r in await db.fetch("SELECT branch_id FROM reporting_snapshot")}
    assert seen == set(await world.subtree("SH"))
