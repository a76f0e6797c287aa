"""The admin screens of sales under row-level security and the owner rules."""

from __future__ import annotations

from typing import Any

import httpx

from bankcrm_sdk.world import World

ROWS = "/admin/api/tables/sales_lead/"


async def admin_client(world: World, username: str) -> httpx.AsyncClient:
    """Logged in through the REST API, holding the admin's CSRF cookie and header."""
    client = await world.client(username)
    assert (await client.get("/admin/")).status_code == 200
    client.headers["X-CSRFToken"] = client.cookies["csrftoken"]
    return client


async def test_the_admin_shows_only_what_the_rules_allow(world: World, kit: Any) -> None:
    manager = await world.client("demo.bj.manager")
    of_rm = await kit.lead(manager, branch_id=world.branch("BJ-HD"))
    of_manager = await kit.lead(
        manager, branch_id=world.branch("BJ-HD"), owner_id=world.users["demo.bj.manager"]
    )
    sh = await kit.lead(await world.client("demo.sh.manager"), branch_id=world.branch("SH"))
    rm = await admin_client(world, "demo.bj.rm")
    listed = await rm.get(ROWS)
    assert listed.status_code == 200, listed.text
    assert [row["id"] for row in listed.json()["rows"]] == [of_rm["id"]]
    assert (await rm.get(f"{ROWS}{of_manager['id']}/")).status_code == 404
    boss = await admin_client(world, "demo.bj.manager")
    ids = {row["id"] for row in (await boss.get(ROWS)).json()["rows"]}
    assert ids == {of_rm["id"], of_manager["id"]}
    assert sh["id"] not in ids


async def test_no_lead_is_created_or_reassigned_in_the_admin(world: World, kit: Any) -> None:
    manager = await world.client("demo.bj.manager")
    lead = await kit.lead(manager, branch_id=world.branch("BJ-HD"))
    admin = await admin_client(world, "demo.bj.manager")
    created = await admin.post(ROWS, json={"prospect_name": "x", "channel": "web"})
    assert created.status_code in (400, 403, 405), created.text
    changed = await admin.patch(f"{ROWS}{lead['id']}/", json={"need": "客户想了解大额存单"})
    assert changed.status_code == 200, changed.text
    rows = await kit.owner_fetch("SELECT owner, need FROM sales_lead")
    assert [(r["owner"], r["need"]) for r in rows] == [
        (world.users["demo.bj.rm"], "客户想了解大额存单")
    ]
