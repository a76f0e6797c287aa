"""The delivery jobs: send the deliveries an outbox message names, and retry what is due.

In-app deliveries are recorded in the job's own transaction. Every other channel's
delivery is first decided on a connection of its own, in one short transaction that
commits at once: skipped with the reason if the recipient turned the channel off, held
until the recipient's quiet hours end (``next_attempt_at``), or to be sent. Those are
claimed :data:`SEND_CONCURRENCY` at a time (``status = 'sending'`` with a lease in
``next_attempt_at``, committed at once), sent together, then marked sent, pending again
with back-off, or dead with the reason. A worker that dies mid-send leaves the
claim behind; when the lease ends, :func:`retry_notifications` (every minute) sends it
again under the same idempotency key. A message that arrives twice finds nothing to
claim.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg

from bankcrm import db, piccolo_conf
from bankcrm.context import Scope, bind_scope, current_scope
from bankcrm.jobs.actors import actor
from bankcrm.notifications.channels import (
    IN_APP,
    MAX_ATTEMPTS,
    SEND_TIMEOUT_SECONDS,
    ChannelCatalogue,
    DeliveryRefused,
    NotificationChannel,
    OutgoingNotification,
    backoff_seconds,
)
from bankcrm.notifications.preferences import QuietPeriod
from bankcrm.notifications.tables import DELIVERY_ACTOR
from bankcrm.notifications.templates import TemplateCatalogue
from bankcrm.plugin_api import ScheduleSpec

log = logging.getLogger(__name__)

LEASE_SECONDS = int(SEND_TIMEOUT_SECONDS * 2)
SEND_CONCURRENCY = 10
"""Deliveries of one message claimed and sent at once (the mail server sees as many
connections), recorded together when all of them are done: a worker killed meanwhile
sends at most these again, under the same idempotency keys."""
RETRY_BATCH = 5_000

GATE_SQL = """
SELECT d.id, d.channel, n.template, n.category, p.enabled, p.template AS rule,
       q.starts, q.ends, q.timezone
FROM bankcrm_notification_delivery d
JOIN bankcrm_notification n ON n.id = d.notification
LEFT JOIN LATERAL (
    SELECT p.enabled, p.template FROM bankcrm_notification_preference p
    WHERE p."user" = n.recipient AND p.category = n.category AND p.channel = d.channel
      AND p.template IN ('', n.template)
    ORDER BY p.template DESC LIMIT 1
) p ON true
LEFT JOIN bankcrm_notification_quiet_hours q ON q."user" = n.recipient
WHERE d.id = ANY($1::bigint[]) AND d.channel <> 'in_app'
  AND d.status IN ('pending', 'sending') AND d.next_attempt_at <= now()
FOR UPDATE OF d SKIP LOCKED
"""
"""Due deliveries of a message with what decides them: the recipient's preference (a
template's own row before its category's) and quiet hours. Rows another worker holds
are skipped: it is deciding them."""

SKIP_SQL = """
UPDATE bankcrm_notification_delivery d SET status = 'skipped', last_error = r.reason
FROM unnest($1::bigint[], $2::text[]) AS r(id, reason) WHERE d.id = r.id
"""

DEFER_SQL = """
UPDATE bankcrm_notification_delivery d SET status = 'pending', next_attempt_at = r.until
FROM unnest($1::bigint[], $2::timestamptz[]) AS r(id, until) WHERE d.id = r.id
"""

CLAIM_SQL = """
UPDATE bankcrm_notification_delivery d
SET status = 'sending', attempts = d.attempts + 1,
    next_attempt_at = now() + make_interval(secs => $2)
FROM bankcrm_notification n, piccolo_user u
WHERE d.id = ANY($1::bigint[]) AND d.channel <> 'in_app'
  AND d.status IN ('pending', 'sending') AND d.next_attempt_at <= now()
  AND n.id = d.notification AND u.id = n.recipient
RETURNING d.id, d.channel, d.attempts, d.idempotency_key, n.recipient, u.username,
          u.email, n.template, n.title_zh, n.body_zh, n.title_en, n.body_en,
          n.source_plugin, n.source_table, n.source_id, n.branch_id
