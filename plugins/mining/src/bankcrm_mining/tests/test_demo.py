"""The demo data: an approved scorecard, and in each demo branch a load of transactions and
a feature run, each visible only within its branch."""

from __future__ import annotations

from typing import Any

from bankcrm.plugin_api import DemoContext
from bankcrm_mining.demo import DEMO_NAME, seed_demo
from bankcrm_sdk.world import World


async def test_the_demo_seeds_every_table_branch_by_branch(world: World, kit: Any) -> None:
    rm = await world.client("demo.sh.rm")  # SH-PD
    customer = await kit.customer(rm, 1, "13800000001")
    await kit.customer(await world.client("demo.bj.rm"), 2, "13800000002")
    demo = DemoContext(branches=dict(world.branches), users=dict(world.users))
    with world.bind(world.system_scope()):
        await seed_demo(demo)
    teller = await world.client("demo.teller")
    items = (await teller.get(kit.base, params={"name": DEMO_NAME})).json()["items"]
    assert [(i["status"], i["version"]) for i in items] == [("approved", 1)]
    assert items[0]["approved_by"] != items[0]["created_by"]

    tables = ("mining_load", "mining_transaction", "mining_feature_run", "mining_feature_value")
    for table in tables:
        rows = await kit.owner_fetch(f"SELECT DISTINCT branch_id FROM {table}")
        assert {r["branch_id"] for r in rows} == {world.branch("SH-PD"), world.branch("BJ-HD")}

    sh = await world.client("demo.sh.rm")
    loads = (await sh.get("/api/v1/mining/loads")).json()["items"]
    assert [x["branch_id"] for x in loads] == [world.branch("SH-PD")]
    values = (await sh.get(f"/api/v1/mining/features/customers/{customer}")).json()["values"]
    assert values["frequency_365d"] >= 3
    bj = await world.client("demo.bj.manager")
    assert (await bj.get(f"/api/v1/mining/features/customers/{customer}")).status_code == 404
