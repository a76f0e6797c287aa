"""The customer's timeline (客户时间线): dated items from every plugin, newest first.

Plugins contribute through the ``customer_timeline_items`` hook (see :mod:`.hookspecs`):
each returns at most ``limit`` of its own items older than ``before``; the archive merges
them by time and pages with a cursor, so a plugin never reads more than one page ahead.
The archive's own items: the customer created, accounts opened, ratings, contracts.
Everything is read under the viewer's scope: a customer the viewer cannot see is a 404.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from bankcrm import branches, db
from bankcrm.context import Scope, require_scope
from bankcrm.plugin_api import PluginHooks
from bankcrm.web.pagination import Page, decode_cursor, encode_cursor
from bankcrm.web.problems import invalid, not_found

PLUGIN = "customer_archive"
FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)


class TimelineItem(msgspec.Struct, frozen=True):
    """One dated event on a customer's timeline."""

    at: datetime
    plugin: str
    kind: str
    """``<plugin>.<what>``, e.g. ``customer_archive.holding_opened``."""
    title: str
    title_en: str
    source_table: str
    source_id: str
    """The record the item comes from, so the UI can link to it."""
    detail: dict[str, Any] = msgspec.field(default_factory=dict)


def own_items_sql(customer: str, before: str, limit: str) -> str:
    """The archive's items of ``customer`` older than ``before``, newest first, at most
    ``limit`` (SQL expressions: parameters here, the 360 statement's CTE columns there)."""
    return f"""
        (SELECT created_at AS at, 'customer_created' AS kind, id::text AS source_id,
                'customer_archive_customer' AS source_table, name AS label
           FROM customer_archive_customer WHERE id = {customer} AND created_at < {before})
        UNION ALL
        (SELECT h.created_at, 'holding_opened', h.id::text, 'customer_archive_holding', p.name
           FROM customer_archive_holding h JOIN customer_archive_product p ON p.id = h.product
          WHERE h.customer = {customer} AND h.created_at < {before}
          ORDER BY h.created_at DESC LIMIT {limit})
        UNION ALL
        (SELECT rated_at, 'rated', id::text, 'customer_archive_rating', kind || '=' || value
           FROM customer_archive_rating
          WHERE customer = {customer} AND rated_at < {before} ORDER BY rated_at DESC LIMIT {limit})
        UNION ALL
        (SELECT created_at, 'contract_recorded', id::text, 'customer_archive_contract',
                number || ' ' || title
           FROM customer_archive_contract
          WHERE customer = {customer} AND created_at < {before}
          ORDER BY created_at DESC LIMIT {limit})
        ORDER BY at DESC LIMIT {limit}
        """


TIMELINE_SECTION = "customer_archive.timeline"
TIMELINE_ON_360 = 10
"""Items the 360 view shows; the rest is a page away (``next_cursor``)."""

TIMELINE_360_COLUMN = f"""(SELECT coalesce(json_agg(t), '[]') FROM ({
    own_items_sql("c.id", "'infinity'::timestamptz", str(TIMELINE_ON_360 + 1))
}) t) AS timeline"""
"""The archive's first timeline items as a column of the 360 statement (no extra trip)."""

_TITLES = {
    "customer_created": ("建立客户档案", "Customer created"),
    "holding_opened": ("开立账户", "Account opened"),
    "rated": ("评级", "Rated"),
    "contract_recorded": ("登记合同", "Contract recorded"),
}


def _own_item(row: Any) -> TimelineItem:
    at = row["at"]
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    title, title_en = _TITLES[row["kind"]]
    return TimelineItem(
        at,
        PLUGIN,
        f"{PLUGIN}.{row['kind']}",
        f"{title}：{row['label']}",
        f"{title_en}: {row['label']}",
        row["source_table"],
        row["source_id"],
    )


def own_items_of_360(timeline_json: str) -> list[TimelineItem]:
    """The archive's items read by the 360 statement's ``timeline`` column."""
    return [_own_item(r) for r in msgspec.json.decode(timeline_json)]


async def own_items(customer_id: int, before: datetime, limit: int) -> list[TimelineItem]:
    """The archive's items: created, accounts opened, ratings, contracts."""
    rows = await db.fetch(own_items_sql("$1", "$2", "$3"), customer_id, before, limit)
    return [_own_item(r) for r in rows]


def _sort_key(item: TimelineItem) -> tuple[datetime, str, str, str]:
    return (item.at, item.plugin, item.kind, item.source_id)


async def customer_timeline(
    customer_id: int, registry: PluginHooks, limit: int, cursor: str | None
) -> Page[TimelineItem]:
    """Items of every plugin enabled for the customer's branch, newest first."""
    scope: Scope = require_scope()
    branch_id = await db.fetchval(
        "SELECT branch_id FROM customer_archive_customer WHERE id = $1 AND deleted_at IS NULL",
        customer_id,
    )
    if branch_id is None:
        raise not_found(f"customer {customer_id}")
    after = decode_cursor(cursor, (str, str, str, str))
    try:
        instant = datetime.fromisoformat(after[0]) if after else FAR_FUTURE
    except ValueError as exc:
        raise invalid("query.cursor", "not a cursor returned by this API") from exc
    if instant.tzinfo is None:
        raise invalid("query.cursor", "not a cursor returned by this API")
    # Plugins answer items strictly before ``before``; items at the cursor's own instant
    # are then kept only when they come after it in the total order.
    before = instant + timedelta(microseconds=1) if after else FAR_FUTURE
    tree = await branches.snapshot()
    plugins = frozenset(p for p in registry.order if tree.plugin_enabled(branch_id, p))
    answers = await registry.call_all(
        "customer_timeline_items",
        plugins=plugins,
        customer_id=customer_id,
        scope=scope,
        before=before,
        limit=limit + 1,
    )
    items: list[TimelineItem] = []
    for _, answer in answers:
        items.extend(a for a in (answer or ()) if isinstance(a, TimelineItem))
    if after:
        # Items at the cursor's own instant: only those after it in the total order.
        boundary = (instant, after[1], after[2], after[3])
        items = [i for i in items if _sort_key(i) < boundary]
    return first_page(items, limit)


def first_page(items: list[TimelineItem], limit: int) -> Page[TimelineItem]:
    """The newest ``limit`` of ``items`` and the cursor to the rest."""
    items = sorted(items, key=_sort_key, reverse=True)
    page = items[:limit]
    next_cursor = None
    if len(items) > limit:
        last = page[-1]
        next_cursor = encode_cursor([last.at.isoformat(), last.plugin, last.kind, last.source_id])
    return Page(page, next_cursor)


async def timeline_section_items(
    own: list[TimelineItem], customer_id: int, registry: PluginHooks, plugins: frozenset[str]
) -> Page[TimelineItem]:
    """The 360 view's timeline: the archive's items read with the view, merged with the
    first items of the other enabled plugins."""
    scope: Scope = require_scope()
    answers = await registry.call_all(
        "customer_timeline_items",
        plugins=plugins,
        customer_id=customer_id,
        scope=scope,
        before=FAR_FUTURE,
        limit=TIMELINE_ON_360 + 1,
    )
    items = list(own)
    for _, answer in answers:
        items.extend(a for a in (answer or ()) if isinstance(a, TimelineItem))
    return first_page(items, TIMELINE_ON_360)


__all__ = [
    "TIMELINE_360_COLUMN",
    "TIMELINE_SECTION",
    "TimelineItem",
    "customer_timeline",
    "first_page",
    "own_items",
    "own_items_of_360",
    "timeline_section_items",
]
