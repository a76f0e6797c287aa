"""Background work: closing the campaigns
left open and unchanged.

The scheduler enqueues the job once a day with a system scope over the branches where
the plugin is enabled. Only open rows past the cut-off are selected, so a re-delivered
or repeated message closes nothing twice.
"""

from __future__ import annotations

from bankcrm import jobs
from bankcrm.plugin_api import ScheduleSpec
from bankcrm_marketing import services

CLOSE_STALE = "marketing.close_stale_campaigns"
DAY = 24 * 3600


@jobs.actor(CLOSE_STALE)
async def close_stale_campaigns(days: int = services.STALE_AFTER_DAYS) -> None:
    """Close the open campaigns in scope not changed for ``days`` days."""
    await services.close_stale(days)


ACTORS = [close_stale_campaigns]
SCHEDULES = [
    ScheduleSpec(
        name="marketing.close_stale_campaigns",
        actor_name=CLOSE_STALE,
        every_seconds=DAY,
        description="Close open campaigns unchanged for 90 days (idempotent).",
    )
]
