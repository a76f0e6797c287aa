"""The transactional outbox: no message reaches the broker before its data commits.

``enqueue`` writes the message into ``bankcrm_outbox`` in the caller's transaction and
signals ``pg_notify`` (delivered only at commit). The :class:`Relay` moves committed rows
to the broker and marks them sent; rows are claimed with ``FOR UPDATE SKIP LOCKED`` so
any number of relays can run. A relay that dies between sending and marking re-sends the
same message id later, which the idempotency ledger absorbs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import asyncpg
from dramatiq import Broker, Message

from bankcrm import db, piccolo_conf
from bankcrm.context import Scope, current_scope, require_scope
from bankcrm.jobs.actors import JobActor, declared_actor

log = logging.getLogger(__name__)

OUTBOX_CHANNEL = "bankcrm_outbox"
SCOPE_OPTION = "bankcrm_scope"
RELAY_BATCH = 100


class OutsideTransaction(RuntimeError):
    """``enqueue`` was called outside ``db.transaction()``."""


def scope_to_option(scope: Scope) -> dict[str, Any]:
    return {
        "actor": scope.actor,
        "branch_ids": sorted(scope.branch_ids),
        "permissions": sorted(scope.permissions),
        "user_id": scope.user_id,
        "client_id": scope.client_id,
        "home_branch_id": scope.home_branch_id,
        "username": scope.username,
        "is_superuser": scope.is_superuser,
        "request_id": scope.request_id,
    }


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def scope_from_option(value: Any) -> Scope | None:
    """The scope a message carries; ``None`` (sees nothing) when absent or malformed."""
    if not isinstance(value, dict):
        return None
    try:
        return Scope(
            actor=str(value["actor"]),
            branch_ids=frozenset(int(b) for b in value["branch_ids"]),
            permissions=frozenset(str(p) for p in value.get("permissions", ())),
            user_id=_optional_int(value.get("user_id")),
            client_id=_optional_int(value.get("client_id")),
            home_branch_id=_optional_int(value.get("home_branch_id")),
            username=str(value.get("username", "")),
            is_superuser=value.get("is_superuser") is True,
            request_id=str(value["request_id"]),
        )
    except (KeyError, TypeError, ValueError):
        log.warning("job message carries a malformed scope; running with none")
        return None


async def enqueue(target: JobActor[Any] | str, *args: Any, **kwargs: Any) -> str:
    """Queue a job in the current transaction; it is sent only after the commit.

    The current scope travels with the message and is bound while the job runs. Returns
    the message id. Arguments must be JSON values.
    """
    if piccolo_conf.DB.current_transaction.get() is None:
        raise OutsideTransaction(
            "enqueue must run inside `async with db.transaction()`: the message is sent "
            "after that transaction commits, never before"
        )
    job_actor = target if isinstance(target, JobActor) else declared_actor(target)
    scope = current_scope()
    message: Message[Any] = Message(
        queue_name=job_actor.queue_name,
        actor_name=job_actor.name,
        args=args,
        kwargs=kwargs,
        options={} if scope is None else {SCOPE_OPTION: scope_to_option(scope)},
    )
    try:
        body = json.dumps(message.asdict(), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"arguments of {job_actor.name} must be JSON values: {exc}") from exc
    await db.fetch(
        "INSERT INTO bankcrm_outbox (queue_name, actor_name, message, created_at)"
        " VALUES ($1, $2, $3::jsonb, now())",
        job_actor.queue_name,
        job_actor.name,
        body,
    )
    await db.fetch("SELECT pg_notify($1, '')", OUTBOX_CHANNEL)
    return message.message_id


async def emit_event(name: str, payload: dict[str, Any]) -> str:
    """Publish a domain event from the current transaction (a scope must be bound).

    After the commit, the kernel actor ``bankcrm.deliver_event`` hands it to the
    ``on_event`` implementation of every plugin enabled for the emitting scope's branches.
    """
    from bankcrm.jobs.kernel_actors import deliver_event

    require_scope()
    return await enqueue(deliver_event, name, payload)


def _decode(value: Any) -> Message[Any]:
    fields = json.loads(value) if isinstance(value, str) else dict(value)
    return Message(**fields)


class Relay:
    """Moves committed outbox rows to ``broker``."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        # Broker clients block; one thread keeps them off the event loop and in order.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bankcrm-relay")

    def _send(self, message: Message[Any]) -> None:
        # Declared on demand so a message for an actor this process lacks still reaches
        # the broker (and the dead-letter queue) instead of blocking the outbox.
        self.broker.declare_queue(message.queue_name)
        self.broker.enqueue(message)

    async def relay_once(self, limit: int = RELAY_BATCH) -> int:
        """Send up to ``limit`` committed, unsent rows; return how many were sent.

        Runs on its own connection, outside any transaction of the caller: it only
        ever sees committed rows.
        """
        pool = piccolo_conf.DB.pool
        if pool is None:
            raise RuntimeError("the database pool is not running")
        loop = asyncio.get_running_loop()
        sent: list[int] = []
        async with pool.acquire() as connection, connection.transaction():
            rows = await connection.fetch(
                "SELECT id, message FROM bankcrm_outbox WHERE sent_at IS NULL"
                " ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
                limit,
            )
            for row in rows:
                try:
                    await loop.run_in_executor(self._executor, self._send, _decode(row["message"]))
                except Exception:
                    log.exception("outbox relay could not send", extra={"outbox_id": row["id"]})
                    break
                sent.append(row["id"])
            if sent:
                await connection.execute(
                    "UPDATE bankcrm_outbox SET sent_at = now() WHERE id = ANY($1::int[])", sent
                )
        return len(sent)

    async def run(self, poll_seconds: float) -> None:
        """Relay forever: woken by NOTIFY at each commit, polling as a fallback."""
        wake = asyncio.Event()
        listener: asyncpg.Connection | None = None

        def notified(*_: Any) -> None:
            wake.set()

        try:
            while True:
                if listener is None or listener.is_closed():
                    listener = await self._listen(listener, notified)
                wake.clear()
                try:
                    while await self.relay_once() == RELAY_BATCH:
                        pass
                except Exception:
                    log.exception("outbox relay failed; retrying")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), poll_seconds)
        finally:
            await self._release(listener, notified)

    async def _listen(
        self, previous: asyncpg.Connection | None, callback: Any
    ) -> asyncpg.Connection | None:
        await self._release(previous, callback)
        pool = piccolo_conf.DB.pool
        if pool is None:
            return None
        try:
            connection: asyncpg.Connection = await pool.acquire()
        except Exception:
            log.warning("outbox relay cannot LISTEN; polling only", exc_info=True)
            return None
        try:
            await connection.add_listener(OUTBOX_CHANNEL, callback)
        except Exception:
            log.warning("outbox relay cannot LISTEN; polling only", exc_info=True)
            await pool.release(connection)
            return None
        return connection

    async def _release(self, connection: asyncpg.Connection | None, callback: Any) -> None:
        pool = piccolo_conf.DB.pool
        if connection is None or pool is None:
            return
        with contextlib.suppress(Exception):
            if not connection.is_closed():
                await connection.remove_listener(OUTBOX_CHANNEL, callback)
            await pool.release(connection)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
