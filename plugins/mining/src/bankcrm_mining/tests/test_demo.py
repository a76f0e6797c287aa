"""The demo data: an approved scorecard whose points table passes the registry's check."""

from __future__ import annotations

from typing import Any

from bankcrm.plugin_api import DemoContext
from bankcrm_mining.demo import DEMO_NAME, seed_demo
from bankcrm_sdk.world import World


async def test_the_demo_scorecard_is_approved_and_readable(world: World, kit: Any) -> None:
    demo = DemoContext(branches=dict(world.branches), users=dict(world.users))
    with world.bind(world.system_scope()):
        await seed_demo(demo)
    teller = await world.client("demo.teller")
    items = (await teller.get(kit.base, params={"name": DEMO_NAME})).json()["items"]
    assert [(i["status"], i["version"]) for i in items] == [("approved", 1)]
    assert items[0]["approved_by"] != items[0]["created_by"]
