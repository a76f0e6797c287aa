"""Sending notifications inside a business transaction, and reading them back.

:func:`notify` writes the notification rows, one delivery row per channel and the
outbox messages that carry the delivery ids, all in the caller's transaction: if the
business change rolls back, nothing was ever sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bankcrm import branches, db, piccolo_conf
from bankcrm.jobs.outbox import OutsideTransaction
from bankcrm.notifications import mail
from bankcrm.notifications.channels import IN_APP, ChannelCatalogue, collect_channels
from bankcrm.notifications.preferences import muted_in_app
from bankcrm.notifications.templates import TemplateCatalogue, collect_templates, render
from bankcrm.plugins import PluginRegistry
from bankcrm.settings import Settings
from bankcrm.web.problems import invalid

MESSAGE_BATCH = 500
"""Delivery ids per outbox message: a fan-out costs one outbox row per 500 deliveries."""

MAX_RECIPIENTS = 100_000

_catalogue: TemplateCatalogue | None = None
_channels: ChannelCatalogue | None = None


def install(registry: PluginRegistry, settings: Settings) -> None:
    """Collect the templates and channels of ``registry`` and configure mail (the kernel
    does this at connect time, in the web process and the worker)."""
    global _catalogue, _channels
    _catalogue = collect_templates(registry)
    _channels = collect_channels(registry)
    mail.configure(settings.mail)


def channels() -> ChannelCatalogue:
    if _channels is None:
        raise RuntimeError("notification channels are not installed: connect the kernel first")
    return _channels


def catalogue() -> TemplateCatalogue:
    if _catalogue is None:
        raise RuntimeError("notification templates are not installed: connect the kernel first")
    return _catalogue


@dataclass(frozen=True)
class NotificationSource:
    """The record a notification is about, so the UI can link to it."""

    plugin: str
    table: str
    id: str | int
    branch_id: int
    """The record's branch: the sender must see it, and so must every recipient."""


async def _recipient_rows(recipients: list[int]) -> list[Any]:
    return await db.fetch(
        "SELECT u.id, u.active, array_remove(array_agg(m.branch), NULL) AS branches"
        " FROM piccolo_user u LEFT JOIN bankcrm_membership m ON m.user = u.id"
        " WHERE u.id = ANY($1::int[]) GROUP BY u.id",
        recipients,
    )


async def able_to_receive(recipients: Iterable[int], branch_id: int) -> list[int]:
    """Those of ``recipients`` that :func:`notify` accepts for a source in ``branch_id``:
    active users whose memberships reach the branch (for a job choosing whom to tell)."""
    users = list(dict.fromkeys(int(r) for r in recipients))
    tree = await branches.snapshot()
    return [
        row["id"]
        for row in await _recipient_rows(users)
        if row["active"] and any(branch_id in tree.subtree(b) for b in row["branches"])
    ]


async def _check_recipients(recipients: list[int], branch_id: int) -> None:
    found = {row["id"]: row for row in await _recipient_rows(recipients)}
    tree = await branches.snapshot()
    for index, user_id in enumerate(recipients):
        row = found.get(user_id)
        where = f"recipients[{index}]"
        if row is None or not row["active"]:
            raise invalid(where, f"no active user with id {user_id}")
        if not any(branch_id in tree.subtree(b) for b in row["branches"]):
            raise invalid(where, f"user {user_id} cannot see branch {branch_id} of the source")


