"""The demo data: campaigns in two sub-branches, each visible only within its branch."""

from __future__ import annotations

from typing import Any

from bankcrm.plugin_api import DemoContext
from bankcrm_marketing.demo import DEMO_BRANCHES, seed_demo
from bankcrm_sdk.world import World


async def test_demo_rows_stay_in_their_branches(world: World, kit: Any) -> None:
    for _rm, _manager, code in DEMO_BRANCHES:
        await kit.customers(code, 12)
    demo = DemoContext(branches=dict(world.branches), users=dict(world.users))
    with world.bind(world.system_scope()):
        await seed_demo(demo)
    rows = await kit.owner_fetch("SELECT branch_id, status, channel FROM marketing_campaign")
    assert len(rows) == 2 * len(DEMO_BRANCHES)
    assert {(r["status"], r["channel"]) for r in rows} == {("active", "call"), ("draft", "sms")}
    assert await kit.owner_fetch("SELECT id FROM marketing_contact")
    assert await kit.owner_fetch("SELECT id FROM marketing_cost")
    assert len(await kit.owner_fetch("SELECT id FROM marketing_do_not_contact")) == 2
    for table in ("competitor", "competitor_product", "rate", "competitor_deal", "survey",
                  "survey_question", "survey_invitation", "survey_response"):  # fmt: skip
        rows = await kit.owner_fetch(f"SELECT DISTINCT branch_id FROM marketing_{table}")
        assert {r["branch_id"] for r in rows} == {world.branch(c) for _r, _m, c in DEMO_BRANCHES}

    seen = {}
    for username in ("demo.bj.manager", "demo.sh.rm", "demo.teller"):
        client = await world.client(username)
        items = (await client.get(kit.base, params={"limit": 200})).json()["items"]
        seen[username] = {item["branch_id"] for item in items}
    assert seen["demo.bj.manager"] == {world.branch("BJ-HD")}
    assert seen["demo.sh.rm"] == {world.branch("SH-PD")}
    assert seen["demo.teller"] == set()  # SH-XH has no demo rows
