"""Deliveries for operators: list them (dead letters first of all) and send one again.

Deliveries are branch-scoped like any record, so an operator sees and retries those of
their branches only. What a notification says stays its recipient's: the operator's
list names the template, channel and recipient, read as the delivery actor within the
operator's branches, never the text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from bankcrm import audit, db
from bankcrm.context import Scope, bind_scope, require_scope
from bankcrm.notifications.delivery import deliver_notifications
from bankcrm.notifications.tables import DELIVERY_ACTOR
from bankcrm.web.problems import Problem, not_found

STATUSES = ("pending", "sending", "sent", "skipped", "dead")
ENTITY = "bankcrm.notification_delivery"


@dataclass(frozen=True)
class DeliveryRow:
    id: int
    branch_id: int
    notification: str
    template: str
    recipient: str
    channel: str
    status: str
    attempts: int
    reason: str
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    retried_at: datetime | None
    retried_by: str


SELECT = """
SELECT d.id, d.branch_id, d.notification::text AS notification, n.template,
       u.username AS recipient, d.channel, d.status, d.attempts, d.last_error,
       d.created_at, d.next_attempt_at, d.sent_at, d.retried_at, d.retried_by
FROM bankcrm_notification_delivery d
JOIN bankcrm_notification n ON n.id = d.notification
JOIN piccolo_user u ON u.id = n.recipient
"""


def _reader(scope: Scope) -> Scope:
    return Scope(actor=DELIVERY_ACTOR, branch_ids=scope.branch_ids, request_id=scope.request_id)


def _row(record: asyncpg.Record) -> DeliveryRow:
    return DeliveryRow(
        id=record["id"],
        branch_id=record["branch_id"],
        notification=record["notification"],
        template=record["template"],
        recipient=record["recipient"],
        channel=record["channel"],
        status=record["status"],
        attempts=record["attempts"],
        reason=record["last_error"],
        created_at=record["created_at"],
        next_attempt_at=record["next_attempt_at"],
        sent_at=record["sent_at"],
        retried_at=record["retried_at"],
        retried_by=record["retried_by"],
    )


async def list_deliveries(status: str, limit: int, before: int | None) -> list[DeliveryRow]:
    """Deliveries of ``status`` in the caller's branches, newest first (keyset on id)."""
    with bind_scope(_reader(require_scope())):
        rows = await db.fetch(
            SELECT + " WHERE d.status = $1 AND ($2::bigint IS NULL OR d.id < $2)"
            " ORDER BY d.id DESC LIMIT $3",
            status,
            before,
            limit,
        )
    return [_row(r) for r in rows]


async def get_delivery(delivery_id: int) -> DeliveryRow | None:
    with bind_scope(_reader(require_scope())):
        row = await db.fetchrow(SELECT + " WHERE d.id = $1", delivery_id)
    return None if row is None else _row(row)


async def retry(delivery_id: int) -> DeliveryRow:
    """Send a dead letter again, once: audited, with a fresh round of attempts.

    Asking again while that retry is under way or done answers the same delivery and
    changes nothing; a delivery outside the caller's branches is a 404. Only dead
    deliveries can be retried (a skipped one follows the recipient's choice).
    """
    scope = require_scope()
    async with db.transaction():
        row = await db.fetchrow(
            "SELECT id, branch_id, status, attempts, last_error, retried_at"
            " FROM bankcrm_notification_delivery WHERE id = $1 FOR UPDATE",
            delivery_id,
        )
        if row is None:
            raise not_found(f"delivery {delivery_id}")
        if row["status"] == "dead":
            await db.fetch(
                "UPDATE bankcrm_notification_delivery SET status = 'pending', attempts = 0,"
                " next_attempt_at = now(), retried_at = now(), retried_by = $2 WHERE id = $1",
                delivery_id,
                scope.actor[:64],
            )
            await audit.record(
                audit.Action.UPDATE,
                ENTITY,
                delivery_id,
                branch_id=row["branch_id"],
                before={
                    "status": "dead",
                    "attempts": row["attempts"],
                    "last_error": row["last_error"],
                },
                after={"status": "pending", "attempts": 0},
                reason="dead letter sent again",
            )
            await deliver_notifications.enqueue([delivery_id])
        elif row["retried_at"] is None:
            raise Problem(
                409,
                f"delivery {delivery_id} is {row['status']}, not dead: only dead letters are"
                " sent again",
                code="not_dead",
            )
    found = await get_delivery(delivery_id)
    if found is None:  # deleted with its notification meanwhile
        raise not_found(f"delivery {delivery_id}")
    return found