async def notify(
    recipients: Iterable[int],
    template: str,
    params: Mapping[str, Any],
    source: NotificationSource,
) -> list[uuid.UUID]:
    """Notify users about ``source`` with ``template``; sent only after the caller commits.

    Must run inside ``db.transaction()``. Unknown templates, missing parameters, unknown
    or inactive recipients and recipients who cannot see the source's branch are refused
    with a 422 :class:`~bankcrm.web.problems.Problem` naming the input, before anything
    is written. Returns the new notification ids, one per recipient.
    """
    from bankcrm.notifications.delivery import deliver_notifications

    if piccolo_conf.DB.current_transaction.get() is None:
        raise OutsideTransaction(
            "notify must run inside `async with db.transaction()`: notifications are sent "
            "after that transaction commits, never before"
        )
    users = list(dict.fromkeys(int(r) for r in recipients))
    if not users:
        raise invalid("recipients", "at least one recipient is required")
    if len(users) > MAX_RECIPIENTS:
        raise invalid("recipients", f"at most {MAX_RECIPIENTS} recipients per call")
    spec = catalogue().get(template)
    text = render(spec, params)
    await _check_recipients(users, source.branch_id)
    muted = await muted_in_app(users, spec)
    encoded_params = db.jsonb(dict(params))
    ids = [uuid.uuid4() for _ in users]
    # One statement over arrays: a row-by-row executemany cost 10 s at 100,000 recipients.
    await db.fetch(
        "INSERT INTO bankcrm_notification (id, branch_id, recipient, template, category,"
        " params, title_zh, body_zh, title_en, body_en, source_plugin, source_table,"
        " source_id, created_at, read_at)"
        " SELECT r.id, $4, r.recipient, $5, $6, $7::jsonb, $8, $9, $10, $11, $12, $13, $14,"
        " now(), CASE WHEN r.muted THEN now() END"
        " FROM unnest($1::uuid[], $2::int[], $3::bool[]) AS r(id, recipient, muted)",
        ids,
        users,
        [user_id in muted for user_id in users],
        source.branch_id,
        spec.key,
        spec.category,
        encoded_params,
        text.title_zh,
        text.body_zh,
        text.title_en,
        text.body_en,
        source.plugin,
        source.table,
        str(source.id),
    )
    muted_ids = [n for n, user_id in zip(ids, users, strict=True) if user_id in muted]
    delivery_ids: list[int] = []
    installed = channels()
    for channel in spec.channels:
        if installed.get(channel) is None:
            # A channel of a plugin this deployment lacks (no SMS gateway): the other
            # channels still deliver.
            continue
        skipped = muted_ids if channel == IN_APP else []
        rows = await db.fetch(
            "INSERT INTO bankcrm_notification_delivery (branch_id, notification, channel,"
            " status, attempts, next_attempt_at, last_error, idempotency_key, created_at)"
            " SELECT $1, n, $2::text, CASE WHEN m IS NULL THEN 'pending' ELSE 'skipped' END,"
            " 0, now(), CASE WHEN m IS NULL THEN '' ELSE $5 END, n::text || ':' || $2::text,"
            " now() FROM unnest($3::uuid[]) AS n LEFT JOIN unnest($4::uuid[]) AS m ON m = n"
            " RETURNING id, status",
            source.branch_id,
            channel,
            ids,
            skipped,
            f"the recipient turned {IN_APP} off for {spec.key} (filed as read)",
        )
        delivery_ids.extend(row["id"] for row in rows if row["status"] == "pending")
    for start in range(0, len(delivery_ids), MESSAGE_BATCH):
        await deliver_notifications.enqueue(delivery_ids[start : start + MESSAGE_BATCH])
    return ids


# --- the recipient's side ---------------------------------------------------------------


@dataclass(frozen=True)
class NotificationRow:
    id: uuid.UUID
    template: str
    category: str
    title: str
    body: str
    source_plugin: str
    source_table: str
    source_id: str
    branch_id: int
    created_at: datetime
    read_at: datetime | None


LIST_COLUMNS = (
    "id, template, category, title_zh, body_zh, title_en, body_en, source_plugin,"
    " source_table, source_id, branch_id, created_at, read_at"
)


def _row(record: Any, language: str) -> NotificationRow:
    english = language == "en"
    return NotificationRow(
        id=record["id"],
        template=record["template"],
        category=record["category"],
        title=record["title_en" if english else "title_zh"],
        body=record["body_en" if english else "body_zh"],
        source_plugin=record["source_plugin"],
        source_table=record["source_table"],
        source_id=record["source_id"],
        branch_id=record["branch_id"],
        created_at=record["created_at"],
        read_at=record["read_at"],
    )


async def list_for(
    user_id: int,
    *,
    language: str,
    unread_only: bool,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> list[NotificationRow]:
    """The user's notifications, newest first (``limit`` rows after the keyset ``after``)."""
    rows = await db.fetch(
        f"SELECT {LIST_COLUMNS} FROM bankcrm_notification WHERE recipient = $1"
        " AND (NOT $2::bool OR read_at IS NULL)"
        " AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4::uuid))"
        " ORDER BY created_at DESC, id DESC LIMIT $5",
        user_id,
        unread_only,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return [_row(r, language) for r in rows]


UNREAD_COUNT_SQL = (
    "SELECT count(*) FROM bankcrm_notification WHERE recipient = $1 AND read_at IS NULL"
)
"""The badge's one statement (served by the partial index on unread rows)."""


async def unread_count(user_id: int) -> int:
    count = await db.fetchval(UNREAD_COUNT_SQL, user_id)
    return int(count or 0)


async def mark_read(user_id: int, notification_id: uuid.UUID) -> bool:
    """Mark one notification read; false when it is not the user's (or does not exist)."""
    rows = await db.fetch(
        "UPDATE bankcrm_notification SET read_at = coalesce(read_at, now())"
        " WHERE id = $1 AND recipient = $2 RETURNING id",
        notification_id,
        user_id,
    )
    return bool(rows)


async def mark_all_read(user_id: int) -> int:
    rows = await db.fetch(
        "UPDATE bankcrm_notification SET read_at = now()"
        " WHERE recipient = $1 AND read_at IS NULL RETURNING id",
        user_id,
    )
    return len(rows)
