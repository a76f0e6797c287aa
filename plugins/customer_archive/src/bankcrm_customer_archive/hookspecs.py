"""Extension points this plugin publishes (added to the plugin manager at registration).

Implement them with ``@hookimpl`` from :mod:`bankcrm.plugin_api` in a plugin that
``requires=("customer_archive",)``; import :class:`~bankcrm_customer_archive.services.Section`
from :mod:`bankcrm_customer_archive.services`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from datetime import datetime

    from bankcrm.context import Scope
    from bankcrm_customer_archive.dedupe.references import CustomerReference
    from bankcrm_customer_archive.sections import Section
    from bankcrm_customer_archive.timeline import TimelineItem

hookspec = pluggy.HookspecMarker("bankcrm")


@hookspec
def customer_360_sections(
    customer_id: int, scope: Scope
) -> Awaitable[Section | Sequence[Section] | None] | Section | Sequence[Section] | None:
    """Panels for the customer 360 view (``GET /api/v1/customer_archive/customers/{id}/360``).

    The 360 endpoint first reads customer_archive's own sections (profile, accounts),
    which records the view in the audit trail and answers 404 for a customer the actor
    cannot see; then it calls this hook once on every other plugin enabled for the
    customer's branch, and shows their sections after its own, in dependency order.
    customer_archive's implementation records a view too, so any caller of this hook
    that includes it has the view audited. ``scope`` is the requesting actor's (already
    bound: queries see only what the actor may see). No transaction is open: read with
    :mod:`bankcrm.db` or Piccolo, write nothing.

    Return a :class:`~bankcrm_customer_archive.services.Section` (``key`` prefixed with your
    plugin name, Chinese and English title, ``data`` encodable by msgspec), a sequence of
    them, or None when you have nothing for this customer; or an awaitable of one of these.
    Mask personal data in ``data`` as the API does. Check ``scope.has(...)`` for your own
    read permission: return None if the actor may not see your data. An exception fails the
    whole 360 request, so do not raise for missing data.
    """


@hookspec
def customer_timeline_items(
    customer_id: int, scope: Scope, before: datetime, limit: int
) -> Awaitable[Sequence[TimelineItem]] | Sequence[TimelineItem]:
    """Dated items for the customer's timeline (``GET …/customers/{id}/timeline``).

    Called on every plugin enabled for the customer's branch, with ``scope`` bound (read
    only what the actor may see; check ``scope.has`` for your own read permission and
    return nothing without it). Return at most ``limit`` of your items strictly older than
    ``before`` (aware datetime), newest first, as
    :class:`~bankcrm_customer_archive.timeline.TimelineItem` (``kind`` prefixed with your
    plugin name, Chinese and English title, the source record). The archive merges every
    plugin's answer by time and pages with a cursor. Mask personal data; write nothing.
    """


@hookspec
def customer_references() -> Sequence[CustomerReference]:
    """Every column of this plugin's tables that holds a customer id.

    Called when two customers are merged (归并) and un-merged, inside that transaction, on
    every plugin (disabled ones too: their rows must follow the customer as well). Return
    :class:`~bankcrm_customer_archive.services.CustomerReference` declarations: the merge
    re-points each such row of the merged customer to the survivor (dropping, and
    remembering, a row whose unique key the survivor already has), records the full
    before-image of every row of both customers in the merge ledger, and un-merge puts
    every row back exactly. Tables need an ``id`` primary key. Rows you derive from a
    customer elsewhere (caches, scores) should rather be refreshed on the events
    ``customer_archive.customer.merged`` / ``.unmerged``.
    """
