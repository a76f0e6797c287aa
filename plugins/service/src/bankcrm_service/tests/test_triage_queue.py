"""The kind model reads every new ticket; the unsure ones wait in the manual triage queue
until staff confirm or correct them, and the correction is kept."""

from __future__ import annotations

from typing import Any

from bankcrm_sdk.world import World
from bankcrm_service import triage_queue

QUEUE = "/api/v1/service/triage-queue"


async def test_sure_readings_stand_and_unsure_ones_wait(world: World, kit: Any) -> None:
    manager = await world.client("demo.bj.manager")
    sure = await kit.create(manager, title="银行卡疑似被盗刷，请立即冻结", body="", kind="report")
    unsure = await kit.create(manager, title="hello", body="")
    reading = (await manager.get(f"{kit.base}/{sure['id']}/triage")).json()
    assert (reading["predicted_kind"], reading["state"], reading["model"]) == (
        "report", "auto", triage_queue.MODEL,
    )  # fmt: skip
    assert reading["confidence"] >= triage_queue.THRESHOLD
    waiting = (await manager.get(QUEUE)).json()
    assert [w["ticket"] for w in waiting] == [unsure["id"]]
    assert waiting[0]["confidence"] < triage_queue.THRESHOLD
    assert waiting[0]["title"] == "hello"


async def test_a_correction_is_kept_and_the_ticket_follows(world: World, kit: Any) -> None:
    manager = await world.client("demo.bj.manager")
    ticket = await kit.create(manager, title="hello", body="")
    before = (await manager.get(f"{kit.base}/{ticket['id']}/triage")).json()
    assert before["state"] == "queued"
    kind = "bill" if before["predicted_kind"] != "bill" else "care"
    reviewed = await manager.post(
        f"{kit.base}/{ticket['id']}/triage",
        json={"kind": kind, "priority": "urgent", "note": "客户来电补充：账单金额不对"},
    )
    assert reviewed.status_code == 200, reviewed.text
    body = reviewed.json()
    assert (body["state"], body["final_kind"], body["final_priority"]) == (
        "corrected", kind, "urgent",
    )  # fmt: skip
    assert body["predicted_kind"] == before["predicted_kind"]  # what the model said stays
    assert body["reviewed_by"] == f"user:{world.users['demo.bj.manager']}"
    after = (await manager.get(f"{kit.base}/{ticket['id']}")).json()
    assert (after["kind"], after["priority"], after["sla_hours"]) == (kind, "urgent", 4)
    assert (await manager.get(QUEUE)).json() == []
    corrected = (await manager.get(QUEUE, params={"state": "corrected"})).json()
    assert [c["ticket"] for c in corrected] == [ticket["id"]]
    trail = await kit.audit(ticket["id"])
    assert trail[-1]["reason"] == "客户来电补充：账单金额不对"

    # Agreeing with the model is a confirmation.
    sure = await kit.create(manager, title="建议手机银行增加夜间模式", body="", kind="suggestion")
    reading = (await manager.get(f"{kit.base}/{sure['id']}/triage")).json()
    confirmed = await manager.post(
        f"{kit.base}/{sure['id']}/triage", json={"kind": reading["predicted_kind"]}
    )
    assert confirmed.json()["state"] == "confirmed"


async def test_the_queue_keeps_to_the_branches_in_scope(world: World, kit: Any) -> None:
    bj = await world.client("demo.bj.manager")
    sh = await world.client("demo.sh.manager")
    ticket = await kit.create(bj, title="hello")
    assert (await sh.get(QUEUE)).json() == []
    assert (await sh.get(f"{kit.base}/{ticket['id']}/triage")).status_code == 404
    refused = await sh.post(f"{kit.base}/{ticket['id']}/triage", json={"kind": "bill"})
    assert refused.status_code == 404
    bad = await bj.post(f"{kit.base}/{ticket['id']}/triage", json={"kind": "gossip"})
    assert bad.status_code in (400, 422)
    assert "kind" in bad.text
    teller = await world.client("demo.teller")
    url = f"{kit.base}/{ticket['id']}/triage"
    assert (await teller.post(url, json={"kind": "bill"})).status_code in (403, 404)
