"""Opportunities: the pipeline's entry criteria, closed stages, conversion of a lead in
one audited transaction, activities on the timeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bankcrm_sdk.world import World

BASE = "/api/v1/sales"


def names(response: Any) -> set[str]:
    return {e["field"] for e in response.json().get("errors", [])}


async def _opportunity(world: World, kit: Any, client: Any, **extra: Any) -> dict[str, Any]:
    customer = await kit.customer(client)
    body = {"customer_id": customer, "title": "家庭财富配置", **extra}
    response = await client.post(f"{BASE}/opportunities", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_stages_check_criteria_and_closed_never_moves_back(world: World, kit: Any) -> None:
    manager = await world.client("demo.bj.manager")
    opp = await _opportunity(world, kit, manager)
    url = f"{BASE}/opportunities/{opp['id']}"
    assert opp["stage"] == "discovery"
    assert opp["probability"] == 10
    assert opp["owner"] == world.users["demo.bj.manager"]  # BJ: its manager is its employee
    # Won without products: refused naming the products.
    won = await manager.post(f"{url}/stage", json={"stage": "won"})
    assert won.status_code == 422, won.text
    assert "/body/products" in names(won)
    # Proposal needs products and an expected close date.
    proposal = await manager.post(f"{url}/stage", json={"stage": "proposal"})
    assert proposal.status_code == 422
    assert {"/body/products", "/body/expected_close"} <= names(proposal)
    code = await kit.product_code()
    put = await manager.put(f"{url}/products",
                            json=[{"product_code": code, "unit_price": "150000.00", "quantity": 2,
                                   "options": {"term_months": 12}}])  # fmt: skip
    assert put.status_code == 200, put.text
    assert put.json()["amount"] == "300000.00"
    close = (datetime.now(UTC) + timedelta(days=20)).date().isoformat()
    assert (await manager.patch(url, json={"expected_close": close})).status_code == 200
    moved = await manager.post(f"{url}/stage", json={"stage": "proposal"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["probability"] == 60
    lost = await manager.post(f"{url}/stage", json={"stage": "lost"})
    assert lost.status_code == 422
    assert "/body/lost_reason" in names(lost)
    done = await manager.post(f"{url}/stage", json={"stage": "won"})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "won"
    assert done.json()["next_follow_up_at"] is None
    assert [s["to_stage"] for s in done.json()["stages"]] == ["discovery", "proposal", "won"]
    back = await manager.post(f"{url}/stage", json={"stage": "negotiation"})
    assert back.status_code == 409, back.text
    assert "/body/stage" in names(back)
    unknown = await manager.post(f"{url}/stage", json={"stage": "nope"})
    assert unknown.status_code == 422
    assert "/body/stage" in names(unknown)
    trail = await kit.audit("sales.opportunity", opp["id"])
    assert [r["action"] for r in trail] == ["create", "update", "update", "update", "update"]


async def test_conversion_creates_or_links_the_customer_in_one_transaction(
    world: World, kit: Any
) -> None:
    manager = await world.client("demo.bj.manager")
    lead = await kit.lead(manager, branch_id=world.branch("BJ-HD"), company="星海科技")
    url = f"{BASE}/leads/{lead['id']}/convert"
    # A bad opportunity fails the whole conversion: no customer, no opportunity.
    bad = await manager.post(url, json={
        "id_type": "resident_id", "id_number": "110105198501011234",
        "opportunity": {"customer_id": 1, "title": "x", "stage": "won"}})  # fmt: skip
    assert bad.status_code == 422, bad.text
    assert await kit.owner_fetch("SELECT id FROM sales_opportunity") == []
    assert (
        await kit.owner_fetch("SELECT id FROM customer_archive_customer WHERE name = '赵敏'") == []
    )
    missing = await manager.post(url, json={})
    assert missing.status_code == 422
    assert "/body/id_number" in names(missing)

    converted = await manager.post(url, json={"id_type": "resident_id",
                                              "id_number": "110105198501011234"})  # fmt: skip
    assert converted.status_code == 201, converted.text
    answer = converted.json()
    assert answer["customer_created"] is True
    assert answer["opportunity"]["owner"] == lead["owner"]
    assert answer["opportunity"]["lead"] == lead["id"]
    again = await manager.post(url, json={"id_type": "resident_id",
                                          "id_number": "110105198501011234"})  # fmt: skip
    assert again.status_code == 409
    assert "/body/status" in names(again)
    trail = await kit.audit("sales.lead", lead["id"])
    assert [r["action"] for r in trail] == ["create", "update"]
    assert "converted" in trail[-1]["reason"]

    # Another lead of the same person: the archive's duplicate check finds them; linked.
    second = await kit.lead(manager, branch_id=world.branch("BJ-HD"), prospect_name="赵敏")
    linked = await manager.post(f"{BASE}/leads/{second['id']}/convert",
                                json={"id_type": "resident_id",
                                      "id_number": "110105198501011234"})  # fmt: skip
    assert linked.status_code == 201, linked.text
    assert linked.json()["customer_created"] is False
    assert linked.json()["customer"] == answer["customer"]


async def test_activities_set_the_follow_up_and_reach_the_timeline(world: World, kit: Any) -> None:
    manager = await world.client("demo.bj.manager")
    customer = await kit.customer(manager)
    lead = await kit.lead(manager, customer_id=customer, phone=None, prospect_name=None)
    assert lead["prospect_name"] == "钱进"
    now = datetime.now(UTC)
    body = {"kind": "call", "lead_id": lead["id"], "at": (now - timedelta(hours=1)).isoformat(),
            "result": "客户同意面谈", "intent": "strong", "next_step": "带方案上门"}  # fmt: skip
    past = await manager.post(f"{BASE}/activities", json={
        **body, "next_follow_up_at": (now - timedelta(minutes=5)).isoformat()})  # fmt: skip
    assert past.status_code == 422
    assert names(past) == {"/body/next_follow_up_at"}
    none = await manager.post(f"{BASE}/activities", json=body)
    assert none.status_code == 422
    assert "/body/next_follow_up_at" in names(none)
    due = (now + timedelta(days=2)).isoformat()
    made = await manager.post(f"{BASE}/activities", json={**body, "next_follow_up_at": due})
    assert made.status_code == 201, made.text
    after = (await manager.get(f"{BASE}/leads/{lead['id']}")).json()
    assert after["status"] == "contacted"
    assert after["next_follow_up_at"][:16] == due[:16]
    timeline = await manager.get(f"/api/v1/customer_archive/customers/{customer}/timeline")
    assert timeline.status_code == 200, timeline.text
    kinds = [i["kind"] for i in timeline.json()["items"]]
    assert "sales.activity_call" in kinds
