"""SLAs in business time: due times across a holiday and a weekend, the clock standing
while the ticket waits on the customer, warnings and escalations once each, policies by
kind, priority and tier inherited down the branch tree."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bankcrm import db, jobs
from bankcrm_sdk.world import World
from bankcrm_service import sla
from bankcrm_service.actors import sla_sweep

ZONE = ZoneInfo("Asia/Shanghai")
POLICIES = "/api/v1/service/sla-policies"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of the turn of 2026/27 in Beijing time: Thursday 31 December, then New
    Year's Day (a holiday), the weekend, Monday 4 January."""
    month, year = (12, 2026) if day == 31 else (1, 2027)
    return datetime(year, month, day, hour, minute, tzinfo=ZONE)


class Clock:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = at(31, 15)
        monkeypatch.setattr(sla, "utcnow", lambda: self.now.astimezone(UTC))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


async def notices(kit: Any, template: str) -> list[int]:
    rows = await kit.owner_fetch(
        "SELECT recipient FROM bankcrm_notification WHERE template = $1 ORDER BY created_at",
        template,
    )
    return [r["recipient"] for r in rows]


async def tick(world: World, now: datetime) -> sla.SweepResult:
    with world.bind(await world.scope_of()):
        return await sla.sweep(now)


async def test_the_clock_stands_while_waiting_across_a_holiday_and_a_weekend(
    world: World, kit: Any, clock: Clock
) -> None:
    # Pudong keeps the default hours (Beijing opens on Saturday mornings, see below).
    manager = await world.client("demo.sh.manager")
    rm, boss = world.users["demo.sh.rm"], world.users["demo.sh.manager"]
    ticket = await kit.create(
        manager, title="卡片被盗刷", kind="report", priority="urgent",
        branch_id=world.branch("SH-PD"), assignee=rm,
    )  # fmt: skip
    # Urgent: 4 business hours by default. Thursday 15:00-17:00 is 2; Friday is New Year's
    # Day, then the weekend; Monday 09:00 + 2 hours.
    assert ticket["sla_policy"] is None
    assert ticket["sla_hours"] == 4
    assert datetime.fromisoformat(ticket["sla_due_at"]) == at(4, 11)
    assert datetime.fromisoformat(ticket["sla_warn_at"]) == at(4, 10, 12)  # 80 %: 3.2 h

    clock.now = at(31, 16)  # one hour used: the ticket waits on the customer
    url = f"{kit.base}/{ticket['id']}"
    waiting = (await manager.patch(url, json={"status": "waiting_customer"})).json()
    assert datetime.fromisoformat(waiting["sla_paused_at"]) == at(31, 16)
    # Nothing is due while it waits, whatever the sweep's clock says.
    assert (await tick(world, at(4, 12))).breached == 0

    clock.now = at(4, 10)  # back on Monday at 10:00: 3 business hours are left
    running = (await manager.patch(url, json={"status": "in_progress"})).json()
    assert running["sla_paused_at"] is None
    assert running["sla_paused_seconds"] == 2 * 3600  # Thursday 16-17, Monday 9-10
    assert datetime.fromisoformat(running["sla_due_at"]) == at(4, 13)
    assert datetime.fromisoformat(running["sla_warn_at"]) == at(4, 12, 12)

    assert (await tick(world, at(4, 12))).warned == 0
    warned = await tick(world, at(4, 12, 30))
    assert (warned.warned, warned.breached) == (1, 0)
    assert (await tick(world, at(4, 12, 40))).warned == 0  # once
    assert await notices(kit, "service.sla_warning") == [rm]

    breached = await tick(world, at(4, 13, 1))
    assert (breached.warned, breached.breached) == (0, 1)
    assert (await tick(world, at(4, 13, 2))).breached == 0  # once
    assert await notices(kit, "service.sla_breached") == [rm]
    assert await notices(kit, "service.sla_escalated") == [boss]  # the RM's manager
    after = (await manager.get(url)).json()
    assert datetime.fromisoformat(after["sla_breached_at"]) == at(4, 13)
    steps = (await manager.get(f"{url}/sla")).json()
    assert [(s["step"], s["notified"]) for s in steps] == [
        ("warned", [rm]),
        ("breached", sorted([rm, boss])),
    ]


