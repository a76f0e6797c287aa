"""The delivery job: sends the pending deliveries an outbox message names.

Each delivery is claimed with ``UPDATE ... WHERE status = 'pending'``, so a message that
arrives twice (relay resent it, worker redelivered it) sends nothing twice.
"""

from __future__ import annotations

from bankcrm import db
from bankcrm.jobs.actors import actor

IN_APP = "in_app"


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


NOTIFICATION_ACTORS = [deliver_notifications]
