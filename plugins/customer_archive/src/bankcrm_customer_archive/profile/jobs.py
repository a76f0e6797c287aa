"""Background work of the customer profile: the daily balance and AUM snapshots.

The scheduler enqueues :data:`take_daily_snapshots` every hour with a system scope over
the branches where the plugin is enabled. Each run upserts today's snapshots (Beijing
date), so the day's rows follow the balances until the last run of the day, and a
re-delivered or repeated message changes nothing.
"""

from __future__ import annotations

from datetime import date

from bankcrm import jobs
from bankcrm.plugin_api import ScheduleSpec
from bankcrm_customer_archive.profile import services as profile

SNAPSHOT_ACTOR = "customer_archive.take_daily_snapshots"
SNAPSHOT_EVERY_SECONDS = 3600


@jobs.actor(SNAPSHOT_ACTOR, time_limit=60 * 60 * 1000)
async def take_daily_snapshots(on: str | None = None) -> None:
    """Balance snapshots of every open holding and the AUM of every customer in scope,
    for ``on`` (ISO date; default today in Beijing time, the business date)."""
    await profile.take_snapshots(date.fromisoformat(on) if on else None)


PROFILE_ACTORS = [take_daily_snapshots]
PROFILE_SCHEDULES = [
    ScheduleSpec(
        name="customer_archive.daily_snapshots",
        actor_name=SNAPSHOT_ACTOR,
        every_seconds=SNAPSHOT_EVERY_SECONDS,
        description="Today's balance snapshot per holding and AUM per customer (upserts).",
    )
]