"""


@dataclass
class Decisions:
    """What the gate decided for each due delivery."""

    claim: list[int] = field(default_factory=list)
    skip: dict[int, str] = field(default_factory=dict)
    """delivery id -> reason."""
    defer: dict[int, datetime] = field(default_factory=dict)
    """delivery id -> end of the recipient's quiet hours."""


def decide(
    rows: list[Any],
    templates: TemplateCatalogue,
    channels: ChannelCatalogue,
    now: datetime,
) -> Decisions:
    decisions = Decisions()
    for row in rows:
        delivery_id, channel_name = row["id"], row["channel"]
        if row["enabled"] is False:
            what = f"template {row['template']}" if row["rule"] else f"category {row['category']}"
            decisions.skip[delivery_id] = f"the recipient turned {channel_name} off for {what}"
            continue
        template = templates.templates.get(row["template"])
        channel = channels.get(channel_name)
        held = (
            row["starts"] is not None
            and not (template is not None and template.urgent)
            and (channel is None or channel.deferred_in_quiet_hours)
        )
        if held:
            quiet = QuietPeriod(row["starts"], row["ends"], row["timezone"])
            until = quiet.until(now)
            if until is not None:
                decisions.defer[delivery_id] = until
                continue
        decisions.claim.append(delivery_id)
    return decisions


@contextlib.asynccontextmanager
async def _own_connection() -> AsyncIterator[asyncpg.Connection]:
    """A connection outside the job's transaction: what it writes commits at once."""
    pool = piccolo_conf.DB.pool
    if pool is None:
        raise RuntimeError("the database pool is not running")
    async with pool.acquire() as connection:
        yield connection


def _outgoing(row: Any) -> OutgoingNotification:
    return OutgoingNotification(
        delivery_id=row["id"],
        idempotency_key=row["idempotency_key"],
        channel=row["channel"],
        attempt=row["attempts"],
        recipient_id=row["recipient"],
        recipient_username=row["username"],
        recipient_email=row["email"] or "",
        template=row["template"],
        title_zh=row["title_zh"],
        body_zh=row["body_zh"],
        title_en=row["title_en"],
        body_en=row["body_en"],
        source={
            "plugin": row["source_plugin"],
            "table": row["source_table"],
            "id": row["source_id"],
            "branch_id": row["branch_id"],
        },
    )


async def _record(
    connection: asyncpg.Connection,
    outcomes: list[tuple[OutgoingNotification, str | None, bool]],
) -> None:
    """Mark sent deliveries in one statement; each failure with its reason and back-off."""
    sent = [outgoing.delivery_id for outgoing, error, _ in outcomes if error is None]
    if sent:
        await connection.execute(
            "UPDATE bankcrm_notification_delivery SET status = 'sent', sent_at = now(),"
            " last_error = '' WHERE id = ANY($1::bigint[]) AND status = 'sending'",
            sent,
        )
    for outgoing, error, permanent in outcomes:
        if error is None:
            continue
        if permanent or outgoing.attempt >= MAX_ATTEMPTS:
            await connection.execute(
                "UPDATE bankcrm_notification_delivery SET status = 'dead', last_error = $2"
                " WHERE id = $1 AND status = 'sending'",
                outgoing.delivery_id,
                error[:2000],
            )
        else:
            await connection.execute(
                "UPDATE bankcrm_notification_delivery SET status = 'pending', last_error = $2,"
                " next_attempt_at = now() + make_interval(secs => $3)"
                " WHERE id = $1 AND status = 'sending'",
                outgoing.delivery_id,
                error[:2000],
                backoff_seconds(outgoing.attempt),
            )


async def _send_one(
    channel: NotificationChannel | None, outgoing: OutgoingNotification
) -> tuple[str | None, bool]:
    """The error (None when sent) and whether it is permanent."""
    if channel is None or channel.send is None:
        return f"no channel named {outgoing.channel!r} is installed", True
    try:
        await asyncio.wait_for(channel.send(outgoing), SEND_TIMEOUT_SECONDS)
    except DeliveryRefused as exc:
        return str(exc) or type(exc).__name__, True
    except TimeoutError as exc:
        # The channel's own timeout says what it waited for; wait_for's says nothing.
        detail = f"{type(exc).__name__}: {exc}" if str(exc) else "no answer"
        return f"{detail} (after at most {SEND_TIMEOUT_SECONDS:.0f} s)", False
    except Exception as exc:
        log.warning(
            "notification delivery failed",
            exc_info=True,
            extra={"delivery_id": outgoing.delivery_id, "channel": outgoing.channel},
        )
        return f"{type(exc).__name__}: {exc}", False
    return None, False


