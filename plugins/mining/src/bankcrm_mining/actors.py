"""Background work of mining: batch scoring.

``mining.score`` runs after the request that queued a scoring run commits (through the
outbox). It is safe to run twice: a finished run is left alone, and each customer's score
is written once per run.
"""

from __future__ import annotations

from typing import Any

from bankcrm import jobs
from bankcrm.plugin_api import ScheduleSpec
from bankcrm_mining import scoring


@jobs.actor(scoring.SCORE_JOB)
async def score(run_id: int) -> None:
    """Score a queued run's customers and check the population's stability."""
    await scoring.run_scoring(run_id)


ACTORS: list[Any] = [score]
SCHEDULES: list[ScheduleSpec] = []
