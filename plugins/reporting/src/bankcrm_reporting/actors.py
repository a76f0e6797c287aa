"""Background work: closing the targets
left open and unchanged.

The scheduler enqueues the job once a day with a system scope over the branches where
the plugin is enabled. Only open rows past the cut-off are selected, so a re-delivered
or repeated message closes nothing twice.
"""

from __future__ import annotations

from bankcrm import jobs
from bankcrm.plugin_api import ScheduleSpec
from bankcrm_reporting import services

CLOSE_STALE = "reporting.close_stale_targets"
DAY = 24 * 3600


@jobs.actor(CLOSE_STALE)
async def close_stale_targets(days: int = services.STALE_AFTER_DAYS) -> None:
    """Close the open targets in scope not changed for ``days`` days."""
    await services.close_stale(days)


ACTORS = [close_stale_targets]
SCHEDULES = [
    ScheduleSpec(
        name="reporting.close_stale_targets",
        actor_name=CLOSE_STALE,
        every_seconds=DAY,
        description="Close open targets unchanged for 90 days (idempotent).",
    )
]
