"""``bankcrm worker``: dramatiq worker threads, the outbox relay and the scheduler.

Threads of this process:

- the main thread: signals, supervision and the orderly stop;
- ``bankcrm-jobs-loop``: the one asyncio loop that owns the kernel and its pool, running
  every actor's coroutine, the outbox relay and the scheduler;
- dramatiq's consumer and worker threads, which hand each message to that loop.

SIGTERM/SIGINT stop consuming, let running messages finish (up to ``STOP_SECONDS``),
then close everything. A message still running then is rolled back and redelivered.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
import time
from collections.abc import Coroutine
from types import FrameType
from typing import Any, TypeVar

import asyncpg
import dramatiq

from bankcrm.jobs.brokers import make_broker
from bankcrm.jobs.execution import JobRuntime
from bankcrm.runtime import Kernel, activate, boot

log = logging.getLogger(__name__)

T = TypeVar("T")

STOP_SECONDS = 12.0
"""Below the 20 s the ``serve`` supervisor waits before it kills the worker."""
SHUTDOWN_STEP_SECONDS = 3.0
"""Per step after the workers stopped; a job still running past ``STOP_SECONDS`` holds a
pool connection, so closing the pool would wait for it: give up, and let the database
roll it back when the process exits (the broker redelivers it)."""
BOOT_RETRY_SECONDS = 10.0
BOOT_TIMEOUT_SECONDS = 120.0
RELAY_POLL_SECONDS = float(os.environ.get("BANKCRM_JOBS_RELAY_POLL_SECONDS", "5"))


async def _boot_with_retry() -> Kernel:
    # The worker may start while PostgreSQL is still starting (or restarting); the parent
    # already migrated, so this only connects.
    deadline = time.monotonic() + BOOT_RETRY_SECONDS
    while True:
        try:
            kernel = await boot(migrate=False, connect=True)
            activate(kernel)
            return kernel
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            if time.monotonic() >= deadline:
                raise
            log.warning("database not reachable yet; retrying", extra={"error": str(exc)})
            await asyncio.sleep(0.5)


def _call(
    loop: asyncio.AbstractEventLoop, coroutine: Coroutine[Any, Any, T], timeout: float = 30.0
) -> T:
    return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout)


def run_worker_process(threads: int) -> int:
    """Run until SIGTERM/SIGINT; 0 after an orderly stop, 1 if it could not run."""
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        # Only set the event: logging here could deadlock on a lock the main thread holds.
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    loop = asyncio.new_event_loop()
    loop_thread = threading.Thread(target=loop.run_forever, name="bankcrm-jobs-loop", daemon=True)
    loop_thread.start()
    try:
        return _serve(loop, loop_thread, threads, stop)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        loop_thread.join(5)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _serve(
    loop: asyncio.AbstractEventLoop,
    loop_thread: threading.Thread,
    threads: int,
    stop: threading.Event,
) -> int:
    try:
        kernel = _call(loop, _boot_with_retry(), BOOT_TIMEOUT_SECONDS)
    except Exception:
        log.exception("worker could not start")
        return 1
    code = 0
    broker: dramatiq.Broker | None = None
    runtime: JobRuntime | None = None
    worker: dramatiq.Worker | None = None
    try:
        broker = make_broker(kernel.settings.broker_url, kernel.app_url)
        dramatiq.set_broker(broker)
        runtime = JobRuntime(kernel, broker, loop)
        _call(loop, kernel.registry.call_all("startup", app=runtime))
        worker = dramatiq.Worker(broker, worker_threads=threads)
        worker.start()
        _call(loop, runtime.start_background(RELAY_POLL_SECONDS))
        log.info(
            "worker running",
            extra={
                "threads": threads,
                "broker": type(broker).__name__,
                "actors": sorted(runtime.catalogue.actors),
                "problems": runtime.catalogue.problems,
            },
        )
        while not stop.wait(1.0):
            if not loop_thread.is_alive():
                log.error("the jobs event loop died; exiting so the supervisor restarts us")
                code = 1
                break
        log.info("worker stopping")
    except Exception:
        log.exception("worker failed")
        code = 1
    finally:
        if worker is not None:
            worker.stop(timeout=int(STOP_SECONDS * 1000))
        if loop_thread.is_alive():
            try:
                if runtime is not None:
                    _call(loop, runtime.stop_background(), SHUTDOWN_STEP_SECONDS)
                    _call(
                        loop,
                        kernel.registry.call_all("shutdown", app=runtime),
                        SHUTDOWN_STEP_SECONDS,
                    )
                _call(loop, kernel.disconnect(), SHUTDOWN_STEP_SECONDS)
            except Exception:
                log.exception("worker did not shut down cleanly")
                code = 1
        if broker is not None:
            broker.close()
        kernel.stop_embedded()
    log.info("worker stopped", extra={"code": code})
    return code
