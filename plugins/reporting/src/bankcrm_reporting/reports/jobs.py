"""The scheduled runs: a job every few minutes runs each report whose time has come.

The scheduler sends it with a system scope over the branches where reporting is
enabled. Each due report is locked (``FOR UPDATE SKIP LOCKED``), run as its owner (their
scope now, narrowed to the job's branches), filed in the owner's inbox and given its next
time, all in the job's one transaction: a re-delivered message, an overlapping tick or a
second worker finds it no longer due, so no report runs twice for one due time. An
owner who left (inactive) gets no run; the report waits for its next time.
"""

from __future__ import annotations

from datetime import datetime

from bankcrm import db, jobs
from bankcrm.business_calendar import DEFAULT_ZONE
from bankcrm.context import require_scope
from bankcrm.plugin_api import ScheduleSpec, user_scope
from bankcrm_reporting.reports import schedule as schedules
from bankcrm_reporting.reports import services

RUN_DUE = "reporting.run_due_reports"
EVERY_SECONDS = 300
BATCH = 50


async def run_due(now: datetime | None = None) -> int:
    """Run the reports in scope due at ``now``; how many ran."""
    moment = now or datetime.now(DEFAULT_ZONE)
    job_scope = require_scope()
    ran = 0
    async with db.transaction():
        rows = await db.fetch(
            f"SELECT {services.REPORT_COLUMNS} FROM {services.REPORT}"
            " WHERE schedule <> '' AND next_run_at <= $1 ORDER BY next_run_at, id LIMIT $2"
            " FOR UPDATE SKIP LOCKED",
            moment,
            BATCH,
        )
        for row in rows:
            report = services.report_of(row)
            try:
                following = schedules.parse(report.schedule).next_after(moment)
            except schedules.ScheduleError:
                following = None
            owner = await user_scope(report.owner)
            if owner is not None and owner.branch_ids & job_scope.branch_ids:
                narrowed = owner.narrowed(job_scope.branch_ids)
                await services.execute(
                    report, narrowed, "schedule", moment.astimezone(DEFAULT_ZONE).date()
                )
                ran += 1
            await db.fetch(
                f"UPDATE {services.REPORT} SET next_run_at = $2, last_run_at = $3 WHERE id = $1",
                report.id,
                following,
                moment if owner is not None else row["last_run_at"],
            )
    return ran


@jobs.actor(RUN_DUE)
async def run_due_reports() -> None:
    """Run every saved report whose scheduled time has come (idempotent)."""
    await run_due()


ACTORS = [run_due_reports]
SCHEDULES = [
    ScheduleSpec(
        name=RUN_DUE,
        actor_name=RUN_DUE,
        every_seconds=EVERY_SECONDS,
        description="Run the saved reports whose schedule is due, each as its owner (idempotent).",
    ),
]
