"""The demo data: every stage, every owner, each row visible only to its owner's line."""

from __future__ import annotations

from typing import Any

from bankcrm.plugin_api import DemoContext
from bankcrm_sales.demo import seed_demo
from bankcrm_sales.settings import DEFAULT_STAGES
from bankcrm_sdk.world import World


async def test_demo_rows_follow_the_owner_rules(world: World, kit: Any) -> None:
    await kit.product_code()
    for n in range(3):
        await kit.customer(await world.client("demo.bj.rm"), id_number=IDS[n])
    demo = DemoContext(branches=dict(world.branches), users=dict(world.users), scale=400)
    with world.bind(world.system_scope()):
        await seed_demo(demo)
    stages = {r["stage"] for r in await kit.owner_fetch("SELECT stage FROM sales_opportunity")}
    assert stages == {s.code for s in DEFAULT_STAGES[:3]}  # three customers in BJ-HD
    rm = await world.client("demo.bj.rm")
    leads = (await rm.get("/api/v1/sales/leads", params={"limit": 200})).json()["items"]
    assert leads
    assert {lead["owner"] for lead in leads} == {world.users["demo.bj.rm"]}
    boss = await world.client("demo.bj.manager")
    owners = {
        lead["owner"]
        for lead in (await boss.get("/api/v1/sales/leads", params={"limit": 200})).json()["items"]
    }
    assert owners == {world.users["demo.bj.rm"], world.users["demo.bj.manager"]}


IDS = ("110105198501011234", "110105199003154560", "11010519491231002X")
