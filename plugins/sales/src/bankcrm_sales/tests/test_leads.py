"""Leads: assignment by the kernel's engine, the owner rules, intake with an
Idempotency-Key, bad input."""

from __future__ import annotations

from typing import Any

from bankcrm_sdk.world import World

LEADS = "/api/v1/sales/leads"


async def test_a_new_lead_is_assigned_scored_due_and_audited(world: World, kit: Any) -> None:
    manager = await world.client("demo.bj.manager")
    lead = await kit.lead(manager, branch_id=world.branch("BJ-HD"), email="zm@example.cn")
    # The only employee of BJ-HD with room is its relationship manager.
    assert lead["owner"] == world.users["demo.bj.rm"]
    assert lead["status"] == "new"
    assert lead["phone"] != "13800138000"
    assert lead["phone"].endswith("8000")
    assert lead["score"] > 0
    assert {r["code"] for r in lead["score_reasons"]} >= {"channel", "need", "contact"}
    assert lead["next_follow_up_at"] is not None
    trail = await kit.audit("sales.lead", lead["id"])
    assert [r["action"] for r in trail] == ["create"]
    assert trail[0]["actor"] == f"user:{world.users['demo.bj.manager']}"
    history = await kit.owner_fetch(
        "SELECT employee_id, how FROM bankcrm_assignment WHERE work_kind = 'sales.lead'"
        " AND item_id = $1",
        str(lead["id"]),
    )
    assert [r["how"] for r in history] == ["default"]
    notes = await kit.owner_fetch(
        "SELECT recipient FROM bankcrm_notification WHERE template = 'sales.lead_assigned'"
    )
    assert [r["recipient"] for r in notes] == [world.users["demo.bj.rm"]]


async def test_owners_see_their_own_managers_their_reports(world: World, kit: Any) -> None:
    manager = await world.client("demo.bj.manager")
    rm = await world.client("demo.bj.rm")
    of_rm = await kit.lead(manager, branch_id=world.branch("BJ-HD"))
    of_manager = await kit.lead(
        manager, branch_id=world.branch("BJ-HD"), owner_id=world.users["demo.bj.manager"]
    )
    assert {i["id"] for i in (await rm.get(LEADS)).json()["items"]} == {of_rm["id"]}
    assert (await rm.get(f"{LEADS}/{of_manager['id']}")).status_code == 404
    seen = {i["id"] for i in (await manager.get(LEADS)).json()["items"]}
    assert seen == {of_rm["id"], of_manager["id"]}
    sh = await world.client("demo.sh.manager")
    assert (await sh.get(f"{LEADS}/{of_rm['id']}")).status_code == 404
    # The relationship manager cannot hand their lead to anyone by writing it.
    assert (await rm.patch(f"{LEADS}/{of_manager['id']}", json={"need": "x"})).status_code == 404


async def test_bad_input_names_the_field(world: World, kit: Any) -> None:
    from datetime import UTC, datetime, timedelta

    manager = await world.client("demo.bj.manager")
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    cases = [
        ({"next_follow_up_at": past}, "/body/next_follow_up_at"),
        ({"product_interest": "NO-SUCH"}, "/body/product_interest"),
        ({"phone": None}, "/body/phone"),
        ({"estimated_amount": "-5"}, "/body/estimated_amount"),
        ({"branch_id": world.branch("SH")}, "/body/branch_id"),
        ({"customer_id": 999999}, "/body/customer_id"),
    ]
    for change, field in cases:
        body = {"channel": "web", "prospect_name": "孙丽", "phone": "13800138000", **change}
        response = await manager.post(LEADS, json=body)
        assert kit_refused(response, 422, field), (change, response.text)
    fax = await manager.post(LEADS, json={"channel": "fax", "prospect_name": "x"})
    assert kit_refused(fax, 422, "/body/channel"), fax.text
    assert await kit.owner_fetch("SELECT id FROM sales_lead") == []


def kit_refused(response: Any, status: int, field: str) -> bool:
    errors = response.json().get("errors", []) if response.status_code < 500 else []
    return response.status_code == status and any(e["field"] == field for e in errors)


async def test_lost_needs_a_reason_and_frees_the_owner(world: World, kit: Any) -> None:
    manager = await world.client("demo.bj.manager")
    lead = await kit.lead(manager, branch_id=world.branch("BJ-HD"))
    url = f"{LEADS}/{lead['id']}"
    assert kit_refused(await manager.patch(url, json={"status": "lost"}), 422, "/body/lost_reason")
    lost = await manager.patch(url, json={"status": "lost", "lost_reason": "客户已在他行办理"})
    assert lost.status_code == 200, lost.text
    assert lost.json()["next_follow_up_at"] is None
    open_rows = await kit.owner_fetch(
        "SELECT id FROM bankcrm_assignment WHERE item_id = $1 AND released_at IS NULL",
        str(lead["id"]),
    )
    assert open_rows == []
    assert kit_refused(await manager.patch(url, json={"need": "再试"}), 422, "/body/status")


async def test_intake_is_idempotent_per_key(world: World, kit: Any) -> None:
    manager = await world.client("demo.bj.manager")
    body = {"channel": "web", "prospect_name": "吴芳", "phone": "13700137000",
            "branch_id": world.branch("BJ-HD"), "external_ref": "form-42"}  # fmt: skip
    url = "/api/v1/sales/intake/leads"
    assert kit_refused(await manager.post(url, json=body), 422, "/header/Idempotency-Key")
    headers = {"Idempotency-Key": "web-form-0001"}
    first = await manager.post(url, json=body, headers=headers)
    assert first.status_code == 201, first.text
    again = await manager.post(url, json=body, headers=headers)
    assert again.status_code == 200, again.text
    assert again.json()["id"] == first.json()["id"]
    other = await manager.post(url, json={**body, "phone": "13700137001"}, headers=headers)
    assert kit_refused(other, 409, "/header/Idempotency-Key")
    assert len(await kit.owner_fetch("SELECT id FROM sales_lead")) == 1
