"""The daily job closes resolved tickets the customer did not reopen, once."""

from __future__ import annotations

from typing import Any

from bankcrm import db, jobs
from bankcrm_sdk.world import World
from bankcrm_service.actors import (
    SCHEDULES,
    close_resolved_tickets,
    generate_care_tasks,
    sla_sweep,
)

TABLE = "service_ticket"


async def test_the_job_closes_only_stale_resolved_rows_once(
    world: World, kit: Any, job_worker: Any
) -> None:
    manager = await world.client("demo.bj.manager")
    stale, fresh = (await kit.create(manager))["id"], (await kit.create(manager))["id"]
    for ticket in (stale, fresh):
        moved = await manager.patch(f"{kit.base}/{ticket}", json={"status": "resolved"})
        assert moved.status_code == 200, moved.text
    await kit.owner_fetch(
        f"UPDATE {TABLE} SET updated_at = now() - interval '100 days' WHERE id = $1", stale
    )
    harness = await job_worker()
    for _ in range(2):  # a second run (or a re-delivered message) changes nothing
        with world.bind(await world.scope_of("BJ")):
            async with db.transaction():
                await jobs.enqueue(close_resolved_tickets)
        await harness.drain()

    statuses = dict(await kit.owner_fetch(f"SELECT id, status FROM {TABLE}"))
    assert statuses == {stale: "closed", fresh: "resolved"}
    actions = [row["action"] for row in await kit.audit(stale)]
    assert actions == ["create", "update", "update"]  # resolved by hand, closed once by the job


def test_the_jobs_are_scheduled() -> None:
    assert [(s.actor_name, s.every_seconds) for s in SCHEDULES] == [
        (close_resolved_tickets.name, 24 * 3600),
        (sla_sweep.name, 300),
        (generate_care_tasks.name, 24 * 3600),
    ]
