"""Scheduled reports: cron expressions in the bank's time zone, and the periodic job that
runs each due report once, as its owner, however often it is delivered."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bankcrm import db, jobs
from bankcrm_reporting.reports import schedule
from bankcrm_reporting.reports.jobs import SCHEDULES, run_due_reports
from bankcrm_sdk.world import World

ZONE = ZoneInfo("Asia/Shanghai")
BASE = "/api/v1/reporting"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZONE)


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("0 8 * * 1", "2026-12-04 09:00", "2026-12-07 08:00"),  # Friday -> Monday
        ("0 8 * * 1", "2026-12-07 07:59", "2026-12-07 08:00"),
        ("0 8 * * 1", "2026-12-07 08:00", "2026-12-14 08:00"),  # strictly after
        ("30 7 1 * *", "2026-12-04 00:00", "2027-01-01 07:30"),
        ("*/15 9-10 * * *", "2026-12-04 10:50", "2026-12-05 09:00"),
        ("*/15 9-10 * * *", "2026-12-04 09:01", "2026-12-04 09:15"),
        ("0 0 29 2 *", "2026-12-04 00:00", "2028-02-29 00:00"),
        ("0 9 1 * 0", "2026-12-04 00:00", "2026-12-06 09:00"),  # day 1 or a Sunday
        ("0 9 * * 7", "2026-12-04 00:00", "2026-12-06 09:00"),  # 7 is Sunday too
        ("0 12 * * 1-5", "2026-12-05 00:00", "2026-12-07 12:00"),
    ],
)
def test_next_time(expression: str, after: str, expected: str) -> None:
    assert schedule.parse(expression).next_after(at(after), ZONE) == at(expected)


@pytest.mark.parametrize(
    "expression", ["", "0 8 * *", "60 8 * * *", "0 8 32 * *", "a b c d e", "0 8 * * 1/0",
                   "0 0 30 2 *", "5-1 * * * *"],
)  # fmt: skip
def test_unreadable_schedules_are_refused(expression: str) -> None:
    with pytest.raises(schedule.ScheduleError):
        schedule.parse(expression)


def test_the_job_is_scheduled_every_five_minutes() -> None:
    assert (run_due_reports.name, 300) in [(s.actor_name, s.every_seconds) for s in SCHEDULES]


async def test_the_job_runs_a_due_report_once_as_its_owner(
    world: World, kit: Any, job_worker: Any
) -> None:
    await kit.customers("BJ-HD", 2)
    await kit.customers("SH-PD", 3)
    rm = await world.client("demo.bj.rm")
    due = await kit.report(rm, schedule="0 8 * * 1", dimensions=["branch"])
    later = await kit.report(rm, schedule="0 8 * * 1")
    on_demand = await kit.report(rm)
    await kit.owner_fetch(
        "UPDATE reporting_report SET next_run_at = now() - interval '1 minute' WHERE id = $1",
        due["id"],
    )
    harness = await job_worker()
    for _ in range(2):  # a second tick (or a re-delivered message) runs nothing again
        with world.bind(world.system_scope()):
            async with db.transaction():
                await jobs.enqueue(run_due_reports)
        await harness.drain()

    runs = await kit.owner_fetch(
        "SELECT report, recipient, trigger, status, rows, scope_branches"
        " FROM reporting_report_run ORDER BY id"
    )
    assert [(r["report"], r["trigger"], r["status"]) for r in runs] == [
        (due["id"], "schedule", "done")
    ]
    assert runs[0]["recipient"] == world.users["demo.bj.rm"]
    # Run as the owner: their sub-branch only, though the job's scope is every branch.
    assert '"customers_count": 2' in runs[0]["rows"]
    assert f'"branch": {world.branch("SH-PD")}' not in runs[0]["rows"]
    reports = {
        r["id"]: r
        for r in await kit.owner_fetch("SELECT id, next_run_at, last_run_at FROM reporting_report")
    }
    assert reports[due["id"]]["next_run_at"] > datetime.now(ZONE)
    assert reports[due["id"]]["next_run_at"].astimezone(ZONE).strftime("%a %H:%M") == "Mon 08:00"
    assert reports[due["id"]]["last_run_at"] is not None
    assert reports[later["id"]]["last_run_at"] is None
    assert reports[on_demand["id"]]["next_run_at"] is None
    inbox = (await rm.get(f"{BASE}/inbox")).json()["items"]
    assert [(i["report"], i["trigger"]) for i in inbox] == [(due["id"], "schedule")]


async def test_an_inactive_owner_gets_no_run(world: World, kit: Any, job_worker: Any) -> None:
    rm = await world.client("demo.bj.rm")
    due = await kit.report(rm, schedule="0 8 * * *")
    await kit.owner_fetch(
        "UPDATE reporting_report SET next_run_at = now() - interval '1 minute' WHERE id = $1",
        due["id"],
    )
    await kit.owner_fetch(
        "UPDATE piccolo_user SET active = false WHERE id = $1", world.users["demo.bj.rm"]
    )
    harness = await job_worker()
    with world.bind(world.system_scope()):
        async with db.transaction():
            await jobs.enqueue(run_due_reports)
    await harness.drain()
    assert await kit.owner_fetch("SELECT id FROM reporting_report_run") == []
    [row] = await kit.owner_fetch("SELECT next_run_at FROM reporting_report")
    assert row["next_run_at"] > datetime.now(ZONE)
