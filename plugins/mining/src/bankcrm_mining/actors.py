"""Background work of mining: training and batch scoring.

``mining.train`` and ``mining.score`` run after the request that queued them commits
(through the outbox). Both are safe to run twice: a finished run is left alone, and each
customer's score is written once per run.
"""

from __future__ import annotations

from typing import Any

from bankcrm import jobs
from bankcrm.plugin_api import ScheduleSpec
from bankcrm_mining import learning, scoring


@jobs.actor(scoring.SCORE_JOB)
async def score(run_id: int) -> None:
    """Score a queued run's customers and check the population's stability."""
    await scoring.run_scoring(run_id)


@jobs.actor(learning.TRAIN_JOB)
async def train(run_id: int) -> None:
    """Train a queued training run and register its draft model version."""
    await learning.run_training(run_id)


ACTORS: list[Any] = [score, train]
SCHEDULES: list[ScheduleSpec] = []
