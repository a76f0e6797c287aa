"""Background work of sales: the follow-up sweep (see :mod:`.followups`).

The scheduler enqueues it every five minutes with a system scope over the branches where
sales is enabled. Every step is recorded once per item and due time, so a repeated or
re-delivered message notifies nobody twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bankcrm import jobs
from bankcrm.plugin_api import ScheduleSpec
from bankcrm_sales import commissions, followups

SWEEP = "sales.follow_up_sweep"
EVERY_SECONDS = 300


@jobs.actor(SWEEP)
async def follow_up_sweep(now: str | None = None) -> None:
    """Remind, escalate and reassign the follow-ups of the branches in scope; ``now`` (an
    ISO time) replaces the clock, for replays and tests."""
    await followups.sweep(datetime.fromisoformat(now) if now else None)


ACTORS: list[Any] = [follow_up_sweep, commissions.compute_commissions]
SCHEDULES: list[ScheduleSpec] = [
    ScheduleSpec(
        name=SWEEP,
        actor_name=SWEEP,
        every_seconds=EVERY_SECONDS,
        description="Follow-ups: remind owners, escalate to managers, reassign idle work.",
    )
]
