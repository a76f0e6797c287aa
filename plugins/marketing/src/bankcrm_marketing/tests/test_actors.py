"""The daily job closes stale campaigns once, however often it runs."""

from __future__ import annotations

from typing import Any

from bankcrm import db, jobs
from bankcrm_marketing.actors import SCHEDULES, close_stale_campaigns
from bankcrm_sdk.world import World

TABLE = "marketing_campaign"


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
                await jobs.enqueue(close_stale_campaigns)
        await harness.drain()

    statuses = dict(await kit.owner_fetch(f"SELECT id, status FROM {TABLE}"))
    assert statuses == {stale: "closed", fresh: "draft"}
    assert [row["action"] for row in await kit.audit(stale)] == ["create", "update"]


def test_the_jobs_are_scheduled() -> None:
    assert [(s.actor_name, s.every_seconds) for s in SCHEDULES] == [
        (close_stale_campaigns.name, 24 * 3600),
        ("marketing.send_due_contacts", 600),
        ("marketing.sync_competitor_deals", 24 * 3600),
        ("marketing.send_due_survey_invitations", 600),
    ]
