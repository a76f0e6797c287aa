"""Background work: closing the resolved tickets the customer did not reopen, and the SLA
sweep (warnings before, escalations at a breach; :mod:`.sla`).

The scheduler enqueues the job once a day with a system scope over the branches where
the plugin is enabled. Only resolved rows past the cut-off are selected, so a
re-delivered or repeated message closes nothing twice.
"""

from __future__ import annotations

from bankcrm import jobs
from bankcrm.plugin_api import ScheduleSpec
from bankcrm_service import care, services, sla

CLOSE_RESOLVED = "service.close_resolved_tickets"
SLA_SWEEP = "service.sla_sweep"
CARE_TASKS = "service.generate_care_tasks"
DAY = 24 * 3600
SLA_EVERY = 300


@jobs.actor(CLOSE_RESOLVED)
async def close_resolved_tickets(days: int = services.CLOSE_RESOLVED_AFTER_DAYS) -> None:
    """Close the resolved tickets in scope not reopened for ``days`` days."""
    await services.close_resolved(days)


@jobs.actor(SLA_SWEEP)
async def sla_sweep() -> None:
    """Warn before and escalate at SLA breaches in scope, each once per ticket."""
    await sla.sweep()


@jobs.actor(CARE_TASKS)
async def generate_care_tasks() -> None:
    """Create the birthday and visit care tasks due in scope, each once (:mod:`.care`)."""
    await care.generate()


ACTORS = [close_resolved_tickets, sla_sweep, generate_care_tasks]
SCHEDULES = [
    ScheduleSpec(
        name=CLOSE_RESOLVED,
        actor_name=CLOSE_RESOLVED,
        every_seconds=DAY,
        description="Close resolved tickets not reopened for 7 days (idempotent).",
    ),
    ScheduleSpec(
        name=SLA_SWEEP,
        actor_name=SLA_SWEEP,
        every_seconds=SLA_EVERY,
        description="Warn before SLA breaches and escalate at them, once each (idempotent).",
    ),
    ScheduleSpec(
        name=CARE_TASKS,
        actor_name=CARE_TASKS,
        every_seconds=DAY,
        description="Create birthday and visit-plan care tasks, each once (idempotent).",
    ),
]
