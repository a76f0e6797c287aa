"""The demo data: rows in several branches, each visible only within its branch."""

from __future__ import annotations

from typing import Any

from bankcrm.plugin_api import DemoContext
from bankcrm_sdk.world import World
from bankcrm_service.demo import DEMO_BRANCHES, TICKETS, seed_demo

TABLE = "service_ticket"


async def test_demo_rows_stay_in_their_branches(world: World, kit: Any) -> None:
    demo = DemoContext(branches=dict(world.branches), users=dict(world.users))
    with world.bind(world.system_scope()):
        await seed_demo(demo)
    rows = await kit.owner_fetch(f"SELECT branch_id FROM {TABLE}")
    assert len(rows) == len(DEMO_BRANCHES) * len(TICKETS)

    seen = {}
    for username in ("demo.bj.manager", "demo.sh.rm", "demo.teller"):
        client = await world.client(username)
        items = (await client.get(kit.base, params={"limit": 200})).json()["items"]
        seen[username] = {item["branch_id"] for item in items}
    assert seen["demo.bj.manager"] == {world.branch("BJ"), world.branch("BJ-HD")}
    assert seen["demo.sh.rm"] == {world.branch("SH-PD")}
    assert seen["demo.teller"] == set()  # SH-XH has no demo rows

    # SLA policies in Beijing and Shanghai; the sweep escalated an overdue ticket in each
    # demo branch; every ticket has a due time.
    policies = await kit.owner_fetch("SELECT DISTINCT branch_id FROM service_sla_policy")
    assert {r["branch_id"] for r in policies} == {world.branch("BJ"), world.branch("SH")}
    steps = await kit.owner_fetch(
        "SELECT DISTINCT branch_id FROM service_sla_step WHERE step = 'breached'"
    )
    assert {r["branch_id"] for r in steps} == {world.branch(c) for c in DEMO_BRANCHES}
    undue = await kit.owner_fetch("SELECT id FROM service_ticket WHERE sla_due_at IS NULL")
    assert undue == []
    report = await (await world.client("demo.bj.manager")).get("/api/v1/service/sla/breaches")
    assert report.json()["breached"] >= 2
