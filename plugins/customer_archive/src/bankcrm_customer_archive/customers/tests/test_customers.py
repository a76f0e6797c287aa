import json
from typing import Any

import httpx

from bankcrm_sdk.world import World

BASE = "/api/v1/customer_archive"


async def test_create_read_update_delete(world: World, kit: Any, bj: httpx.AsyncClient) -> None:
    created = await kit.create(
        bj,
        name="曾国藩",
        id_number=kit.resident_id("110108", "19850614", "301"),
        branch_id=world.branch("BJ-HD"),
        relationship_manager_id=world.users["demo.bj.rm"],
        email="zengguofan@163.com",
        addresses=[
            {
                "kind": "home",
                "province": "北京市",
                "city": "北京市",
                "district": "海淀区",
                "street": "中关村大街27号院3号楼501",
                "postcode": "100080",
            },
        ],
    )
    # Derived from the resident ID and the name (surname read as Zeng, not Ceng).
    assert created["birth_date"] == "1985-06-14"
    assert created["gender"] == "M"
    assert (created["name_pinyin"], created["name_initials"]) == ("zengguofan", "zgf")
    assert created["relationship_manager"] == "demo.bj.rm"
    assert created["addresses"][0]["is_primary"] is True
    customer_id = created["id"]

    detail = (await bj.get(f"{BASE}/customers/{customer_id}")).json()
    assert detail["name"] == "曾国藩"
    assert detail["branch_id"] == world.branch("BJ-HD")

    response = await bj.patch(
        f"{BASE}/customers/{customer_id}", json={"name": "单田芳", "phone": "010 6234 5678"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["name_pinyin"] == "shantianfang"
    assert response.json()["phone"] == "010*****5678"

    (update,) = await kit.audit(customer_id, "update")
    before, after = json.loads(update["before"]), json.loads(update["after"])
    assert before["name"] == "曾国藩"
    assert after["name"] == "单田芳"
    assert after["phone"] == "010*****5678"  # masked in the trail too
    assert "13812345678" not in update["before"]

    assert (await bj.delete(f"{BASE}/customers/{customer_id}")).status_code == 204
    assert (await bj.get(f"{BASE}/customers/{customer_id}")).status_code == 404
    assert (
        await bj.patch(f"{BASE}/customers/{customer_id}", json={"name": "x"})
    ).status_code == 404
    (deleted,) = await kit.audit(customer_id, "delete")
    assert json.loads(deleted["before"])["name"] == "单田芳"
    # The identity document is free again for a new customer of the branch.
    await kit.create(
        bj, id_number=kit.resident_id("110108", "19850614", "301"), branch_id=world.branch("BJ-HD")
    )


async def test_corporate_with_contacts_and_tags(
    world: World, kit: Any, bj: httpx.AsyncClient
) -> None:
    tag = await bj.post(f"{BASE}/tags", json={"name": "小微企业", "branch_id": world.branch("BJ")})
    assert tag.status_code == 201, tag.text
    created = await kit.create(
        bj,
        kind="corporate",
        name="北京恒信科技有限公司",
        id_type="uscc",
        id_number=kit.uscc(),
        phone="010-62345678",
        branch_id=world.branch("BJ"),
        industry="信息传输、软件和信息技术服务业",
        contacts=[{"name": "李娜", "title": "财务负责人", "phone": "13900001111"}],
        tags=["小微企业"],
    )
    assert created["gender"] is None
    assert created["birth_date"] is None
    assert created["contacts"][0]["phone"] == "139****1111"
    assert [t["name"] for t in created["tags"]] == ["小微企业"]
    assert created["name_initials"] == "bjhxkjyxgs"


async def test_addresses_contacts_sub_resources(
    kit: Any, bj: httpx.AsyncClient, world: World
) -> None:
    customer_id = (await kit.create(bj, branch_id=world.branch("BJ-CY")))["id"]
    url = f"{BASE}/customers/{customer_id}/addresses"
    first = (
        await bj.post(
            url,
            json={
                "kind": "home",
                "province": "北京市",
                "city": "北京市",
                "street": "建国路88号",
                "is_primary": True,
            },
        )
    ).json()
    second = await bj.post(
        url,
        json={
            "kind": "office",
            "province": "北京市",
            "city": "北京市",
            "street": "光华路1号",
            "is_primary": True,
        },
    )
    assert second.status_code == 201, second.text
    listed = (await bj.get(url)).json()
    # Only one primary address: the newest primary one wins.
    assert [(a["id"], a["is_primary"]) for a in listed] == [
        (second.json()["id"], True),
        (first["id"], False),
    ]
    assert listed[0]["street"] == "光华路****"
    patched = await bj.patch(f"{url}/{first['id']}", json={"district": "朝阳区"})
    assert patched.status_code == 200
    assert patched.json()["district"] == "朝阳区"
    assert (await bj.delete(f"{url}/{first['id']}")).status_code == 204
    assert (await bj.delete(f"{url}/{first['id']}")).status_code == 404
    assert len((await bj.get(url)).json()) == 1
    trail = await kit.audit(first["id"], entity="customer_archive.customer_address")
    assert [r["action"] for r in trail] == ["create", "update", "delete"]

    contacts = f"{BASE}/customers/{customer_id}/contacts"
    contact = (await bj.post(contacts, json={"name": "张伟", "phone": "+86 139 0000 2222"})).json()
    assert contact["phone"] == "139****2222"
    bad = await bj.patch(f"{contacts}/{contact['id']}", json={"phone": "12345"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "/body/phone"
    assert (await bj.delete(f"{contacts}/{contact['id']}")).status_code == 204


async def test_holdings_and_delete_rules(
    world: World, kit: Any, bj: httpx.AsyncClient, catalogue: dict[str, int]
) -> None:
    customer_id = (await kit.create(bj, branch_id=world.branch("BJ-HD")))["id"]
    url = f"{BASE}/customers/{customer_id}/holdings"
    deposit = await bj.post(
        url,
        json={
            "product_code": "DEP-1Y",
            "account_no": "6222020200112233445",
            "balance": "50000.00",
            "opened_on": "2024-03-01",
        },
    )
    assert deposit.status_code == 201, deposit.text
    holding = deposit.json()
    assert holding["account_no"] == "6222***********3445"
    assert holding["balance"] == "50000.00"
    assert holding["category"] == "deposit"
    loan = await bj.post(
        url, json={"product_code": "LN-MORT", "account_no": "2100001", "balance": "1.5"}
    )
    assert loan.status_code == 422  # account number shorter than 10 digits
    corporate_only = await bj.post(
        url, json={"product_code": "CD-CUR", "account_no": "1100000000001"}
    )
    assert corporate_only.status_code == 422
    assert corporate_only.json()["errors"][0]["field"] == "/body/product_code"
    duplicate = await bj.post(
        url, json={"product_code": "DEP-CUR", "account_no": "6222020200112233445"}
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["errors"][0]["field"] == "/body/account_no"

    # An open account blocks deletion; closing it allows it.
    refused = await bj.delete(f"{BASE}/customers/{customer_id}")
    assert refused.status_code == 409
    closed = await bj.patch(f"{url}/{holding['id']}", json={"status": "closed", "balance": "0"})
    assert closed.status_code == 200
    assert closed.json()["status"] == "closed"
    assert (await bj.delete(f"{BASE}/customers/{customer_id}")).status_code == 204
    assert (await bj.get(url)).status_code == 404


async def test_tags_and_products(world: World, kit: Any, bj: httpx.AsyncClient) -> None:
    vip = (
        await bj.post(
            f"{BASE}/tags",
            json={"name": "贵宾客户", "color": "#f5222d", "branch_id": world.branch("BJ-HD")},
        )
    ).json()
    other = (
        await bj.post(f"{BASE}/tags", json={"name": "贵宾客户", "branch_id": world.branch("BJ-CY")})
    ).json()
    again = await bj.post(
        f"{BASE}/tags", json={"name": "贵宾客户", "branch_id": world.branch("BJ-HD")}
    )
    assert again.status_code == 409
    assert again.json()["errors"][0]["field"] == "/body/name"
    customer_id = (await kit.create(bj, branch_id=world.branch("BJ-HD")))["id"]
    url = f"{BASE}/customers/{customer_id}/tags"
    tagged = await bj.post(url, json={"tag_id": vip["id"]})
    assert tagged.status_code == 200
    assert [t["name"] for t in tagged.json()] == ["贵宾客户"]
    assert (await bj.post(url, json={"tag_id": vip["id"]})).status_code == 200  # idempotent
    wrong_branch = await bj.post(url, json={"tag_id": other["id"]})
    assert wrong_branch.status_code == 422
    renamed = await bj.patch(f"{BASE}/tags/{vip['id']}", json={"name": "私行客户"})
    assert renamed.json()["name"] == "私行客户"
    assert [t["name"] for t in (await bj.get(url)).json()] == ["私行客户"]
    assert (await bj.delete(f"{url}/{vip['id']}")).status_code == 204
    assert (await bj.get(url)).json() == []
    await bj.post(url, json={"tag_id": vip["id"]})
    assert (await bj.delete(f"{BASE}/tags/{vip['id']}")).status_code == 204
    assert (await bj.get(url)).json() == []

    product = {"code": "WM-90D", "name": "稳健理财90天", "category": "wealth"}
    rm = await world.client("demo.bj.rm")
    assert (await rm.post(f"{BASE}/products", json=product)).status_code == 403
    created = await bj.post(f"{BASE}/products", json=product)
    assert created.status_code == 201, created.text
    assert (await bj.post(f"{BASE}/products", json=product)).status_code == 409
    retired = await bj.patch(f"{BASE}/products/{created.json()['id']}", json={"active": False})
    assert retired.json()["active"] is False
    listed = (await rm.get(f"{BASE}/products", params={"category": "wealth"})).json()
    assert [p["code"] for p in listed] == ["WM-90D"]
    (update,) = await kit.audit(created.json()["id"], "update", "customer_archive.product")
    assert update["branch_id"] is None
