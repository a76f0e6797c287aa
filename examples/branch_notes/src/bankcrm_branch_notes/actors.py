"""Background work: closing the notes
left open and unchanged.

The scheduler enqueues the job once a day with a system scope over the branches where
the plugin is enabled. Only open rows past the cut-off are selected, so a re-delivered
or repeated message closes nothing twice.
"""

from __future__ import annotations

from bankcrm import jobs
from bankcrm.plugin_api import ScheduleSpec
from bankcrm_branch_notes import services

CLOSE_STALE = "branch_notes.close_stale_notes"
DAY = 24 * 3600


@jobs.actor(CLOSE_STALE)
async def close_stale_notes(days: int = services.STALE_AFTER_DAYS) -> None:
    """Close the open notes in scope not changed for ``days`` days."""
    await services.close_stale(days)


ACTORS = [close_stale_notes]
SCHEDULES = [
    ScheduleSpec(
        name="branch_notes.close_stale_notes",
        actor_name=CLOSE_STALE,
        every_seconds=DAY,
        description="Close open notes unchanged for 90 days (idempotent).",
    )
]
