from typing import Any

import httpx

from bankcrm_sdk.world import World

BASE = "/api/v1/customer_archive"


async def test_other_branches_customers_do_not_exist(
    world: World, kit: Any, bj: httpx.AsyncClient
) -> None:
    customer = await kit.create(
        bj, branch_id=world.branch("BJ-HD"),
        addresses=[{"kind": "home", "province": "北京市", "city": "北京市", "street": "学院路1号"}],
    )  # fmt: skip
    customer_id = customer["id"]
    address_id = customer["addresses"][0]["id"]
    tag = (
        await bj.post(f"{BASE}/tags", json={"name": "新客户", "branch_id": world.branch("BJ-HD")})
    ).json()
    sh = await world.client("demo.sh.manager")
    url = f"{BASE}/customers/{customer_id}"
    for method, path, body in [
        ("GET", url, None),
        ("GET", f"{url}/360", None),
        ("PATCH", url, {"name": "张三"}),
        ("DELETE", url, None),
        ("POST", f"{url}/reveal", {"reason": "核实身份"}),
        ("GET", f"{url}/addresses", None),
        ("PATCH", f"{url}/addresses/{address_id}", {"street": "别处"}),
        ("DELETE", f"{url}/addresses/{address_id}", None),
        ("POST", f"{url}/contacts", {"name": "李四"}),
        ("GET", f"{url}/holdings", None),
        ("POST", f"{url}/tags", {"tag_id": tag["id"]}),
        ("PATCH", f"{BASE}/tags/{tag['id']}", {"name": "改名"}),
        ("DELETE", f"{BASE}/tags/{tag['id']}", None),
    ]:
        response = await sh.request(method, path, json=body)
        assert response.status_code == 404, (method, path, response.text)
    assert (await sh.get(f"{BASE}/customers")).json()["items"] == []
    assert (await sh.get(f"{BASE}/tags")).json() == []

    # Nothing changed, and only the BJ manager's own actions are in the trail.
    detail = (await bj.get(url)).json()
    assert detail["name"] == "王秀英"
    assert len(detail["addresses"]) == 1
    assert {r["actor"] for r in await kit.audit(customer_id)} == {
        f"user:{world.users['demo.bj.manager']}"
    }


async def test_cannot_create_outside_scope(world: World, kit: Any) -> None:
    rm = await world.client("demo.bj.rm")  # BJ-HD only
    for branch in ("BJ", "BJ-CY", "SH-PD"):
        response = await rm.post(
            f"{BASE}/customers", json=kit.person(branch_id=world.branch(branch))
        )
        assert response.status_code == 422, branch
        assert response.json()["errors"][0]["field"] == "/body/branch_id"
    teller = await world.client("demo.teller")  # read-only role
    assert (await teller.post(f"{BASE}/customers", json=kit.person())).status_code == 403
    created = await kit.create(rm)
    assert created["branch_id"] == world.branch("BJ-HD")
