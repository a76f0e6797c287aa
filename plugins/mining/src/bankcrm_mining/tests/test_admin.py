"""The registry's admin screen: listed for readers, never written (status moves only
through the API, where maker-checker holds)."""

from __future__ import annotations

from typing import Any

import httpx

from bankcrm_sdk.world import World

ROWS = "/admin/api/tables/mining_model/"


async def admin_client(world: World, username: str) -> httpx.AsyncClient:
    """Logged in through the REST API, holding the admin's CSRF cookie and header."""
    client = await world.client(username)
    assert (await client.get("/admin/")).status_code == 200
    client.headers["X-CSRFToken"] = client.cookies["csrftoken"]
    return client


async def test_the_admin_lists_but_never_approves(world: World, kit: Any) -> None:
    created = await kit.create(await world.client("demo.bj.manager"))
    admin = await admin_client(world, "demo.sh.manager")
    listed = await admin.get(ROWS)
    assert listed.status_code == 200, listed.text
    assert [row["id"] for row in listed.json()["rows"]] == [created["id"]]
    response = await admin.patch(f"{ROWS}{created['id']}/", json={"status": "approved"})
    assert response.status_code >= 400
    rows = await kit.owner_fetch("SELECT status FROM mining_model")
    assert [row["status"] for row in rows] == ["draft"]
