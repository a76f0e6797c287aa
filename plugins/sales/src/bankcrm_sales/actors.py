"""Background work: closing the leads
left open and unchanged.

The scheduler enqueues the job once a day with a system scope over the branches where
the plugin is enabled. Only open rows past the cut-off are selected, so a re-delivered
or repeated message closes nothing twice.
"""

from __future__ import annotations

from bankcrm import jobs
from bankcrm.plugin_api import ScheduleSpec
from bankcrm_sales import services

CLOSE_STALE = "sales.close_stale_leads"
DAY = 24 * 3600


@jobs.actor(CLOSE_STALE)
async def close_stale_leads(days: int = services.STALE_AFTER_DAYS) -> None:
    """Close the open leads in scope not changed for ``days`` days."""
    await services.close_stale(days)


ACTORS = [close_stale_leads]
SCHEDULES = [
    ScheduleSpec(
        name="sales.close_stale_leads",
        actor_name=CLOSE_STALE,
        every_seconds=DAY,
        description="Close open leads unchanged for 90 days (idempotent).",
    )
]
