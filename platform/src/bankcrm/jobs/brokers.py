"""Which dramatiq broker carries the messages, and the PostgreSQL broker's schema.

Default: ``dramatiq-postgres`` on the application database, so a deployment needs no
other service. Its schema (``dramatiq``) is created by :func:`prepare_broker_schema`,
which ``Kernel.migrate`` calls as the owner; the broker itself then connects as the
application role with plain read/write grants on that schema. That is the safer choice
over connecting the worker as the owner: the owner can alter or drop the RLS policies,
so a bug or an injected query in a job must never run with its privileges, and the
worker process needs no credential the web process doesn't already have.

``BANKCRM_BROKER_URL`` = ``redis://...`` or ``amqp://...`` selects Redis or RabbitMQ
for scale-out instead; the outbox, idempotency ledger and scheduler stay in PostgreSQL.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg
from dramatiq import Broker
from dramatiq.middleware import (
    AgeLimit,
    Callbacks,
    CurrentMessage,
    Middleware,
    Pipelines,
    Retries,
    ShutdownNotifications,
)

from bankcrm.db import quote_ident

SCHEMA = "dramatiq"


def broker_middleware() -> list[Middleware]:
    """dramatiq's defaults minus ``TimeLimit``, plus ``CurrentMessage``.

    ``TimeLimit`` interrupts a thread with an asynchronous exception, which cannot reach
    a thread waiting on the event loop; the kernel's runner enforces the limit instead
    by cancelling the coroutine (so its transaction rolls back).
    """
    return [
        AgeLimit(),
        ShutdownNotifications(),
        Callbacks(),
        Pipelines(),
        Retries(),
        CurrentMessage(),
    ]


def _env_seconds(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


@dataclass(frozen=True)
class PostgresTuning:
    """How quickly the PostgreSQL broker notices a dead worker and requeues its messages.

    A worker heartbeats every ``heartbeat``; messages held by a worker silent for
    ``heartbeat_ttl`` are requeued by whichever worker runs maintenance (every
    ``maintenance``, jittered). ``poll`` bounds the wait when a NOTIFY is missed.
    """

    poll: float = 1.0
    heartbeat: float = 15.0
    heartbeat_ttl: float = 60.0
    maintenance: float = 30.0
    pool_size: int = 64
    """Connections the broker may open (on demand). Each queue's consumer and its delay
    queue's hold one steadily, so every plugin with actors needs two more: the library's
    default of 16 left the queues past the eighth waiting for a connection for ever."""

    @classmethod
    def from_env(cls) -> PostgresTuning:
        return cls(
            poll=_env_seconds("BANKCRM_JOBS_POLL_SECONDS", cls.poll),
            heartbeat=_env_seconds("BANKCRM_JOBS_HEARTBEAT_SECONDS", cls.heartbeat),
            heartbeat_ttl=_env_seconds("BANKCRM_JOBS_HEARTBEAT_TTL_SECONDS", cls.heartbeat_ttl),
            maintenance=_env_seconds("BANKCRM_JOBS_MAINTENANCE_SECONDS", cls.maintenance),
            pool_size=int(_env_seconds("BANKCRM_JOBS_POOL_SIZE", cls.pool_size)),
        )


def with_pool_size(url: str, size: int) -> str:
    """``url`` with the broker pool's ``maxconn`` (read by dramatiq-postgres from the query),
    unless the URL sets it already."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.setdefault("maxconn", str(size))
    return urlunsplit(parts._replace(query=urlencode(query)))


def make_broker(
    broker_url: str | None, app_url: str, tuning: PostgresTuning | None = None
) -> Broker:
    """The broker for ``BANKCRM_BROKER_URL`` (``None``: PostgreSQL at ``app_url``)."""
    middleware = broker_middleware()
    if broker_url is None:
        from dramatiq_postgres import PostgresBroker

        tuning = tuning or PostgresTuning.from_env()
        broker: Broker = PostgresBroker(
            url=with_pool_size(app_url, tuning.pool_size),
            schema=SCHEMA,
            results=False,
            middleware=middleware,
            poll_interval=tuning.poll,
            heartbeat_interval=tuning.heartbeat,
            heartbeat_ttl=tuning.heartbeat_ttl,
            maintenance_interval=tuning.maintenance,
        )
        return broker
    scheme = urlsplit(broker_url).scheme
    if scheme in {"redis", "rediss"}:
        from dramatiq.brokers.redis import RedisBroker

        return RedisBroker(url=broker_url, middleware=middleware)
    if scheme in {"amqp", "amqps"}:
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        # Confirmed publishes: the relay marks an outbox row sent only once RabbitMQ has it.
        return RabbitmqBroker(url=broker_url, middleware=middleware, confirm_delivery=True)
    raise ValueError(
        f"BANKCRM_BROKER_URL must be redis://... or amqp://..., not {scheme or broker_url!r}"
    )


async def prepare_broker_schema(owner: asyncpg.Connection, app_role: str) -> None:
    """Create the PostgreSQL broker's schema if missing; let ``app_role`` use it.

    Idempotent and safe when several processes migrate at once: it takes the same
    advisory lock as ``dramatiq_postgres.init``.
    """
    from dramatiq_postgres import generate_init_sql

    schema, role = quote_ident(SCHEMA), quote_ident(app_role)
    async with owner.transaction():
        await owner.execute(
            "SELECT pg_advisory_xact_lock(hashtext($1), hashtext('dramatiq-postgres-ddl'))",
            f"{SCHEMA}.queue",
        )
        if await owner.fetchval("SELECT to_regclass($1)", f"{schema}.queue") is None:
            await owner.execute(generate_init_sql(SCHEMA))
        await owner.execute(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
        await owner.execute(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}"
        )
        await owner.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role}")
