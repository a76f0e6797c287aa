"""Background work: closing the targets
left open and unchanged.

The scheduler enqueues the job once a day with a system scope over the branches where
the plugin is enabled. Only open rows past the cut-off are selected, so a re-delivered
or repeated message closes nothing twice.
"""

from __future__ import annotations

from datetime import date

from bankcrm import db, jobs
from bankcrm.plugin_api import ScheduleSpec
from bankcrm_reporting import alerts, services, snapshots
from bankcrm_reporting.dashboard import bank_today

CLOSE_STALE = "reporting.close_stale_targets"
TAKE_SNAPSHOTS = "reporting.take_snapshots"
DAY = 24 * 3600


@jobs.actor(CLOSE_STALE)
async def close_stale_targets(days: int = services.STALE_AFTER_DAYS) -> None:
    """Close the open targets in scope not changed for ``days`` days."""
    await services.close_stale(days)


@jobs.actor(TAKE_SNAPSHOTS)
async def take_snapshots(day: str | None = None) -> None:
    """Snapshot every KPI for every branch in scope on ``day`` (ISO; default: the bank's
    today). An upsert per branch, KPI and day: a second run leaves the same rows. Then
    the targets past their threshold alert their branch's managers (once per target)."""
    taken = date.fromisoformat(day) if day else bank_today()
    await snapshots.take(taken)
    async with db.transaction():
        await alerts.check(taken)


ACTORS = [close_stale_targets, take_snapshots]
SCHEDULES = [
    ScheduleSpec(
        name="reporting.close_stale_targets",
        actor_name=CLOSE_STALE,
        every_seconds=DAY,
        description="Close open targets unchanged for 90 days (idempotent).",
    ),
    ScheduleSpec(
        name="reporting.take_snapshots",
        actor_name=TAKE_SNAPSHOTS,
        every_seconds=DAY,
        description="Snapshot every KPI per branch for the day (idempotent upsert).",
    ),
]
