"""Background duplicate detection: after each import, and nightly over the whole archive.

Both run with their message's scope (row-level security limits them to its branches) in
the job's transaction; both are idempotent (candidates are upserted per pair), so a
redelivered message or a tick run twice changes nothing.
"""

from __future__ import annotations

from bankcrm.jobs import actor, current_job
from bankcrm.plugin_api import ScheduleSpec
from bankcrm_customer_archive.dedupe import detection

# A million customers score in minutes: leave room beyond the kernel's 10-minute default.
TIME_LIMIT_MS = 30 * 60 * 1000
NIGHTLY = 24 * 3600


@actor("customer_archive.dedupe_import_batch", time_limit=TIME_LIMIT_MS, max_retries=3)
async def dedupe_import_batch(batch_id: int) -> None:
    """The customers an import batch created, against every customer in scope."""
    new_ids = await detection.batch_customer_ids(batch_id)
    await detection.run(f"import_batch:{batch_id}", new_ids=new_ids)


@actor("customer_archive.dedupe_archive", time_limit=TIME_LIMIT_MS, max_retries=2)
async def dedupe_archive() -> None:
    """Every customer in scope against every other (the scheduled whole-archive run)."""
    await detection.run(f"run:{current_job().message_id}")


DEDUPE_ACTORS = (dedupe_import_batch, dedupe_archive)
DEDUPE_SCHEDULES = (
    ScheduleSpec(
        "customer_archive.dedupe_nightly",
        dedupe_archive.name,
        NIGHTLY,
        "Duplicate detection over the whole archive, daily at 00:00 UTC (08:00 Beijing).",
    ),
)
