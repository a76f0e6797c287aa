"""Contact channels, relations between customers and households."""

import json
from typing import Any

import httpx

from bankcrm_sdk.world import World

BASE = "/api/v1/customer_archive"


async def _person(kit: Any, client: httpx.AsyncClient, order: str, **more: Any) -> int:
    customer: dict[str, Any] = await kit.create(
        client, id_number=kit.resident_id(order=order), **more
    )
    return int(customer["id"])


async def _company(kit: Any, client: httpx.AsyncClient, body: str, **more: Any) -> int:
    customer: dict[str, Any] = await kit.create(
        client, kind="corporate", name="北京恒信科技有限公司", id_type="uscc",
        id_number=kit.uscc(body), **more,
    )  # fmt: skip
    return int(customer["id"])


async def test_channels_crud_primary_masking_and_audit(
    world: World, kit: Any, bj: httpx.AsyncClient
) -> None:
    customer_id = await _person(kit, bj, "301")
    url = f"{BASE}/customers/{customer_id}/channels"
    first = await bj.post(url, json={"kind": "mobile", "value": "138 1234 5678",
                                     "is_primary": True})  # fmt: skip
    assert first.status_code == 201, first.text
    assert first.json()["value"] == "138****5678"
    second = await bj.post(url, json={"kind": "mobile", "value": "13987654321",
                                      "is_primary": True, "label": "工作"})  # fmt: skip
    assert second.status_code == 201, second.text
    email = await bj.post(url, json={"kind": "email", "value": "Wang.XY@163.com"})
    assert email.json()["value"] == "w***@163.com"
    wechat = await bj.post(url, json={"kind": "wechat", "value": "wxy_1985"})
    assert wechat.json()["value"] == "wxy_1985"

    listed = (await bj.get(url)).json()
    mobiles = [c for c in listed if c["kind"] == "mobile"]
    assert [c["is_primary"] for c in mobiles] == [True, False]
    assert mobiles[0]["id"] == second.json()["id"]

    duplicate = await bj.post(url, json={"kind": "mobile", "value": "13812345678"})
    assert duplicate.status_code == 409
    bad = await bj.post(url, json={"kind": "mobile", "value": "010-62345678"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "/body/value"
    assert (await bj.post(url, json={"kind": "wechat", "value": "x"})).status_code == 422
    assert (await bj.post(url, json={"kind": "email", "value": "nope"})).status_code == 422

    channel_id = first.json()["id"]
    patched = await bj.patch(f"{url}/{channel_id}", json={"is_primary": True, "label": "私人"})
    assert patched.status_code == 200
    assert patched.json()["is_primary"] is True
    assert (await bj.delete(f"{url}/{channel_id}")).status_code == 204
    (created,) = await kit.audit(channel_id, "create", "customer_archive.contact_channel")
    assert json.loads(created["after"])["value"] == "138****5678"
    assert "13812345678" not in created["after"]
    (deleted,) = await kit.audit(channel_id, "delete", "customer_archive.contact_channel")
    assert json.loads(deleted["before"])["value"] == "138****5678"

    sh = await world.client("demo.sh.manager")
    assert (await sh.get(url)).status_code == 404
    assert (await sh.post(url, json={"kind": "wechat", "value": "wxy_1985x"})).status_code == 404
    assert (await sh.delete(f"{url}/{second.json()['id']}")).status_code == 404


async def test_symmetric_relations_are_mirrored_and_removed_together(
    world: World, kit: Any, bj: httpx.AsyncClient
) -> None:
    husband = await _person(kit, bj, "301", name="张伟")
    wife = await _person(kit, bj, "302", name="李娜", branch_id=world.branch("BJ-CY"))
    child = await _person(kit, bj, "303", name="张小伟")
    response = await bj.post(f"{BASE}/customers/{husband}/relations",
                             json={"kind": "spouse", "related_id": wife})  # fmt: skip
    assert response.status_code == 201, response.text
    relation = response.json()
    assert (relation["related_name"], relation["direction"]) == ("李娜", "outgoing")
    mirror = (await bj.get(f"{BASE}/customers/{wife}/relations")).json()
    assert [(r["kind"], r["related_id"]) for r in mirror] == [("spouse", husband)]

    # "The child's parent is the husband" is mirrored as "the husband's child".
    response = await bj.post(f"{BASE}/customers/{child}/relations",
                             json={"kind": "parent", "related_id": husband})  # fmt: skip
    assert response.status_code == 201, response.text
    seen = {(r["kind"], r["related_id"]) for r in
            (await bj.get(f"{BASE}/customers/{husband}/relations")).json()}  # fmt: skip
    assert seen == {("spouse", wife), ("child", child)}

    again = await bj.post(f"{BASE}/customers/{wife}/relations",
                          json={"kind": "spouse", "related_id": husband})  # fmt: skip
    assert again.status_code == 409
    assert (
        await bj.delete(f"{BASE}/customers/{husband}/relations/{relation['id']}")
    ).status_code == 204
    assert (await bj.get(f"{BASE}/customers/{wife}/relations")).json() == []
    rows = await kit.audit(relation["id"], "delete", "customer_archive.relation")
    assert json.loads(rows[0]["before"])["kind"] == "spouse"


async def test_corporate_relations_and_share_ratio(
    world: World, kit: Any, bj: httpx.AsyncClient
) -> None:
    company = await _company(kit, bj, "91110108MA01ABCD1")
    owner = await _person(kit, bj, "301")
    guarantor = await _person(kit, bj, "303")
    url = f"{BASE}/customers/{company}/relations"
    response = await bj.post(url, json={"kind": "shareholder", "related_id": owner,
                                        "share_ratio": 62.5})  # fmt: skip
    assert response.status_code == 201, response.text
    assert response.json()["share_ratio"] == "62.5000"
    response = await bj.post(url, json={"kind": "legal_representative", "related_id": owner})
    assert response.status_code == 201
    response = await bj.post(url, json={"kind": "guarantor", "related_id": guarantor})
    assert response.status_code == 201
    # One-way relations show at their target as incoming.
    incoming = (await bj.get(f"{BASE}/customers/{guarantor}/relations")).json()
    assert [(r["kind"], r["direction"], r["related_id"]) for r in incoming] == [
        ("guarantor", "incoming", company)
    ]
    for body, field in [
        (
            {"kind": "shareholder", "related_id": guarantor, "share_ratio": 120},
            "/body/share_ratio",
        ),
        ({"kind": "spouse", "related_id": owner}, "/body/kind"),
        ({"kind": "guarantor", "related_id": guarantor, "share_ratio": 5}, "/body/share_ratio"),
        ({"kind": "guarantor", "related_id": company}, "/body/related_id"),
    ]:
        response = await bj.post(url, json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["errors"][0]["field"] == field
    # An individual has no shareholders.
    response = await bj.post(f"{BASE}/customers/{owner}/relations",
                             json={"kind": "shareholder", "related_id": company})  # fmt: skip
    assert response.status_code == 422


async def test_relation_to_an_invisible_customer_is_refused(
    world: World, kit: Any, bj: httpx.AsyncClient
) -> None:
    sh = await world.client("demo.sh.manager")
    mine = await _person(kit, bj, "301")
    theirs = await _person(kit, sh, "302", branch_id=world.branch("SH"))
    response = await bj.post(f"{BASE}/customers/{mine}/relations",
                             json={"kind": "spouse", "related_id": theirs})  # fmt: skip
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "/body/related_id"
    response = await sh.post(f"{BASE}/customers/{theirs}/relations",
                             json={"kind": "spouse", "related_id": mine})  # fmt: skip
    assert response.status_code == 422
    response = await sh.post(f"{BASE}/customers/{mine}/relations",
                             json={"kind": "spouse", "related_id": theirs})  # fmt: skip
    assert response.status_code == 404
    assert await kit.audit(mine, None, "customer_archive.relation") == []


async def test_households(world: World, kit: Any, bj: httpx.AsyncClient) -> None:
    head = await _person(kit, bj, "301", name="张伟")
    spouse = await _person(kit, bj, "302", name="李娜", branch_id=world.branch("BJ-CY"))
    child = await _person(kit, bj, "303", name="张小伟")
    company = await _company(kit, bj, "91110108MA01ABCD1")
    body = {"name": "张伟家庭", "head_id": head, "customer_ids": [spouse]}
    response = await bj.post(f"{BASE}/households", json=body)
    assert response.status_code == 201, response.text
    household = response.json()
    assert household["branch_id"] == world.branch("BJ")  # the head's branch
    assert [(m["customer_id"], m["role"]) for m in household["members"]] == [
        (head, "head"), (spouse, "member"),
    ]  # fmt: skip
    url = f"{BASE}/households/{household['id']}"
    added = await bj.post(f"{url}/members", json={"customer_id": child})
    assert added.status_code == 201
    assert len(added.json()["members"]) == 3
    # One household per customer; companies are not members.
    other = await bj.post(f"{BASE}/households", json={"name": "x", "head_id": child})
    assert other.status_code == 409
    assert other.json()["errors"][0]["field"] == "/body/head_id"
    assert (await bj.post(f"{url}/members", json={"customer_id": company})).status_code == 422

    assert (await bj.get(f"{BASE}/customers/{spouse}/household")).json()["id"] == household["id"]
    assert (await bj.delete(f"{url}/members/{head}")).status_code == 409
    patched = await bj.patch(url, json={"head_id": spouse, "name": "李娜家庭"})
    assert patched.status_code == 200, patched.text
    assert patched.json()["head_id"] == spouse
    roles = {m["customer_id"]: m["role"] for m in patched.json()["members"]}
    assert roles == {head: "member", spouse: "head", child: "member"}
    assert (await bj.patch(url, json={"head_id": company})).status_code == 422
    assert (await bj.delete(f"{url}/members/{child}")).status_code == 204
    assert (await bj.get(f"{BASE}/customers/{child}/household")).json() is None

    sh = await world.client("demo.sh.manager")
    assert (await sh.get(url)).status_code == 404
    assert (await sh.delete(url)).status_code == 404
    assert (await bj.delete(url)).status_code == 204
    (deleted,) = await kit.audit(household["id"], "delete", "customer_archive.household")
    assert sorted(json.loads(deleted["before"])["member_ids"]) == sorted([head, spouse])