async def test_a_branch_open_on_saturday_mornings_counts_them(
    world: World, kit: Any, clock: Clock
) -> None:
    """Beijing's sub-branches inherit its Saturday mornings (09:00-12:00); the demo closes
    the Beijing branch itself on 31 December, a day override its sub-branches do not
    share."""
    rm = await world.client("demo.bj.rm")
    haidian = await kit.create(rm, title="挂失", priority="urgent")
    assert datetime.fromisoformat(haidian["sla_due_at"]) == at(2, 11)  # Saturday
    manager = await world.client("demo.bj.manager")
    beijing = await kit.create(manager, title="挂失", priority="urgent")
    assert datetime.fromisoformat(beijing["sla_due_at"]) == at(4, 10)  # 3 h Sat + 1 h Mon


async def test_the_sweep_job_is_idempotent(world: World, kit: Any, job_worker: Any) -> None:
    manager = await world.client("demo.bj.manager")
    ticket = await kit.create(manager, title="Wrong fee charged", priority="high")
    await kit.owner_fetch(
        "UPDATE service_ticket SET sla_warn_at = now() - interval '2 hours',"
        " sla_due_at = now() - interval '1 hour' WHERE id = $1",
        ticket["id"],
    )
    harness = await job_worker()
    for _ in range(2):  # a second run (or a redelivered message) tells nobody again
        with world.bind(await world.scope_of("BJ")):
            async with db.transaction():
                await jobs.enqueue(sla_sweep)
        await harness.drain()
    steps = await kit.owner_fetch(
        "SELECT step FROM service_sla_step WHERE ticket = $1", ticket["id"]
    )
    assert [s["step"] for s in steps] == ["breached"]  # past due: no warning first
    # No assignee: the branch managers hear of it.
    assert await notices(kit, "service.sla_escalated") == [world.users["demo.bj.manager"]]


async def test_policies_by_kind_priority_and_tier_inherited_by_sub_branches(
    world: World, kit: Any, clock: Clock
) -> None:
    manager = await world.client("demo.bj.manager")
    general = await manager.post(
        POLICIES, json={"name": "投诉", "kind": "complaint", "resolve_hours": 24}
    )
    assert general.status_code == 201, general.text
    urgent = await manager.post(
        POLICIES,
        json={"name": "紧急投诉", "kind": "complaint", "priority": "urgent", "resolve_hours": 2,
              "warn_percent": 50},
    )  # fmt: skip
    assert urgent.status_code == 201, urgent.text
    assert general.json()["branch_id"] == world.branch("BJ")

    # The RM sees only BJ-HD, yet its tickets fall under BJ's policies.
    rm = await world.client("demo.bj.rm")
    normal = await kit.create(rm, title="服务态度差", kind="complaint")
    assert normal["branch_id"] == world.branch("BJ-HD")
    assert (normal["sla_policy"], normal["sla_hours"]) == (general.json()["id"], 24)
    inquiry = await kit.create(rm, title="利率咨询", kind="inquiry")
    assert (inquiry["sla_policy"], inquiry["sla_hours"]) == (None, 16)

    # Raising the priority re-reads the policy: the more specific one wins.
    raised = await rm.patch(f"{kit.base}/{normal['id']}", json={"priority": "urgent"})
    assert raised.status_code == 200, raised.text
    body = raised.json()
    assert (body["sla_policy"], body["sla_hours"]) == (urgent.json()["id"], 2)
    assert datetime.fromisoformat(body["sla_due_at"]) == at(31, 17)
    assert datetime.fromisoformat(body["sla_warn_at"]) == at(31, 16)

    # Another branch's policy is out of reach (absent), and so its tickets keep defaults.
    sh = await world.client("demo.sh.manager")
    assert (await sh.get(f"{POLICIES}/{urgent.json()['id']}")).status_code == 404
    assert (await sh.get(POLICIES)).json() == []
    other = await kit.create(sh, title="投诉", kind="complaint", priority="urgent")
    assert (other["sla_policy"], other["sla_hours"]) == (None, 4)


async def test_resolving_late_records_the_breach(world: World, kit: Any, clock: Clock) -> None:
    manager = await world.client("demo.sh.manager")
    ticket = await kit.create(manager, title="Card blocked", priority="urgent")
    clock.now = at(4, 12)  # due Monday 11:00
    resolved = await manager.patch(f"{kit.base}/{ticket['id']}", json={"status": "resolved"})
    assert datetime.fromisoformat(resolved.json()["sla_breached_at"]) == at(4, 11)
    period = {"date_from": "2026-12-01", "date_to": "2027-01-31"}
    report = await manager.get("/api/v1/service/sla/breaches", params=period)
    assert report.status_code == 200, report.text
    assert report.json()["breached"] == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "resolve_hours": 0}, "resolve_hours"),
        ({"name": "x", "resolve_hours": 8, "warn_percent": 100}, "warn_percent"),
        ({"name": "x", "resolve_hours": 8, "value_tier": "gold"}, "value_tier"),
        ({"name": "  ", "resolve_hours": 8}, "name"),
        ({"name": "x", "resolve_hours": 8, "branch_id": 999999}, "branch_id"),
    ],
)
async def test_bad_policies_are_refused_naming_the_field(
    world: World, body: dict[str, Any], field: str
) -> None:
    manager = await world.client("demo.bj.manager")
    response = await manager.post(POLICIES, json=body)
    assert 400 <= response.status_code < 500, response.text
    assert field in response.text


