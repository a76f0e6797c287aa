"""Background work: closing the resolved tickets the customer did not reopen.

The scheduler enqueues the job once a day with a system scope over the branches where
the plugin is enabled. Only resolved rows past the cut-off are selected, so a
re-delivered or repeated message closes nothing twice.
"""

from __future__ import annotations

from bankcrm import jobs
from bankcrm.plugin_api import ScheduleSpec
from bankcrm_service import services

CLOSE_RESOLVED = "service.close_resolved_tickets"
DAY = 24 * 3600


@jobs.actor(CLOSE_RESOLVED)
async def close_resolved_tickets(days: int = services.CLOSE_RESOLVED_AFTER_DAYS) -> None:
    """Close the resolved tickets in scope not reopened for ``days`` days."""
    await services.close_resolved(days)


ACTORS = [close_resolved_tickets]
SCHEDULES = [
    ScheduleSpec(
        name=CLOSE_RESOLVED,
        actor_name=CLOSE_RESOLVED,
        every_seconds=DAY,
        description="Close resolved tickets not reopened for 7 days (idempotent).",
    )
]
