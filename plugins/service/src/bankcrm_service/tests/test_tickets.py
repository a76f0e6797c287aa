"""The tickets API: the round trip with its audit trail, the roles, the branches
and bad input."""

from __future__ import annotations

from typing import Any

import httpx

from bankcrm_sdk.world import World

PROBLEM = "application/problem+json"
TABLE = "service_ticket"


def refused(response: httpx.Response, status: int) -> bool:
    """A 4xx answer with the kernel's problem body (never a 500, never HTML)."""
    content_type = response.headers.get("content-type", "")
    return response.status_code == status and content_type.startswith(PROBLEM)


async def test_create_read_change_delete_each_audited(world: World, kit: Any) -> None:
    manager = await world.client("demo.bj.manager")
    created = await kit.create(manager, branch_id=world.branch("BJ-HD"))
    url = f"{kit.base}/{created['id']}"
    assert created["status"] == "new"
    assert created["branch_id"] == world.branch("BJ-HD")
    assert (await manager.get(url)).json() == created

    changed = await manager.patch(url, json={"title": " 已改标题 ", "status": "closed",
                                             "note": "客户撤回"})  # fmt: skip
    assert changed.status_code == 200, changed.text
    assert changed.json()["title"] == "已改标题"
    assert changed.json()["status"] == "closed"

    assert (await manager.delete(url)).status_code == 204
    assert refused(await manager.get(url), 404)

    trail = await kit.audit(created["id"])
    assert [row["action"] for row in trail] == ["create", "update", "delete"]
    assert {row["actor"] for row in trail} == {f"user:{world.users['demo.bj.manager']}"}
    assert {row["branch_id"] for row in trail} == {world.branch("BJ-HD")}


async def test_each_role_gets_what_access_grants(world: World, kit: Any) -> None:
    rm = await world.client("demo.bj.rm")  # relationship manager of BJ-HD: read and write
    created = await kit.create(rm)
    assert created["branch_id"] == world.branch("BJ-HD")  # the home branch by default

    teller = await world.client("demo.teller")  # SH-XH: read only
    assert (await teller.get(kit.base)).status_code == 200
    assert refused(await teller.post(kit.base, json={"title": "柜员不能新建"}), 403)

    auditor = await world.client("demo.auditor")  # head office: reads every branch
    listed = (await auditor.get(kit.base)).json()["items"]
    assert [item["id"] for item in listed] == [created["id"]]
    assert refused(await auditor.delete(f"{kit.base}/{created['id']}"), 403)


async def test_other_branches_rows_do_not_exist(world: World, kit: Any) -> None:
    bj = await world.client("demo.bj.manager")
    created = await kit.create(bj, branch_id=world.branch("BJ"))
    url = f"{kit.base}/{created['id']}"
    sh = await world.client("demo.sh.manager")
    for method, body in (("GET", None), ("PATCH", {"title": "别处"}), ("DELETE", None)):
        assert refused(await sh.request(method, url, json=body), 404), method
    assert (await sh.get(kit.base)).json()["items"] == []
    assert (await bj.get(url)).json()["title"] == created["title"]


async def test_cannot_create_outside_scope(world: World, kit: Any) -> None:
    rm = await world.client("demo.bj.rm")
    response = await rm.post(kit.base, json={"title": "越权", "branch_id": world.branch("SH")})
    assert refused(response, 422)
    assert response.json()["errors"][0]["field"] == "/body/branch_id"
    assert await kit.owner_fetch(f"SELECT id FROM {TABLE}") == []


async def test_bad_input_is_a_problem_never_a_500(world: World, kit: Any) -> None:
    manager = await world.client("demo.bj.manager")
    blank = await manager.post(kit.base, json={"title": "   "})
    assert refused(blank, 422)
    assert blank.json()["errors"][0]["field"] == "/body/title"
    for body in ({"title": "x" * 201}, {"title": "t", "colour": "red"}, {"body": "no title"}):
        assert (await manager.post(kit.base, json=body)).status_code == 422, body
    assert refused(await manager.get(kit.base, params={"cursor": "not-a-cursor"}), 400)
    assert refused(await manager.get(kit.base, params={"limit": 0}), 422)
    assert (await manager.get(kit.base, params={"status": "lost"})).status_code == 422
    assert refused(await manager.get(f"{kit.base}/{2**40}"), 422)


async def test_pages_follow_the_cursor(world: World, kit: Any) -> None:
    manager = await world.client("demo.bj.manager")
    ids = [(await kit.create(manager, title=f"第{n}条"))["id"] for n in range(3)]
    first = (await manager.get(kit.base, params={"limit": 2})).json()
    assert [item["id"] for item in first["items"]] == ids[:0:-1]
    rest = await manager.get(kit.base, params={"limit": 2, "cursor": first["next_cursor"]})
    assert [item["id"] for item in rest.json()["items"]] == ids[:1]
    assert rest.json()["next_cursor"] is None