async def test_a_policy_changes_and_is_audited(world: World, kit: Any) -> None:
    manager = await world.client("demo.bj.manager")
    created = (await manager.post(POLICIES, json={"name": "账单", "resolve_hours": 8})).json()
    url = f"{POLICIES}/{created['id']}"
    changed = await manager.patch(url, json={"resolve_hours": 12, "kind": "bill"})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["resolve_hours"], changed.json()["kind"]) == (12, "bill")
    assert (await manager.delete(url)).status_code == 204
    assert (await manager.get(url)).status_code == 404
    trail = await kit.owner_fetch(
        "SELECT action FROM bankcrm_audit WHERE entity = 'service.sla_policy' ORDER BY id"
    )
    assert [t["action"] for t in trail] == ["create", "update", "delete"]
    # A teller reads tickets but not SLA policies; a relationship manager may not write them.
    rm = await world.client("demo.bj.rm")
    assert (await rm.post(POLICIES, json={"name": "x", "resolve_hours": 8})).status_code == 403


async def test_an_assignee_must_reach_the_branch(world: World, kit: Any) -> None:
    manager = await world.client("demo.bj.manager")
    response = await manager.post(
        kit.base, json={"title": "x", "assignee": world.users["demo.sh.rm"]}
    )
    assert response.status_code == 422, response.text
    assert "/body/assignee" in response.text


async def test_the_breach_report_per_branch_kind_priority_and_month(world: World, kit: Any) -> None:
    bj, sh = await world.client("demo.bj.manager"), await world.client("demo.sh.manager")
    late = await kit.create(bj, title="a", kind="complaint", priority="high")
    await kit.create(bj, title="b", kind="complaint", priority="high")
    await kit.create(bj, title="c", kind="inquiry")
    await kit.create(sh, title="d", kind="complaint", priority="high")
    await kit.owner_fetch(
        "UPDATE service_ticket SET sla_due_at = now() - interval '1 minute'"
        " WHERE id = $1 OR title = 'd'",
        late["id"],
    )
    report = await bj.get("/api/v1/service/sla/breaches")
    assert report.status_code == 200, report.text
    body = report.json()
    month = datetime.now(ZONE).strftime("%Y-%m")
    assert [(r["branch_id"], r["kind"], r["priority"], r["period"], r["tickets"], r["breached"],
             r["open_overdue"]) for r in body["rows"]] == [
        (world.branch("BJ"), "complaint", "high", month, 2, 1, 1),
        (world.branch("BJ"), "inquiry", "normal", month, 1, 0, 0),
    ]  # fmt: skip
    assert (body["tickets"], body["breached"], body["breach_rate"]) == (3, 1, round(1 / 3, 4))
    only = (await bj.get("/api/v1/service/sla/breaches", params={"kind": "inquiry"})).json()
    assert [r["kind"] for r in only["rows"]] == ["inquiry"]
    # Another branch asked for by id: nothing of it shows.
    hidden = await bj.get("/api/v1/service/sla/breaches", params={"branch_id": world.branch("SH")})
    assert hidden.json()["rows"] == []
    bad = await bj.get(
        "/api/v1/service/sla/breaches", params={"date_from": "2026-12-02", "date_to": "2026-12-01"}
    )
    assert bad.status_code in (400, 422)
    assert "date_from" in bad.text
    teller = await world.client("demo.teller")
    assert (await teller.get("/api/v1/service/sla/breaches")).status_code == 403


def test_schedule_adds_paused_time() -> None:
    from bankcrm.business_calendar import BranchCalendar

    calendar = BranchCalendar(
        ZONE, {d: (at(4, 9).timetz().replace(tzinfo=None), at(4, 17).timetz().replace(tzinfo=None))
               for d in range(5)},
        {}, frozenset({2026, 2027}), {},
    )  # fmt: skip
    warn, due = sla.schedule(calendar, at(31, 15), 4, 50, 3600)
    # No holidays in this calendar: Friday 1 January is a working day here.
    assert (warn, due) == (at(1, 10), at(1, 12))
    assert due - warn == timedelta(hours=2)
