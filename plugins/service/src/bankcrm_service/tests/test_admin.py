"""The admin screen of tickets under row-level security, changes audited."""

from __future__ import annotations

from typing import Any

import httpx

from bankcrm_sdk.world import World

ROWS = "/admin/api/tables/service_ticket/"


async def admin_client(world: World, username: str) -> httpx.AsyncClient:
    """Logged in through the REST API, holding the admin's CSRF cookie and header."""
    client = await world.client(username)
    assert (await client.get("/admin/")).status_code == 200
    client.headers["X-CSRFToken"] = client.cookies["csrftoken"]
    return client


async def test_the_admin_lists_only_the_branches_in_scope(world: World, kit: Any) -> None:
    bj = await kit.create(await world.client("demo.bj.manager"))
    sh = await kit.create(await world.client("demo.sh.manager"))
    admin = await admin_client(world, "demo.sh.manager")
    listed = await admin.get(ROWS)
    assert listed.status_code == 200, listed.text
    assert [row["id"] for row in listed.json()["rows"]] == [sh["id"]]
    assert (await admin.get(f"{ROWS}{bj['id']}/")).status_code == 404


async def test_the_admin_cannot_move_a_ticket_around_its_rules(world: World, kit: Any) -> None:
    """Status moves are checked and kept in the history by the API; the admin only reads."""
    created = await kit.create(await world.client("demo.bj.manager"))
    admin = await admin_client(world, "demo.bj.manager")
    response = await admin.patch(f"{ROWS}{created['id']}/", json={"status": "closed"})
    assert response.status_code in (403, 405), response.text
    rows = await kit.owner_fetch("SELECT status FROM service_ticket WHERE id = $1", created["id"])
    assert rows[0]["status"] == "new"
