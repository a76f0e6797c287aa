"""Running jobs in tests: a dramatiq worker in threads, fed by the test's event loop.

The test session's loop owns the kernel's connection pool, so the worker threads submit
each actor's coroutine to it (exactly as in ``bankcrm worker``); the test keeps that loop
running by awaiting :meth:`JobHarness.drain` or :meth:`JobHarness.wait_for`, which poll
asynchronously. The relay and scheduler run only when the test asks, so a test decides
exactly when committed outbox rows reach the broker.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import dramatiq
from dramatiq.brokers.stub import StubBroker

from bankcrm.jobs import JobRuntime, broker_middleware
from bankcrm.runtime import Kernel


class JobFailed(AssertionError):
    """A message was dead-lettered (failed after its retries) during the test."""


class _FailureRecorder(dramatiq.Middleware):
    """Keeps the exception of every dead-lettered message (dramatiq clears it later)."""

    def __init__(self) -> None:
        self.failures: list[tuple[str, str, BaseException | None]] = []

    def after_nack(self, broker: dramatiq.Broker, message: Any) -> None:
        self.failures.append(
            (message.actor_name, message.message_id, getattr(message, "_exception", None))
        )


class JobHarness:
    """A kernel's actors on ``broker`` with a dramatiq worker of ``threads`` threads."""

    def __init__(self, kernel: Kernel, broker: dramatiq.Broker, threads: int = 2) -> None:
        self.kernel = kernel
        self.broker = broker
        self._recorder = _FailureRecorder()
        broker.add_middleware(self._recorder)
        self.runtime = JobRuntime(kernel, broker, asyncio.get_running_loop())
        self.worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=100)
        self.worker.start()
        self._reported = 0

    @property
    def failures(self) -> list[tuple[str, str, BaseException | None]]:
        """(actor name, message id, exception) of each dead-lettered message."""
        return list(self._recorder.failures)

    async def relay(self) -> int:
        """Send committed outbox rows to the broker once; how many were sent."""
        return await self.runtime.relay.relay_once()

    async def tick(self, now: datetime | None = None) -> list[str]:
        """Run the scheduler once (at ``now``); the schedules it enqueued."""
        return await self.runtime.scheduler.tick(now)

    def _idle(self) -> bool:
        if not isinstance(self.broker, StubBroker):
            raise TypeError("drain() needs the stub broker; use wait_for() with real brokers")
        queues = list(self.broker.queues.values())
        return all(q.unfinished_tasks == 0 for q in queues) and (
            self.worker.work_queue.unfinished_tasks == 0
        )

    async def drain(self, seconds: float = 10.0, *, fail_fast: bool = True) -> None:
        """Relay and run until the outbox and every queue are empty (stub broker).

        Messages enqueued by jobs are followed too. With ``fail_fast`` a dead-lettered
        message raises :class:`JobFailed` with its exception as the cause.
        """
        deadline = time.monotonic() + seconds
        while True:
            # Idle first, then relay: every job that finished before the idle check has
            # committed its outbox rows, so a relay that finds none means nothing is left.
            idle = self._idle()
            sent = await self.relay()
            if idle and sent == 0:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"jobs still running after {seconds} s")
            await asyncio.sleep(0.01)
        if fail_fast:
            self.raise_failures()

    def raise_failures(self) -> None:
        failures = self._recorder.failures[self._reported :]
        self._reported = len(self._recorder.failures)
        if failures:
            actor_name, message_id, exc = failures[0]
            raise JobFailed(f"{actor_name} failed (message {message_id})") from exc

    async def wait_for(
        self, condition: Callable[[], Awaitable[bool]], seconds: float = 15.0
    ) -> None:
        """Relay and poll until ``condition()`` is true (for real brokers)."""
        deadline = time.monotonic() + seconds
        while True:
            await self.relay()
            if await condition():
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"condition not met within {seconds} s")
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        # The worker threads may be waiting on coroutines of this loop: stop off-loop.
        await asyncio.to_thread(self.worker.stop, 5000)
        await self.runtime.stop_background()
        self.broker.close()


def stub_broker() -> StubBroker:
    return StubBroker(middleware=broker_middleware())


StartJobWorker = Callable[..., Awaitable[JobHarness]]


async def enable_plugin(plugin: str, *branch_ids: int) -> None:
    """Enable ``plugin`` for ``branch_ids`` (and their sub-branches) directly in the table.

    For tests of jobs and guards; skips the dependency checks of
    :func:`bankcrm.branches.set_plugin_enabled`.
    """
    from bankcrm import branches, db

    async with db.transaction():
        for branch_id in branch_ids:
            await db.fetch(
                "INSERT INTO bankcrm_plugin_enablement (branch, plugin, enabled, settings,"
                " changed_by, changed_at) VALUES ($1, $2, true, '{}'::jsonb, 'test', now())",
                branch_id,
                plugin,
            )
    branches.invalidate()
