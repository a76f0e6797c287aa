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


async def test_the_import_template_imports_and_its_batch_page_offers_the_commit(
    world: World, bj: httpx.AsyncClient, catalogue: dict[str, int]
) -> None:
    template = await bj.get(f"{BASE}/imports/template", params={"kind": "customer"})
    assert template.status_code == 200, template.text
    assert template.content[:2] == b"PK"
    uploaded = await bj.post(
        f"{BASE}/imports",
        files={"file": ("客户导入模板.xlsx", template.content)},
        data={"branch_id": str(world.branch("BJ-HD"))},
    )
    assert uploaded.status_code == 201, uploaded.text
    batch = uploaded.json()
    assert (batch["total_rows"], batch["valid_rows"]) == (1, 1), batch
    page = await bj.get(f"{PAGES}/imports/{batch['id']}")
    assert page.status_code == 200, page.text
    assert "已校验，待提交" in page.text
    assert f"/api/v1/customer_archive/imports/{batch['id']}/commit" in page.text
    listing = await bj.get(f"{PAGES}/imports")
    assert "客户导入模板.xlsx" in listing.text
    assert "data-upload" in listing.text


async def test_the_forms_and_lists_render_for_who_may_use_them(
    world: World, bj: httpx.AsyncClient
) -> None:
    form = await bj.get(f"{PAGES}/customers/new")
    assert form.status_code == 200, form.text
    for expected in (
        "新建客户",
        "居民身份证",
        "北京海淀支行",
        'data-url="/api/v1/customer_archive/customers"',
    ):
        assert expected in form.text, expected
    duplicates = await bj.get(f"{PAGES}/duplicates")
    assert duplicates.status_code == 200, duplicates.text
    assert "疑似重复客户" in duplicates.text
    teller = await world.client("demo.teller")
    refused = await teller.get(f"{PAGES}/customers/new")
    assert refused.status_code == 403
    assert "无权访问" in refused.text
    home = await bj.get("/app/")
    for link in ("客户查询", "新建客户", "客户导入", "疑似重复客户"):
        assert link in home.text, link


async def test_rest_answers_carry_labels_of_their_codes_in_the_asked_language(
    world: World, kit: Any, bj: httpx.AsyncClient
) -> None:
    customer_id = (await kit.create(bj, branch_id=world.branch("BJ-HD")))["id"]
    chinese = (
        await bj.get(f"{BASE}/customers/{customer_id}", headers={"Accept-Language": "zh-CN"})
    ).json()
    assert (chinese["kind"], chinese["kind_label"]) == ("individual", "个人客户")
    assert chinese["id_type_label"] == "居民身份证"
    assert chinese["status_label"] == "正常"
    english = (await bj.get(f"{BASE}/customers", params={"q": "王秀英"})).json()["items"][0]
    assert english["id_type_label"] == "Resident ID card"
