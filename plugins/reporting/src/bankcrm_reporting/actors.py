"""Background work: the daily KPI snapshots.

The scheduler enqueues the job once a day with a system scope over the branches where
the plugin is enabled. The job upserts one figure per branch, KPI and day, so a
re-delivered or repeated message leaves the same rows.
"""

from __future__ import annotations

from datetime import date

from bankcrm import jobs
from bankcrm.plugin_api import ScheduleSpec
from bankcrm_reporting import snapshots
from bankcrm_reporting.dashboard import bank_today

TAKE_SNAPSHOTS = "reporting.take_snapshots"
DAY = 24 * 3600


@jobs.actor(TAKE_SNAPSHOTS)
async def take_snapshots(day: str | None = None) -> None:
    """Snapshot every KPI for every branch in scope on ``day`` (ISO; default: the bank's
    today)."""
    await snapshots.take(date.fromisoformat(day) if day else bank_today())


ACTORS = [take_snapshots]
SCHEDULES = [
    ScheduleSpec(
        name="reporting.take_snapshots",
        actor_name=TAKE_SNAPSHOTS,
        every_seconds=DAY,
        description="Snapshot every KPI per branch for the day (idempotent upsert).",
    )
]
