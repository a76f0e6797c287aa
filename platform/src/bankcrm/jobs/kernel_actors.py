"""The kernel's own actors: domain-event delivery and housekeeping."""

from __future__ import annotations

import inspect
import logging
from typing import Any

from bankcrm import branches, db, oauth, piccolo_conf
from bankcrm.context import bind_scope, current_scope
from bankcrm.jobs.actors import actor, current_job
from bankcrm.jobs.outbox import enqueue
from bankcrm.plugin_api import ScheduleSpec
from bankcrm.plugins import KERNEL_PLUGIN_NAME

log = logging.getLogger(__name__)

OUTBOX_KEEP_DAYS = 7
TICKS_KEEP_DAYS = 7
LEDGER_KEEP_DAYS = 30
"""Far longer than any redelivery (retries back off to 10 minutes, at most a few times)."""


@actor("bankcrm.deliver_event", queue_name="bankcrm.events")
async def deliver_event(name: str, payload: dict[str, Any]) -> None:
    """Fan an event out: one message per plugin with an ``on_event`` implementation.

    Each copy carries the emitting scope narrowed to the branches where that plugin is
    enabled, and is retried on its own, so a failing plugin neither blocks the others nor
    makes them handle the event twice.
    """
    scope = current_scope()
    if scope is None:
        log.warning("event without a scope is not delivered", extra={"event": name})
        return
    tree = await branches.snapshot()
    for impl in current_job().registry.impls("on_event"):
        plugin = impl.plugin_name
        narrowed = (
            scope if plugin == KERNEL_PLUGIN_NAME else scope.narrowed(tree.enabled_branches(plugin))
        )
        if not narrowed.branch_ids:
            continue
        with bind_scope(narrowed):
            await enqueue(deliver_event_to, plugin, name, payload)


@actor("bankcrm.deliver_event_to", queue_name="bankcrm.events")
async def deliver_event_to(plugin: str, name: str, payload: dict[str, Any]) -> None:
    """Call one plugin's ``on_event`` with the emitting scope (narrowed for it)."""
    message_scope = current_scope()
    impls = [i for i in current_job().registry.impls("on_event") if i.plugin_name == plugin]
    if message_scope is None or not impls:
        log.warning(
            "event not delivered: no scope, or the plugin is gone",
            extra={"event": name, "plugin": plugin},
        )
        return
    scope = message_scope
    if plugin != KERNEL_PLUGIN_NAME:
        tree = await branches.snapshot()
        scope = message_scope.narrowed(tree.enabled_branches(plugin))
        if not scope.branch_ids:
            log.warning(
                "event not delivered: plugin disabled since",
                extra={"event": name, "plugin": plugin},
            )
            return
    with bind_scope(scope):
        transaction = piccolo_conf.DB.current_transaction.get()
        if scope.branch_ids != message_scope.branch_ids and transaction is not None:
            # The job's connection took the message's scope at checkout; the plugin was
            # disabled for some of those branches since, so narrow the connection too.
            await db.apply_scope(transaction.connection)
        arguments = {"name": name, "payload": payload, "scope": scope}
        for impl in impls:
            result = impl.function(**{arg: arguments[arg] for arg in impl.argnames})
            if inspect.isawaitable(result):
                await result


@actor("bankcrm.prune", queue_name="bankcrm.maintenance", max_retries=2)
async def prune() -> None:
    """Drop relayed outbox rows, old scheduler ticks and old idempotency-ledger rows."""
    await db.fetch(
        "DELETE FROM bankcrm_outbox WHERE sent_at < now() - make_interval(days => $1)",
        OUTBOX_KEEP_DAYS,
    )
    await db.fetch(
        "DELETE FROM bankcrm_schedule_tick WHERE due_at < now() - make_interval(days => $1)",
        TICKS_KEEP_DAYS,
    )
    await db.fetch(
        "DELETE FROM bankcrm_job_execution WHERE done_at < now() - make_interval(days => $1)",
        LEDGER_KEEP_DAYS,
    )
    await oauth.purge_expired()


@actor("bankcrm.audit_seal", queue_name="bankcrm.maintenance", max_retries=2)
async def audit_seal() -> None:
    """Chain the audit rows committed since the last seal (see :mod:`bankcrm.audit`)."""
    from bankcrm import audit

    await audit.seal()


KERNEL_ACTORS = [deliver_event, deliver_event_to, prune, audit_seal]
KERNEL_SCHEDULES = [
    ScheduleSpec(
        "bankcrm.prune", "bankcrm.prune", 3600, "drop relayed outbox rows and old ledger rows"
    ),
    ScheduleSpec(
        "bankcrm.audit_seal",
        "bankcrm.audit_seal",
        60,
        "chain the audit rows committed in the last minute into the hash chain",
    ),
]
