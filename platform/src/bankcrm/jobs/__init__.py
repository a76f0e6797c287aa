"""Background jobs (architecture §9): dramatiq actors with the sender's scope.

Plugin authors use :func:`actor` to declare jobs, return them from ``register_actors``,
and call :func:`enqueue` / :func:`emit_event` inside ``db.transaction()``. Messages go
through the transactional outbox, run with the sender's scope narrowed to the branches
where the plugin is enabled, and are idempotent through the ledger written in the same
transaction as the job's effect. ``bankcrm worker`` runs :func:`run_worker_process`.
"""

from bankcrm.jobs.actors import JobActor, JobContext, actor, current_job
from bankcrm.jobs.brokers import PostgresTuning, broker_middleware, make_broker
from bankcrm.jobs.execution import (
    Catalogue,
    JobRuntime,
    JobTimeLimitExceeded,
    collect_actors,
)
from bankcrm.jobs.outbox import (
    OUTBOX_CHANNEL,
    SCOPE_OPTION,
    OutsideTransaction,
    Relay,
    emit_event,
    enqueue,
)
from bankcrm.jobs.scheduler import Scheduler
from bankcrm.jobs.worker import run_worker_process

__all__ = [
    "OUTBOX_CHANNEL",
    "SCOPE_OPTION",
    "Catalogue",
    "JobActor",
    "JobContext",
    "JobRuntime",
    "JobTimeLimitExceeded",
    "OutsideTransaction",
    "PostgresTuning",
    "Relay",
    "Scheduler",
    "actor",
    "broker_middleware",
    "collect_actors",
    "current_job",
    "emit_event",
    "enqueue",
    "make_broker",
    "run_worker_process",
]
