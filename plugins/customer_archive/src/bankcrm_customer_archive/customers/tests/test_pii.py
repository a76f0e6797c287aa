import json
from typing import Any

import asyncpg
import httpx

from bankcrm_sdk.world import World

BASE = "/api/v1/customer_archive"


async def _customer_with_everything(
    world: World, kit: Any, client: httpx.AsyncClient
) -> dict[str, Any]:
    created = await kit.create(
        client,
        branch_id=world.branch("BJ-HD"),
        email="wangxiuying@163.com",
        addresses=[{"kind": "home", "province": "北京市", "city": "北京市", "district": "海淀区",
                    "street": "学院路38号院2号楼1单元301"}],
        contacts=[{"name": "王强", "title": "配偶", "phone": "13900002222"}],
    )  # fmt: skip
    holding = await client.post(
        f"{BASE}/customers/{created['id']}/holdings",
        json={"product_code": "CARD-DEB", "account_no": "6217000010001234567", "balance": "88.8"},
    )
    assert holding.status_code == 201, holding.text
    return created


async def test_responses_are_masked(
    world: World, kit: Any, bj: httpx.AsyncClient, catalogue: dict[str, int]
) -> None:
    created = await _customer_with_everything(world, kit, bj)
    customer_id = created["id"]
    clear = [kit.resident_id(), "13812345678", "wangxiuying@163.com", "学院路38号院",
             "13900002222", "6217000010001234567"]  # fmt: skip
    bodies = [
        (await bj.get(f"{BASE}/customers/{customer_id}")).text,
        (await bj.get(f"{BASE}/customers", params={"q": "王秀英"})).text,
        (await bj.get(f"{BASE}/customers/{customer_id}/360")).text,
        (await bj.get(f"{BASE}/customers/{customer_id}/holdings")).text,
        (await bj.get(f"{BASE}/customers/export", params={"q": "王秀英"})).text,
    ]
    for body in bodies:
        for value in clear:
            assert value not in body
    detail = json.loads(bodies[0])
    number = kit.resident_id()
    assert detail["id_number"] == number[:3] + "*" * 11 + number[-4:]
    assert detail["phone"] == "138****5678"
    assert detail["email"] == "w***@163.com"
    assert detail["contacts"][0]["phone"] == "139****2222"
    # The ID number is stored encrypted; only its keyed hash and mask are searchable.
    owner = await asyncpg.connect(world.kernel.owner_url)
    try:
        row = await owner.fetchrow(
            "SELECT * FROM customer_archive_customer WHERE id = $1", customer_id
        )
    finally:
        await owner.close()
    assert row is not None
    assert kit.resident_id() not in " ".join(str(v) for v in row.values())


async def test_reveal_needs_permission_and_reason_and_is_audited(
    world: World, kit: Any, bj: httpx.AsyncClient, catalogue: dict[str, int]
) -> None:
    customer_id = (await _customer_with_everything(world, kit, bj))["id"]
    url = f"{BASE}/customers/{customer_id}/reveal"
    rm = await world.client("demo.bj.rm")
    assert (await rm.post(url, json={"reason": "客户来电核实身份"})).status_code == 403
    assert (await bj.post(url, json={})).status_code == 422
    assert (await bj.post(url, json={"reason": "  "})).status_code == 422
    assert await kit.audit(customer_id, "reveal") == []

    response = await bj.post(url, json={"reason": "客户来电核实身份"})
    assert response.status_code == 200, response.text
    revealed = response.json()
    assert revealed["id_number"] == kit.resident_id()
    assert revealed["phone"] == "13812345678"
    assert revealed["email"] == "wangxiuying@163.com"
    assert revealed["addresses"][0]["street"] == "学院路38号院2号楼1单元301"
    assert revealed["contacts"][0]["phone"] == "13900002222"
    assert revealed["holdings"][0]["account_no"] == "6217000010001234567"

    (row,) = await kit.audit(customer_id, "reveal")
    assert row["reason"] == "客户来电核实身份"
    assert row["actor"] == f"user:{world.users['demo.bj.manager']}"
    assert row["branch_id"] == world.branch("BJ-HD")
    assert "13812345678" not in row["after"]
    sh = await world.client("demo.sh.manager")
    assert (await sh.post(url, json={"reason": "核实"})).status_code == 404


async def test_views_and_exports_are_audited(world: World, kit: Any, bj: httpx.AsyncClient) -> None:
    customer_id = (await kit.create(bj, branch_id=world.branch("BJ-HD")))["id"]
    assert await kit.audit(customer_id, "view") == []  # creating is not viewing
    await bj.get(f"{BASE}/customers/{customer_id}")
    await bj.get(f"{BASE}/customers/{customer_id}/360")
    views = await kit.audit(customer_id, "view")
    assert [json.loads(v["after"])["screen"] for v in views] == ["detail", "360"]
    assert {v["actor"] for v in views} == {f"user:{world.users['demo.bj.manager']}"}
    assert (await bj.get(f"{BASE}/customers/999999")).status_code == 404

    rm = await world.client("demo.bj.rm")
    assert (await rm.get(f"{BASE}/customers/export")).status_code == 403
    export = await bj.get(f"{BASE}/customers/export")
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    lines = export.text.strip().splitlines()
    assert lines[0].startswith(
        "\ufeff客户编号,所属机构,客户类型,客户名称"
    )  # BOM: Excel reads UTF-8
    assert len(lines) == 2
    (row,) = await kit.audit("export", "export")
    assert json.loads(row["after"])["customer_ids"] == [customer_id]
    assert row["branch_id"] == world.branch("BJ-HD")
    # The criteria are kept too, with searched-for personal data masked.
    by_id = await bj.get(f"{BASE}/customers/export", params={"id_number": kit.resident_id()})
    assert len(by_id.text.strip().splitlines()) == 2
    second = (await kit.audit("export", "export"))[-1]
    assert kit.resident_id() not in second["after"]
    assert json.loads(second["after"])["filters"]["id_number"].startswith("110***")
