"""The daily job closes stale targets once, however often it runs."""

from __future__ import annotations

from typing import Any

from bankcrm import db, jobs
from bankcrm_reporting.actors import SCHEDULES, close_stale_targets
from bankcrm_sdk.world import World

TABLE = "reporting_target"


async def test_the_job_closes_only_stale_open_rows_once(
    world: World, kit: Any, job_worker: Any
) -> None:
    manager = await world.client("demo.bj.manager")
    stale, fresh = (await kit.create(manager))["id"], (await kit.create(manager))["id"]
    await kit.owner_fetch(
        f"UPDATE {TABLE} SET updated_at = now() - interval '100 days' WHERE id = $1", stale
    )
    harness = await job_worker()
    for _ in range(2):  # a second run (or a re-delivered message) changes nothing
        with world.bind(await world.scope_of("BJ")):
            async with db.transaction():
                await jobs.enqueue(close_stale_targets)
        await harness.drain()

    statuses = dict(await kit.owner_fetch(f"SELECT id, status FROM {TABLE}"))
    assert statuses == {stale: "closed", fresh: "open"}
    assert [row["action"] for row in await kit.audit(stale)] == ["create", "update"]


def test_the_job_is_scheduled_daily() -> None:
    assert (close_stale_targets.name, 24 * 3600) in [
        (s.actor_name, s.every_seconds) for s in SCHEDULES
    ]
