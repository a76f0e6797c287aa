"""Actors: async functions that dramatiq workers run with the sender's scope.

``@actor("sales.send_reminder")`` turns ``async def fn(...) -> None`` into a
:class:`JobActor`: a plain description (name, queue, retry and time limits) that is not
bound to any broker. The kernel binds it to the configured broker when a plugin returns it
from ``register_actors`` (at worker boot), so importing a plugin never connects anywhere
and the same actor serves the worker, the web process (which only enqueues) and tests.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from inspect import iscoroutinefunction
from typing import TYPE_CHECKING, Any, Generic, ParamSpec

if TYPE_CHECKING:
    from bankcrm.plugins import PluginRegistry

P = ParamSpec("P")

DEFAULT_MAX_RETRIES = 5
DEFAULT_MIN_BACKOFF_MS = 5_000
DEFAULT_MAX_BACKOFF_MS = 10 * 60 * 1000
DEFAULT_TIME_LIMIT_MS = 10 * 60 * 1000

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z0-9_.\-]+")
# dramatiq's own queue-name rule; its delay (.DQ) and dead-letter (.XQ) suffixes are reserved.
_QUEUE = re.compile(r"[a-zA-Z_][a-zA-Z0-9._-]*")


@dataclass(frozen=True, eq=False)
class JobActor(Generic[P]):
    """An async job function plus how dramatiq delivers it. Times are milliseconds."""

    name: str
    fn: Callable[P, Awaitable[None]]
    queue_name: str
    max_retries: int
    min_backoff: int
    max_backoff: int
    time_limit: int

    @property
    def prefix(self) -> str:
        """The plugin name this actor claims (``sales`` for ``sales.send_reminder``)."""
        return self.name.split(".", 1)[0]

    async def __call__(self, *args: P.args, **kwargs: P.kwargs) -> None:
        """Run the body directly, in the caller's scope and transaction (unit tests)."""
        await self.fn(*args, **kwargs)

    async def enqueue(self, *args: P.args, **kwargs: P.kwargs) -> str:
        """:func:`bankcrm.jobs.enqueue` with this actor's argument types checked."""
        from bankcrm.jobs.outbox import enqueue

        return await enqueue(self, *args, **kwargs)

    def dramatiq_options(self) -> dict[str, Any]:
        return {
            "max_retries": self.max_retries,
            "min_backoff": self.min_backoff,
            "max_backoff": self.max_backoff,
            # Enforced by the kernel's runner (see JobRuntime); passed on so that a broker
            # configured with dramatiq's TimeLimit middleware agrees instead of defaulting.
            "time_limit": self.time_limit,
        }


_DECLARED: dict[str, JobActor[Any]] = {}


def actor(
    name: str,
    *,
    queue_name: str | None = None,
    max_retries: int = DEFAULT_MAX_RETRIES,
    min_backoff: int = DEFAULT_MIN_BACKOFF_MS,
    max_backoff: int = DEFAULT_MAX_BACKOFF_MS,
    time_limit: int = DEFAULT_TIME_LIMIT_MS,
) -> Callable[[Callable[P, Awaitable[None]]], JobActor[P]]:
    """Declare ``async def fn(...) -> None`` as a job named ``<plugin>.<what>``.

    ``queue_name`` defaults to ``<plugin>.default``; both names must start with the name
    of the plugin that registers the actor (checked at registration). Arguments must be
    JSON values; pass ids rather than personal data, which would otherwise sit in clear in
    the outbox and the broker. The body runs in one database transaction together with
    the idempotency ledger row, so its database effect happens once however often the
    message arrives.
    """
    if not _NAME.fullmatch(name):
        raise ValueError(f"actor name {name!r} must look like '<plugin>.<name>'")
    queue = queue_name or f"{name.split('.', 1)[0]}.default"
    if not _QUEUE.fullmatch(queue) or queue.endswith((".DQ", ".XQ")):
        raise ValueError(f"invalid queue name {queue!r}")
    if max_retries < 0 or min_backoff <= 0 or max_backoff < min_backoff or time_limit <= 0:
        raise ValueError("retries must be >= 0 and backoffs/time limit positive")

    def decorate(fn: Callable[P, Awaitable[None]]) -> JobActor[P]:
        if not iscoroutinefunction(fn):
            raise TypeError(f"actor {name!r} must be an async function")
        declared = JobActor(
            name=name,
            fn=fn,
            queue_name=queue,
            max_retries=max_retries,
            min_backoff=min_backoff,
            max_backoff=max_backoff,
            time_limit=time_limit,
        )
        _DECLARED[name] = declared
        return declared

    return decorate


def declared_actor(name: str) -> JobActor[Any]:
    """The actor of that name declared (imported) in this process."""
    try:
        return _DECLARED[name]
    except KeyError:
        raise LookupError(
            f"no actor named {name!r} is declared in this process: pass the actor object, "
            "or import the module that declares it"
        ) from None


@dataclass(frozen=True)
class JobContext:
    """What a running job may ask about itself (:func:`current_job`)."""

    message_id: str
    actor_name: str
    plugin: str
    retries: int
    registry: PluginRegistry


_current_job: ContextVar[JobContext | None] = ContextVar("bankcrm_job", default=None)


def current_job() -> JobContext:
    job = _current_job.get()
    if job is None:
        raise RuntimeError("not running inside a job")
    return job
