"""Sending: contacts go out once through a gateway (SMS, e-mail, WeChat) or to the staff
(calls, visits), under the contact rules checked again at send time; the job is safe to
run twice; responses are recorded, and an opt-out flags the customer."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bankcrm_marketing import contacts
from bankcrm_marketing.messages import OutgoingMessage
from bankcrm_sdk.world import World

SHANGHAI = ZoneInfo("Asia/Shanghai")
OPEN = datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI)  # a Monday, branch open 9:00-17:00
NIGHT = datetime(2026, 12, 7, 21, 0, tzinfo=SHANGHAI)


async def sms_campaign(world: World, kit: Any, count: int = 20, **fields: Any) -> dict[str, Any]:
    manager = await world.client("demo.bj.manager")
    await kit.customers("BJ-HD", count)
    body = {"channel": "sms", "control_share": 0.2, "seed": 7, "branch_id": world.branch("BJ-HD")}
    created = await kit.create(manager, **{**body, **fields})
    assert (await manager.post(f"{kit.base}/{created['id']}/target")).status_code == 200
    launched = await manager.post(f"{kit.base}/{created['id']}/launch")
    assert launched.status_code == 200, launched.text
    assert launched.json()["status"] == "active"
    return created


def gateway(
    make_plugin: Any, kernel_with: Any, sent: list[OutgoingMessage], fail: bool = False
) -> Any:
    def send(message: OutgoingMessage) -> str:
        if fail:
            raise ConnectionError("gateway down")
        sent.append(message)
        return f"gw-{message.contact_id}"

    plugin = make_plugin("smsgw", requires=["marketing"], hooks={"marketing_send_message": send})
    return kernel_with([plugin]).registry


async def test_hook_marketing_send_message_sends_each_contact_once(
    world: World, kit: Any, make_plugin: Any, kernel_with: Any
) -> None:
    campaign = await sms_campaign(world, kit)
    members = await kit.owner_fetch(
        'SELECT customer, "group" FROM marketing_member WHERE campaign = $1', campaign["id"]
    )
    target = sorted(r["customer"] for r in members if r["group"] == "target")
    control = {r["customer"] for r in members if r["group"] == "control"}
    assert control  # held out: never contacted
    manager = await world.client("demo.bj.manager")
    # A refusal recorded after the launch still stops the message.
    refused = target[0]
    flag = await manager.post(
        "/api/v1/marketing/do-not-contact", json={"customer_id": refused, "channel": "sms"}
    )
    assert flag.status_code == 201, flag.text
    sent: list[OutgoingMessage] = []
    registry = gateway(make_plugin, kernel_with, sent)
    with world.bind(await world.scope_of("BJ")):
        first = await contacts.send_due(campaign["id"], now=OPEN, registry=registry)
        second = await contacts.send_due(campaign["id"], now=OPEN, registry=registry)
    assert (first.sent, first.skipped) == (len(target) - 1, 1)
    assert (second.sent, second.skipped) == (0, 0)
    assert sorted(m.customer_id for m in sent) == target[1:]
    assert not control & {m.customer_id for m in sent}
    assert {m.body for m in sent} == {"尊敬的客户，本月理财新品上线。"}
    assert all(m.address.startswith("139") for m in sent)
    assert len({m.idempotency_key for m in sent}) == len(sent)
    rows = await kit.owner_fetch(
        "SELECT customer, status, reason, provider_ref FROM marketing_contact ORDER BY customer"
    )
    assert [(r["status"], r["reason"]) for r in rows if r["customer"] == refused] == [
        ("skipped", "do_not_contact")
    ]
    refs = {r["provider_ref"] for r in rows if r["status"] == "sent"}
    assert refs == {f"gw-{m.contact_id}" for m in sent}
    listed = await manager.get(f"{kit.base}/{campaign['id']}/contacts", params={"status": "sent"})
    assert len(listed.json()["items"]) == len(target) - 1


async def test_messages_wait_for_the_branch_to_open(
    world: World, kit: Any, make_plugin: Any, kernel_with: Any
) -> None:
    campaign = await sms_campaign(world, kit, count=5, control_share=0.0)
    sent: list[OutgoingMessage] = []
    registry = gateway(make_plugin, kernel_with, sent)
    with world.bind(await world.scope_of("BJ")):
        night = await contacts.send_due(campaign["id"], now=NIGHT, registry=registry)
        assert (night.held, night.sent, sent) == (5, 0, [])
        rows = await kit.owner_fetch("SELECT status, reason, scheduled_at FROM marketing_contact")
        opening = datetime(2026, 12, 8, 9, 0, tzinfo=SHANGHAI)
        assert {(r["status"], r["reason"], r["scheduled_at"]) for r in rows} == {
            ("queued", "quiet_hours", opening)
        }
        assert (await contacts.send_due(now=NIGHT, registry=registry)).held == 0  # not due
        morning = await contacts.send_due(now=opening, registry=registry)
    assert morning.sent == 5
    assert len(sent) == 5


async def test_without_a_gateway_a_message_fails_with_the_reason(world: World, kit: Any) -> None:
    campaign = await sms_campaign(world, kit, count=3, control_share=0.0)
    with world.bind(await world.scope_of("BJ")):
        result = await contacts.send_due(campaign["id"], now=OPEN, registry=world.kernel.registry)
    assert result.failed == 3
    rows = await kit.owner_fetch("SELECT status, reason FROM marketing_contact")
    assert {(r["status"], r["reason"]) for r in rows} == {
        ("failed", "no gateway for the channel sms")
    }


async def test_a_failing_gateway_is_retried_then_given_up(
    world: World, kit: Any, make_plugin: Any, kernel_with: Any
) -> None:
    campaign = await sms_campaign(world, kit, count=2, control_share=0.0)
    registry = gateway(make_plugin, kernel_with, [], fail=True)
    with world.bind(await world.scope_of("BJ")):
        for attempt in range(1, contacts.MAX_ATTEMPTS):
            result = await contacts.send_due(campaign["id"], now=OPEN, registry=registry)
            assert (result.retry, result.failed) == (2, 0), attempt
        last = await contacts.send_due(campaign["id"], now=OPEN, registry=registry)
    assert last.failed == 2
    rows = await kit.owner_fetch("SELECT status, attempts, reason FROM marketing_contact")
    assert {(r["status"], r["attempts"], r["reason"]) for r in rows} == {
        ("failed", contacts.MAX_ATTEMPTS, "gateway: gateway down")
    }


async def test_calls_go_to_the_staff_once_through_the_job(
    world: World, kit: Any, job_worker: Any
) -> None:
    manager = await world.client("demo.bj.manager")
    await kit.customers("BJ-HD", 6)
    created = await kit.create(
        manager, channel="call", control_share=0.0, branch_id=world.branch("BJ-HD")
    )
    url = f"{kit.base}/{created['id']}"
    rm = world.users["demo.bj.rm"]
    await manager.post(f"{url}/staff", json={"user_id": rm, "role": "外呼"})
    await manager.post(f"{url}/target")
    harness = await job_worker()
    assert (await manager.post(f"{url}/launch")).status_code == 200
    await harness.drain()
    await harness.drain()  # a second run changes nothing
    rows = await kit.owner_fetch("SELECT id, status, assigned_to FROM marketing_contact")
    assert {(r["status"], r["assigned_to"]) for r in rows} == {("sent", rm)}
    notes = await kit.owner_fetch(
        "SELECT recipient, params, title_zh FROM bankcrm_notification WHERE template = $1",
        contacts.CONTACT_TASKS,
    )
    assert [(n["recipient"], n["title_zh"]) for n in notes] == [
        (rm, "营销活动「季度回访计划」：6 位客户待电话")
    ]

    contact_id = rows[0]["id"]
    bj_rm = await world.client("demo.bj.rm")
    answer = await bj_rm.post(
        f"/api/v1/marketing/contacts/{contact_id}/response",
        json={"response": "opt_out", "note": "客户要求不再联系"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["response"] == "opt_out"
    flags = await kit.owner_fetch("SELECT customer, channel FROM marketing_do_not_contact")
    assert [(f["customer"], f["channel"]) for f in flags] == [(answer.json()["customer_id"], "all")]
    bad = await bj_rm.post(
        f"/api/v1/marketing/contacts/{contact_id}/response", json={"response": "maybe"}
    )
    assert kit.refused(bad, 422)
    sh = await world.client("demo.sh.manager")
    assert kit.refused(await sh.get(f"/api/v1/marketing/contacts/{contact_id}"), 404)
    timeline = await manager.get(
        f"/api/v1/customer_archive/customers/{answer.json()['customer_id']}/timeline"
    )
    assert timeline.status_code == 200, timeline.text
    assert "营销活动「季度回访计划」：电话外呼" in timeline.text


async def test_a_response_needs_a_contact_made(world: World, kit: Any) -> None:
    campaign = await sms_campaign(world, kit, count=2, control_share=0.0)
    rows = await kit.owner_fetch("SELECT id FROM marketing_contact")
    manager = await world.client("demo.bj.manager")
    response = await manager.post(
        f"/api/v1/marketing/contacts/{rows[0]['id']}/response", json={"response": "accepted"}
    )
    assert kit.refused(response, 409)
    assert campaign["id"]
