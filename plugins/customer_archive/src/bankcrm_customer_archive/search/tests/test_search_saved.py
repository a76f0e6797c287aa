"""Saved searches (private) and segments (shared per branch), evaluated live."""

from __future__ import annotations

import json
from typing import Any

import httpx

from bankcrm_sdk.world import World

BASE = "/api/v1/customer_archive"


async def _customers(world: World, kit: Any, bj: httpx.AsyncClient) -> dict[str, int]:
    hd, cy = world.branch("BJ-HD"), world.branch("BJ-CY")
    ids = {}
    for name, branch, order, district in (
        ("王秀英", hd, "002", "海淀区"),
        ("李建国", cy, "003", "朝阳区"),
        ("张伟", hd, "005", "海淀区"),
    ):
        ids[name] = (
            await kit.create(
                bj,
                name=name,
                branch_id=branch,
                phone=None,
                id_number=kit.resident_id("110108", "19800101", order),
                addresses=[
                    {
                        "kind": "home",
                        "province": "北京市",
                        "city": "北京市",
                        "district": district,
                        "street": "学院路1号",
                    }
                ],
            )
        )["id"]
    return ids


async def test_private_saved_search_crud_and_privacy(
    world: World, kit: Any, bj: httpx.AsyncClient
) -> None:
    await _customers(world, kit, bj)
    url = f"{BASE}/saved-searches"
    created = await bj.post(url, json={"name": "海淀客户", "filter": {"address": "海淀"}})
    assert created.status_code == 201, created.text
    saved = created.json()
    assert saved["kind"] == "private"
    assert saved["mine"] is True
    assert saved["filter"] == {"address": "海淀"}
    run = (await bj.get(f"{url}/{saved['id']}/customers")).json()
    assert [c["name"] for c in run["items"]] == ["张伟", "王秀英"]
    assert (await bj.get(f"{url}/{saved['id']}/count")).json() == {"count": 2}
    # Same name twice is refused; a rename and a new filter are audited.
    assert (await bj.post(url, json={"name": "海淀客户", "filter": {}})).status_code == 409
    patched = await bj.patch(
        f"{url}/{saved['id']}", json={"name": "朝阳客户", "filter": {"address": "朝阳"}}
    )
    assert patched.status_code == 200, patched.text
    run = (await bj.get(f"{url}/{saved['id']}/customers")).json()
    assert [c["name"] for c in run["items"]] == ["李建国"]
    rows = await kit.audit(saved["id"], entity="customer_archive.saved_search")
    assert [r["action"] for r in rows] == ["create", "update"]
    assert json.loads(rows[1]["after"])["filter"] == {"address": "朝阳"}

    # Private: another user of the same branch sees nothing of it, not even by id.
    other = await world.client("demo.bj.rm")
    assert (await other.get(url)).json() == []
    for response in (
        await other.get(f"{url}/{saved['id']}"),
        await other.get(f"{url}/{saved['id']}/customers"),
        await other.get(f"{url}/{saved['id']}/count"),
        await other.patch(f"{url}/{saved['id']}", json={"name": "x"}),
        await other.delete(f"{url}/{saved['id']}"),
    ):
        assert response.status_code == 404, response.text
    used = await other.post(f"{BASE}/customers/search", json={"segment_id": saved["id"]})
    assert used.status_code == 422
    # Its owner can use it as a filter and delete it.
    mine = await bj.post(f"{BASE}/customers/search", json={"segment_id": saved["id"]})
    assert [c["name"] for c in mine.json()["items"]] == ["李建国"]
    assert (await bj.delete(f"{url}/{saved['id']}")).status_code == 204
    assert (await bj.get(f"{url}/{saved['id']}")).status_code == 404


async def test_segments_are_shared_live_and_scoped(
    world: World, kit: Any, bj: httpx.AsyncClient
) -> None:
    ids = await _customers(world, kit, bj)
    hd = world.branch("BJ-HD")
    url = f"{BASE}/saved-searches"
    # A relationship manager may keep private searches but not maintain segments.
    rm = await world.client("demo.bj.rm")
    refused = await rm.post(url, json={"name": "s", "kind": "segment", "filter": {}})
    assert refused.status_code == 403
    # Personal data does not belong in a shared definition.
    pii = await bj.post(
        url, json={"name": "p", "kind": "segment", "filter": {"phone": "13812345678"}}
    )
    assert pii.status_code == 422
    segment = (
        await bj.post(
            url,
            json={
                "name": "学院路客户",
                "kind": "segment",
                "branch_id": hd,
                "filter": {"address": "学院路"},
            },
        )
    ).json()
    assert segment["branch_id"] == hd
    # Shared: a user of the branch sees and runs it; only the segment's branch subtree.
    assert [s["name"] for s in (await rm.get(f"{url}?kind=segment")).json()] == ["学院路客户"]
    names = [c["name"] for c in (await rm.get(f"{url}/{segment['id']}/customers")).json()["items"]]
    assert names == ["张伟", "王秀英"]  # 李建国 lives on 学院路 too, but is a BJ-CY customer
    # Live: a change to a customer changes membership at once (no stored member list).
    address = (await bj.get(f"{BASE}/customers/{ids['张伟']}/addresses")).json()[0]
    await bj.patch(
        f"{BASE}/customers/{ids['张伟']}/addresses/{address['id']}", json={"street": "成府路2号"}
    )
    assert (await bj.get(f"{url}/{segment['id']}/count")).json() == {"count": 1}
    # Usable as a filter, combined with others, also in another saved search.
    combined = await bj.post(
        f"{BASE}/customers/search", json={"segment_id": segment["id"], "q": "王秀英"}
    )
    assert [c["name"] for c in combined.json()["items"]] == ["王秀英"]
    nested = (
        await bj.post(url, json={"name": "嵌套", "filter": {"segment_id": segment["id"]}})
    ).json()
    assert (await bj.get(f"{url}/{nested['id']}/count")).json() == {"count": 1}
    # A segment in use cannot be deleted; a search cannot use itself.
    assert (await bj.delete(f"{url}/{segment['id']}")).status_code == 409
    itself = await bj.patch(f"{url}/{nested['id']}", json={"filter": {"segment_id": nested["id"]}})
    assert itself.status_code == 422
    # Another branch does not see it.
    sh = await world.client("demo.sh.manager")
    assert (await sh.get(f"{url}/{segment['id']}")).status_code == 404
    assert (
        await sh.post(f"{BASE}/customers/search", json={"segment_id": segment["id"]})
    ).status_code == 422
