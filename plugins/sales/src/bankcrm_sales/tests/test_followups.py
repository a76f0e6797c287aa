"""Follow-up discipline on a clock the test controls: reminder, escalation to the
manager with a flag, reassignment by the rules; each tick idempotent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bankcrm import business_calendar, db, jobs
from bankcrm_sales import followups
from bankcrm_sales.actors import follow_up_sweep
from bankcrm_sdk.world import World

MINUTE = timedelta(minutes=1)


async def notices(kit: Any, template: str) -> list[int]:
    rows = await kit.owner_fetch(
        "SELECT recipient FROM bankcrm_notification WHERE template = $1 ORDER BY id", template
    )
    return [r["recipient"] for r in rows]


async def test_remind_escalate_reassign_each_once(world: World, kit: Any) -> None:
    manager = await world.client("demo.bj.manager")
    lead = await kit.lead(manager, branch_id=world.branch("BJ-HD"))
    rm, boss = world.users["demo.bj.rm"], world.users["demo.bj.manager"]
    assert lead["owner"] == rm
    branch = world.branch("BJ-HD")
    with world.bind(world.system_scope()):
        calendar = await business_calendar.calendar_for(branch)
    due = calendar.add(datetime.now(UTC) + timedelta(days=2), timedelta(hours=1))
    await kit.owner_fetch("UPDATE sales_lead SET next_follow_up_at = $1", due)

    async def tick(now: datetime) -> followups.SweepResult:
        with world.bind(world.system_scope()):
            return await followups.sweep(now)

    early = await tick(calendar.subtract(due, timedelta(hours=3)))
    assert (early.reminded, early.escalated, early.reassigned) == (0, 0, 0)
    reminded = calendar.subtract(due, timedelta(hours=1))
    assert (await tick(reminded)).reminded == 1
    assert (await tick(reminded)).reminded == 0  # the same tick again: nothing
    assert await notices(kit, "sales.follow_up_due") == [rm]

    overdue = calendar.add(due, timedelta(hours=8)) + MINUTE
    first = await tick(overdue)
    assert (first.reminded, first.escalated, first.reassigned) == (0, 1, 0)
    assert (await tick(overdue)).escalated == 0
    assert await notices(kit, "sales.follow_up_escalated") == [boss]
    assert await notices(kit, "sales.follow_up_overdue") == [rm]
    flagged = (await manager.get(f"/api/v1/sales/leads/{lead['id']}")).json()
    assert flagged["flagged"] is True

    idle = calendar.add(due, timedelta(hours=8 + 16)) + MINUTE
    moved = await tick(idle)
    assert (moved.escalated, moved.reassigned, moved.skipped) == (0, 1, [])
    assert (await tick(idle)).reassigned == 0
    after = (await manager.get(f"/api/v1/sales/leads/{lead['id']}")).json()
    # Nobody else in BJ-HD has room: the branch manager (the engine's fallback) takes it.
    assert after["owner"] == boss
    assert after["flagged"] is False
    assert after["next_follow_up_at"] > due.isoformat()
    assert sorted(await notices(kit, "sales.work_reassigned")) == sorted([rm, boss])
    history = (await manager.get(f"/api/v1/sales/leads/{lead['id']}/follow-ups")).json()
    assert [h["step"] for h in history] == ["reminded", "escalated", "reassigned"]
    assert history[-1]["new_owner"] == boss
    assert history[1]["notified"] == [rm, boss]
    trail = await kit.audit("sales.lead", lead["id"])
    assert trail[-1]["reason"] == "逾期未跟进，按规则重新分配"
    # The former owner no longer sees it; the history is not theirs to read either.
    gone = await (await world.client("demo.bj.rm")).get(f"/api/v1/sales/leads/{lead['id']}")
    assert gone.status_code == 404


async def test_an_activity_stops_the_escalation(world: World, kit: Any, job_worker: Any) -> None:
    manager = await world.client("demo.bj.manager")
    lead = await kit.lead(manager, branch_id=world.branch("BJ-HD"))
    now = datetime.now(UTC)
    # Long overdue: the next sweep would escalate and reassign it ...
    await kit.owner_fetch("UPDATE sales_lead SET next_follow_up_at = $1", now - timedelta(days=9))
    rm = await world.client("demo.bj.rm")
    call = {
        "kind": "call",
        "lead_id": lead["id"],
        "at": (now - MINUTE).isoformat(),
        "result": "已联系",
        "next_follow_up_at": (now + timedelta(days=30)).isoformat(),
    }
    done = await rm.post("/api/v1/sales/activities", json=call)
    assert done.status_code == 201, done.text
    # ... but the owner called: the scheduler's message (delivered twice) finds nothing.
    harness = await job_worker()
    for _ in range(2):
        with world.bind(world.system_scope()):
            async with db.transaction():
                await jobs.enqueue(follow_up_sweep, (now + MINUTE).isoformat())
        await harness.drain()
    assert await kit.owner_fetch("SELECT step FROM sales_follow_up_step") == []
    owner = await kit.owner_fetch("SELECT owner, flagged FROM sales_lead")
    assert [(r["owner"], r["flagged"]) for r in owner] == [(world.users["demo.bj.rm"], False)]
