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
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from bankcrm.tables import branch_column

DELIVERY_ACTOR = "system:notifications"
"""The actor the delivery job binds to read the text it sends."""


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
    """pending, sent, dead."""
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(default=TimestamptzNow())
    last_error = Text(default="")
    idempotency_key = Varchar(length=128, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)


NOTIFICATION_TABLES: list[type[Table]] = [Notification, Delivery]

RECIPIENT_POLICY = "bankcrm_notification_recipient"
"""Created by the migration that adds the tables: a restrictive SELECT policy, combined
with AND to the branch policy, so reads (and updates and deletes, which read the rows
they touch) are the recipient's alone. A partial index on unread rows serves the badge."""
