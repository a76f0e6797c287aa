"""Threshold alerts: the daily job notifies a branch's managers once when a KPI is worse
than its target's threshold, and a new threshold may alert again."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bankcrm import db, jobs
from bankcrm_reporting.actors import take_snapshots
from bankcrm_reporting.alerts import THRESHOLD_ALERT, crossed
from bankcrm_reporting.dashboard import bank_today
from bankcrm_sdk.world import World

TABLE = "reporting_target"


def test_worse_follows_the_direction_of_good() -> None:
    assert crossed(Decimal(1), Decimal(2), "up")
    assert crossed(Decimal(1), Decimal(2), "")
    assert not crossed(Decimal(3), Decimal(2), "up")
    assert crossed(Decimal(3), Decimal(2), "down")
    assert not crossed(Decimal(1), Decimal(2), "down")


async def test_the_job_alerts_the_managers_once(world: World, kit: Any, job_worker: Any) -> None:
    month = bank_today().strftime("%Y-%m")
    manager = await world.client("demo.bj.manager")
    low = await kit.create(manager, branch_id=world.branch("BJ-HD"), period=month,
                           value="10", threshold="1")  # fmt: skip  # no customers: 0 < 1
    met = await kit.create(manager, branch_id=world.branch("BJ-CY"), period=month,
                           value="10", threshold="0")  # fmt: skip
    quiet = await kit.create(manager, branch_id=world.branch("BJ"), period=month, value="10")
    harness = await job_worker()
    for _ in range(2):  # a second run (or a re-delivered message) alerts nobody again
        with world.bind(await world.scope_of("BJ")):
            async with db.transaction():
                await jobs.enqueue(take_snapshots)
        await harness.drain()

    sent = await kit.owner_fetch(
        "SELECT recipient, title_zh, branch_id FROM bankcrm_notification WHERE template = $1",
        THRESHOLD_ALERT,
    )
    assert [(r["recipient"], r["branch_id"]) for r in sent] == [
        (world.users["demo.bj.manager"], world.branch("BJ-HD"))
    ]
    assert "客户数" in sent[0]["title_zh"]
    alerted = dict(await kit.owner_fetch(f"SELECT id, alerted_at IS NOT NULL FROM {TABLE}"))
    assert alerted == {low["id"]: True, met["id"]: False, quiet["id"]: False}

    url = f"{kit.base}/{low['id']}"
    changed = await manager.patch(url, json={"threshold": "0.5"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["alerted_at"] is None
    assert changed.json()["threshold"] == "0.50"


async def test_a_bad_threshold_is_refused(world: World, kit: Any) -> None:
    manager = await world.client("demo.bj.manager")
    body = {"metric": "customer_archive.customers", "value": "1", "period": "2031-01",
            "title": "t", "threshold": "1e20"}  # fmt: skip
    response = await manager.post(kit.base, json=body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "/body/threshold"
