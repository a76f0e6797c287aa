"""Running actors: scope, plugin enablement, idempotency, and the event-loop bridge.

asyncpg pools belong to one event loop, and dramatiq runs actors in its own threads. So
one loop owns the kernel (its pool) and every actor's coroutine is submitted to it with
``asyncio.run_coroutine_threadsafe``; the dramatiq thread waits for the result. In the
worker process that loop runs in a dedicated thread; in tests it is the session loop.

For each message the runner, on the loop:

1. reads the scope the message carries (none: the job runs with no scope and sees no
   branch's rows, fail-closed);
2. narrows it to the branches where the actor's plugin is enabled, as the web guard does;
   if none is left the message is logged and acknowledged without running;
3. opens one transaction with that scope, inserts the message id into the idempotency
   ledger ``bankcrm_job_execution`` (skipping the message if it is already there) and runs
   the actor body in it, so the body's effect and the ledger row commit together.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import dramatiq
from dramatiq import Broker
from dramatiq.middleware import CurrentMessage

from bankcrm import branches, db
from bankcrm.context import bind_scope
from bankcrm.jobs.actors import JobActor, JobContext, _current_job
from bankcrm.jobs.kernel_actors import KERNEL_ACTORS, KERNEL_SCHEDULES
from bankcrm.jobs.outbox import SCOPE_OPTION, Relay, scope_from_option
from bankcrm.jobs.scheduler import Scheduler
from bankcrm.plugins import KERNEL_PLUGIN_NAME, PluginRegistry

if TYPE_CHECKING:
    from bankcrm.runtime import Kernel

log = logging.getLogger(__name__)

LEDGER_SQL = (
    "INSERT INTO bankcrm_job_execution (message_id, actor_name, done_at) VALUES ($1, $2, now())"
    " ON CONFLICT (message_id) DO NOTHING RETURNING id"
)


class JobTimeLimitExceeded(Exception):
    """The actor ran longer than its ``time_limit``; it was cancelled and rolled back."""


@dataclass
class Catalogue:
    """The actors of a plugin registry, each under the plugin that registered it."""

    actors: dict[str, JobActor[Any]] = field(default_factory=dict)
    plugins: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def add(self, plugin: str, offered: Iterable[Any]) -> None:
        for item in offered:
            problem = _refusal(plugin, item, self.actors)
            if problem:
                self.problems.append(problem)
                log.error("actor refused", extra={"plugin": plugin, "reason": problem})
                continue
            self.actors[item.name] = item
            self.plugins[item.name] = plugin


def _refusal(plugin: str, item: Any, known: dict[str, JobActor[Any]]) -> str:
    if not isinstance(item, JobActor):
        return f"{plugin}: {item!r} is not an actor made with bankcrm.jobs.actor"
    if not item.name.startswith(plugin + "."):
        return f"{plugin}: actor {item.name!r} must be named '{plugin}.<name>'"
    if not item.queue_name.startswith(plugin + "."):
        return f"{plugin}: queue {item.queue_name!r} of {item.name!r} must start with '{plugin}.'"
    if item.name in known:
        return f"{plugin}: actor {item.name!r} is registered twice"
    return ""


def collect_actors(registry: PluginRegistry) -> Catalogue:
    """The kernel's actors and those of every active plugin (``register_actors``).

    An actor whose name or queue does not start with its plugin's name is refused and
    reported in ``problems``; the plugin's other actors still run.
    """
    catalogue = Catalogue()
    # Imported here: the notification jobs are declared with bankcrm.jobs.actor.
    from bankcrm.notifications.delivery import NOTIFICATION_ACTORS

    catalogue.add(KERNEL_PLUGIN_NAME, [*KERNEL_ACTORS, *NOTIFICATION_ACTORS])
    for plugin, offered in registry.call_each("register_actors"):
        catalogue.add(plugin, offered or ())
    return catalogue


class JobRuntime:
    """One kernel's actors bound to ``broker``, executed on ``loop``.

    Also owns the outbox relay and the scheduler of that kernel. Construct it in any
    thread; ``loop`` must be the loop whose thread owns the kernel's connection pool.
    """

    def __init__(self, kernel: Kernel, broker: Broker, loop: asyncio.AbstractEventLoop) -> None:
        self.kernel = kernel
        self.broker = broker
        self.loop = loop
        self.catalogue = collect_actors(kernel.registry)
        self.relay = Relay(broker)
        from bankcrm.notifications.delivery import NOTIFICATION_SCHEDULES

        self.scheduler = Scheduler(
            kernel.registry, self.catalogue, [*KERNEL_SCHEDULES, *NOTIFICATION_SCHEDULES]
        )
        self._tasks: list[asyncio.Task[None]] = []
        if not any(isinstance(m, CurrentMessage) for m in broker.middleware):
            broker.add_middleware(CurrentMessage())
        for job_actor in self.catalogue.actors.values():
            dramatiq.Actor(
                self._runner(job_actor),
                broker=broker,
                actor_name=job_actor.name,
                queue_name=job_actor.queue_name,
                priority=0,
                options=job_actor.dramatiq_options(),
            )

    def _runner(self, job_actor: JobActor[Any]) -> Callable[..., None]:
        def run(*args: Any, **kwargs: Any) -> None:
            message = CurrentMessage.get_current_message()
            if message is None:
                raise RuntimeError("the broker lacks dramatiq's CurrentMessage middleware")
            coroutine = self.execute(job_actor, message.message_id, message.options, args, kwargs)
            future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
            try:
                future.result(timeout=job_actor.time_limit / 1000)
            except TimeoutError:
                future.cancel()
                raise JobTimeLimitExceeded(
                    f"{job_actor.name} ran longer than {job_actor.time_limit} ms"
                ) from None

        run.__name__ = job_actor.fn.__name__
        run.__module__ = job_actor.fn.__module__
        return run

    async def execute(
        self,
        job_actor: JobActor[Any],
        message_id: str,
        options: dict[str, Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> bool:
        """Run one delivery of a message; False if it was skipped (done, or disabled)."""
        plugin = self.catalogue.plugins[job_actor.name]
        scope = scope_from_option(options.get(SCOPE_OPTION))
        where = {
            "job": job_actor.name,
            "message_id": message_id,
            "request_id": scope.request_id if scope else None,
        }
        if scope is not None and plugin != KERNEL_PLUGIN_NAME:
            tree = await branches.snapshot()
            narrowed = scope.narrowed(tree.enabled_branches(plugin))
            if not narrowed.branch_ids:
                log.warning(
                    "job not run: its plugin is not enabled for the message's branches", extra=where
                )
                return False
            scope = narrowed
        token = _current_job.set(
            JobContext(
                message_id=message_id,
                actor_name=job_actor.name,
                plugin=plugin,
                retries=int(options.get("retries", 0)),
                registry=self.kernel.registry,
            )
        )
        try:
            with bind_scope(scope):
                async with db.transaction():
                    if await db.fetchval(LEDGER_SQL, message_id, job_actor.name) is None:
                        log.info("job already done; delivery skipped", extra=where)
                        return False
                    await job_actor.fn(*args, **kwargs)
        finally:
            _current_job.reset(token)
        log.info("job done", extra=where)
        return True

    def _spawn(self, coroutine: Coroutine[Any, Any, None], name: str) -> None:
        # A fresh context: background loops are entry points of their own, never inside a
        # caller's scope or transaction.
        task = self.loop.create_task(coroutine, name=name, context=contextvars.Context())
        self._tasks.append(task)

    async def start_background(self, poll_seconds: float) -> None:
        """Start the outbox relay and the scheduler on this runtime's loop."""
        self._spawn(self.relay.run(poll_seconds), "bankcrm-outbox-relay")
        self._spawn(self.scheduler.run(), "bankcrm-scheduler")

    async def stop_background(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        self.relay.close()
