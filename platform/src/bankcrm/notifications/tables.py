"""Notification tables: one row per recipient, one delivery row per channel.

A notification is branch-scoped by its source record's branch (the sender must see that
branch to write it) and, on top of that, visible only to its recipient: a restrictive
row-level-security policy compares ``recipient_id`` with the connection's actor, so a
colleague with the same branches sees nothing (fail closed). The delivery actor reads
notification text as the actor ``system:notifications``.
"""

from __future__ import annotations

from typing import Any

from piccolo.apps.user.tables import BaseUser
from piccolo.columns import (
    JSONB,
    UUID,
    BigSerial,
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Time,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from bankcrm.tables import branch_column, global_table

DELIVERY_ACTOR = "system:notifications"
"""The actor the delivery job binds to read the text it sends."""

MANAGE_PERMISSION = "bankcrm.notification.manage"
"""Operators: list the deliveries of their branches and send dead letters again."""


class Notification(Table, tablename="bankcrm_notification"):
    id = UUID(primary_key=True)
    branch_id = branch_column()
    """The source record's branch."""
    recipient = ForeignKey(BaseUser, on_delete=OnDelete.cascade, index=True)
    template = Varchar(length=128)
    category = Varchar(length=64, default="")
    params = JSONB(default={})
    title_zh = Text(default="")
    body_zh = Text(default="")
    title_en = Text(default="")
    body_en = Text(default="")
    source_plugin = Varchar(length=64)
    source_table = Varchar(length=128)
    source_id = Varchar(length=64)
    created_at = Timestamptz(default=TimestamptzNow())
    read_at = Timestamptz(null=True, default=None)


class Delivery(Table, tablename="bankcrm_notification_delivery"):
    id = BigSerial(primary_key=True)
    branch_id = branch_column()
    notification: ForeignKey[Any] = ForeignKey(Notification, on_delete=OnDelete.cascade, index=True)
    channel = Varchar(length=64)
    status = Varchar(length=16, default="pending", index=True)
    """pending, sending (claimed), sent, skipped (the recipient turned the channel off),
    dead (failed for good)."""
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(default=TimestamptzNow())
    last_error = Text(default="")
    """Why the last attempt failed, the delivery was dead-lettered or skipped."""
    idempotency_key = Varchar(length=128, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)
    retried_at = Timestamptz(null=True, default=None)
    """When an operator last sent a dead letter again (and who: ``retried_by``)."""
    retried_by = Varchar(length=64, default="")


@global_table(
    "a user's own choice of channels, across branches; a row policy lets only that user"
    " change it (senders read it to file a muted in-app notification as read)"
)
class Preference(Table, tablename="bankcrm_notification_preference"):
    """One channel switched on or off for a category, or for one template of it."""

    user = ForeignKey(BaseUser, on_delete=OnDelete.cascade, index=True)
    category = Varchar(length=64)
    template = Varchar(length=128, default="")
    """Empty: the whole category. A template's own row beats its category's."""
    channel = Varchar(length=64)
    enabled = Boolean(default=False)


@global_table(
    "a user's own quiet hours, across branches; a row policy shows them to that user and"
    " the delivery job only"
)
class QuietHours(Table, tablename="bankcrm_notification_quiet_hours"):
    """Local times between which only in-app (and urgent) notifications reach the user."""

    user = ForeignKey(BaseUser, on_delete=OnDelete.cascade, unique=True)
    starts = Time()
    ends = Time()
    """Before ``starts`` means overnight (22:00 to 08:00)."""
    timezone = Varchar(length=64, default="Asia/Shanghai")


NOTIFICATION_TABLES: list[type[Table]] = [Notification, Delivery, Preference, QuietHours]

RECIPIENT_POLICY = "bankcrm_notification_recipient"
"""Created by the migration that adds the tables: a restrictive SELECT policy, combined
with AND to the branch policy, so reads (and updates and deletes, which read the rows
they touch) are the recipient's alone. A partial index on unread rows serves the badge."""

OWNER_POLICIES = ("bankcrm_notification_preference_owner", "bankcrm_notification_quiet_owner")
"""Created by the migration that adds the settings tables: a user writes only their own
preferences and quiet hours; quiet hours are read by that user and the delivery actor."""