async def send_deliveries(delivery_ids: list[int], *, now: datetime | None = None) -> int:
    """Decide and send the due deliveries of other channels than in-app: skip those the
    recipient turned off, hold those in quiet hours (``now``: the clock they are judged
    by), claim and send the rest. How many were claimed."""
    from bankcrm.notifications.service import catalogue, channels

    scope = current_scope()
    if scope is None:
        log.warning("notification deliveries without a scope are not sent")
        return 0
    installed = channels()
    reader = Scope(actor=DELIVERY_ACTOR, branch_ids=scope.branch_ids, request_id=scope.request_id)
    claimed = 0
    with bind_scope(reader):
        async with _own_connection() as connection:
            async with connection.transaction():
                due = await connection.fetch(GATE_SQL, delivery_ids)
                decided = decide(due, catalogue(), installed, now or datetime.now(UTC))
                if decided.skip:
                    await connection.execute(
                        SKIP_SQL, list(decided.skip), list(decided.skip.values())
                    )
                if decided.defer:
                    await connection.execute(
                        DEFER_SQL, list(decided.defer), list(decided.defer.values())
                    )
            # Claimed a group at a time, each sent within its lease: a batch claimed at once
            # could outlive the lease while waiting behind a slow server.
            for start in range(0, len(decided.claim), SEND_CONCURRENCY):
                rows = await connection.fetch(
                    CLAIM_SQL, decided.claim[start : start + SEND_CONCURRENCY], LEASE_SECONDS
                )
                group = [_outgoing(row) for row in rows]
                results = await asyncio.gather(
                    *(_send_one(installed.get(o.channel), o) for o in group)
                )
                outcomes = [
                    (o, error, dead) for o, (error, dead) in zip(group, results, strict=True)
                ]
                await _record(connection, outcomes)
                claimed += len(group)
    return claimed


@actor("bankcrm.deliver_notifications", queue_name="bankcrm.notifications")
async def deliver_notifications(delivery_ids: list[int]) -> None:
    # In-app notifications are already where they belong (the recipient's list):
    # delivering them only records that they went out.
    await db.fetch(
        "UPDATE bankcrm_notification_delivery SET status = 'sent', sent_at = now(),"
        " attempts = attempts + 1 WHERE id = ANY($1::bigint[]) AND status = 'pending'"
        " AND channel = $2",
        delivery_ids,
        IN_APP,
    )
    await send_deliveries(delivery_ids)


@actor("bankcrm.retry_notifications", queue_name="bankcrm.notifications", max_retries=2)
async def retry_notifications() -> None:
    """Re-send deliveries whose back-off, quiet hours or lease (a dead worker) ended."""
    rows = await db.fetch(
        # Due, and not the first attempt the outbox message of notify() is making now:
        # backed off, held by quiet hours, a dead worker's lease, or a lost message.
        "SELECT id FROM bankcrm_notification_delivery"
        " WHERE status IN ('pending', 'sending') AND next_attempt_at <= now()"
        " AND (next_attempt_at > created_at OR created_at < now() - interval '2 minutes')"
        " ORDER BY next_attempt_at LIMIT $1",
        RETRY_BATCH,
    )
    ids = [row["id"] for row in rows]
    for start in range(0, len(ids), 500):
        await deliver_notifications.enqueue(ids[start : start + 500])


NOTIFICATION_ACTORS = [deliver_notifications, retry_notifications]
NOTIFICATION_SCHEDULES = [
    ScheduleSpec(
        "bankcrm.retry_notifications",
        "bankcrm.retry_notifications",
        60,
        "re-send notification deliveries whose back-off or quiet hours ended",
    )
]
