"""Tickets as a bank's service desk uses them: a customer's complaint through a channel,
the status moves and their history, reopening, repeated complaints, the timeline."""

from __future__ import annotations

from typing import Any

from bankcrm_sdk.world import World

CUSTOMERS = "/api/v1/customer_archive/customers"


def resident_id(serial: int) -> str:
    body = f"11010519800101{serial:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


async def a_customer(client: Any, serial: int) -> int:
    response = await client.post(
        CUSTOMERS,
        json={"kind": "individual", "name": "钱进", "id_type": "resident_id",
              "id_number": resident_id(serial), "phone": f"1380000{serial:04d}"},
    )  # fmt: skip
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def test_a_complaint_moves_along_its_statuses_with_history(world: World, kit: Any) -> None:
    rm = await world.client("demo.bj.rm")
    customer = await a_customer(rm, 1)
    ticket = await kit.create(
        rm, title="信用卡年费被重复扣收", body="客户称本月被扣两次年费，要求退还。",
        kind="complaint", channel="phone", customer_id=customer, product_code="CARD-GOLD",
    )  # fmt: skip
    assert (ticket["status"], ticket["customer"], ticket["kind"]) == ("new", customer, "complaint")
    assert ticket["branch_id"] == world.branch("BJ-HD")  # the customer's branch
    url = f"{kit.base}/{ticket['id']}"
    for status in ("in_progress", "waiting_customer", "resolved"):
        moved = await rm.patch(url, json={"status": status, "note": f"转为{status}"})
        assert moved.status_code == 200, moved.text
    assert moved.json()["resolved_at"] is not None
    wrong = await rm.patch(url, json={"status": "waiting_customer"})
    assert wrong.status_code == 409
    assert wrong.json()["type"].endswith("/bad_transition")
    assert wrong.json()["errors"][0]["field"] == "/body/status"
    reopened = await rm.patch(url, json={"status": "in_progress", "note": "客户来电称未到账"})
    assert reopened.status_code == 200, reopened.text
    assert reopened.json()["resolved_at"] is None
    history = (await rm.get(f"{url}/history")).json()
    assert [(h["from_status"], h["to_status"]) for h in history] == [
        (None, "new"), ("new", "in_progress"), ("in_progress", "waiting_customer"),
        ("waiting_customer", "resolved"), ("resolved", "in_progress"),
    ]  # fmt: skip
    assert history[-1]["note"] == "客户来电称未到账"
    assert history[-1]["actor"] == f"user:{world.users['demo.bj.rm']}"

    timeline = (await rm.get(f"{CUSTOMERS}/{customer}/timeline")).json()["items"]
    mine = [i for i in timeline if i["kind"] == "service.ticket"]
    assert mine
    assert "投诉" in mine[0]["title"]
    assert "信用卡年费被重复扣收" in mine[0]["title"]


async def test_a_repeated_complaint_is_linked_and_raised(world: World, kit: Any) -> None:
    rm = await world.client("demo.bj.rm")
    customer = await a_customer(rm, 2)
    first = await kit.create(rm, title="柜面排队过久", kind="complaint", customer_id=customer)
    inquiry = await kit.create(rm, title="理财产品到期日", kind="inquiry", customer_id=customer)
    assert inquiry["repeat_of"] is None
    second = await kit.create(
        rm, title="再次投诉排队", kind="complaint", customer_id=customer, priority="low"
    )
    assert second["repeat_of"] == first["id"]
    assert second["priority"] == "high"
    other = await kit.create(
        rm, title="别的客户", kind="complaint", customer_id=await a_customer(rm, 3)
    )
    assert other["repeat_of"] is None


async def test_a_ticket_for_a_customer_out_of_reach_is_refused(world: World, kit: Any) -> None:
    sh = await world.client("demo.sh.rm")
    theirs = await a_customer(sh, 4)
    bj = await world.client("demo.bj.rm")
    refused = await bj.post(kit.base, json={"title": "x", "customer_id": theirs})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "/body/customer_id"
    assert (await kit.owner_fetch("SELECT count(*) AS n FROM service_ticket"))[0]["n"] == 0
