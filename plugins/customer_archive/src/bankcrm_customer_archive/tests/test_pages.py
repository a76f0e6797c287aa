"""The archive's staff pages: find a customer, and the 360° page rendered from sections."""

from __future__ import annotations

from typing import Any

import httpx

from bankcrm_sdk.world import World

BASE = "/api/v1/customer_archive"
PAGES = "/app/customer_archive"


async def test_the_360_page_shows_every_section_in_the_clerks_terms(
    world: World, kit: Any, bj: httpx.AsyncClient, catalogue: dict[str, int]
) -> None:
    customer_id = (await kit.create(bj, branch_id=world.branch("BJ-HD")))["id"]
    opened = await bj.post(
        f"{BASE}/customers/{customer_id}/holdings",
        json={
            "product_code": "DEP-1Y",
            "account_no": "6222000000000000001",
            "balance": "1234567.5",
        },
    )
    assert opened.status_code == 201, opened.text
    page = await bj.get(f"{PAGES}/customers/{customer_id}")
    assert page.status_code == 200, page.text
    html = page.text
    assert "王秀英" in html
    for label in ("基本信息", "产品持有", "客户动态", "个人客户", "居民身份证", "正常"):
        assert label in html, label
    assert "resident_id" not in html
    assert "1,234,567.50" in html
    assert 'data-masked="id_number"' in html
    assert "开立账户" in html  # the timeline
    assert "<script>" not in html
    english = await bj.get(f"{PAGES}/customers/{customer_id}?lang=en")
    assert "Resident ID card" in english.text

    audit = await bj.get(
        "/api/v1/audit",
        params={"entity": "customer_archive.customer", "entity_id": str(customer_id)},
    )
    assert "view" in [e["action"] for e in audit.json()["items"]]

    found = await bj.get(f"{PAGES}/customers", params={"q": "王秀英"})
    assert found.status_code == 200
    assert f"{PAGES}/customers/{customer_id}" in found.text


async def test_the_page_of_a_customer_out_of_scope_is_a_404_page(
    world: World, kit: Any, bj: httpx.AsyncClient
) -> None:
    customer_id = (await kit.create(bj, branch_id=world.branch("BJ-HD")))["id"]
    shanghai = await world.client("demo.sh.manager")
    page = await shanghai.get(f"{PAGES}/customers/{customer_id}")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "未找到" in page.text
    anonymous = await world.anonymous_client().get(f"{PAGES}/customers/{customer_id}")
    assert anonymous.status_code == 303


async def test_reveal_shows_only_the_chosen_fields_and_audits_them(
    world: World, kit: Any, bj: httpx.AsyncClient
) -> None:
    customer_id = (await kit.create(bj, branch_id=world.branch("BJ-HD")))["id"]
    revealed = await bj.post(
        f"{BASE}/customers/{customer_id}/reveal",
        json={"reason": "客户来电核实", "fields": ["phone"]},
    )
    assert revealed.status_code == 200, revealed.text
    body = revealed.json()
    assert body["fields"] == ["phone"]
    assert body["id_number"] is None
    assert body["phone"]
    audit = await bj.get(
        "/api/v1/audit", params={"entity": "customer_archive.customer", "action": "reveal"}
    )
    assert audit.json()["items"][0]["after"] == {"fields": ["phone"]}
