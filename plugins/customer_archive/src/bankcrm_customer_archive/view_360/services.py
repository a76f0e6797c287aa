"""The customer archive's part of the 360 view, read in one statement.

The view is a hot path: every statement outside a transaction costs a pool checkout and a
round trip. :data:`VIEW_360_SQL` reads the customer once (a materialised CTE), records the
view in the audit chain, and answers every panel beside it as JSON aggregates: the profile
with its tags, addresses and contacts, the holdings, the profile's panels
(:data:`.profile.PANELS_360_COLUMNS`), the portrait (:data:`.portrait.PORTRAIT_COLUMNS`)
and the archive's newest timeline items (:data:`.timeline.TIMELINE_360_COLUMN`).
Panels the actor may not read are not read at all (a ``CASE`` on a parameter).
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import msgspec

from bankcrm import branches, db
from bankcrm.context import Scope, require_scope
from bankcrm.plugin_api import PluginHooks
from bankcrm.web.problems import not_found
from bankcrm_customer_archive.access import CONTRACT_READ, HOLDING_READ
from bankcrm_customer_archive.profile.services import (
    PANELS_360_COLUMNS,
    aum_trend_dates,
    profile_sections,
)
from bankcrm_customer_archive.records import (
    CUSTOMER,
    DETAIL_COLUMNS,
    HOLDING_LIST,
    HOLDINGS_JSON,
    PLUGIN,
    VIEW_AUDIT,
    customer_detail,
    masked_holding,
    sum_by_currency,
)
from bankcrm_customer_archive.schemas import Customer360, CustomerDetail, SectionOut
from bankcrm_customer_archive.sections import Section
from bankcrm_customer_archive.timeline import (
    TIMELINE_360_COLUMN,
    TIMELINE_SECTION,
    own_items_of_360,
    timeline_section_items,
)
from bankcrm_customer_archive.view_360.portrait import PORTRAIT_COLUMNS, portrait_section_of

__all__ = [
    "VIEW_360_SQL",
    "core_sections",
    "customer_360",
    "read_sections",
    "view_360_arguments",
]

log = logging.getLogger(__name__)

VIEW_360_SQL = f"""WITH c AS MATERIALIZED (
  SELECT * FROM {CUSTOMER} WHERE id = $1 AND deleted_at IS NULL),
{VIEW_AUDIT}
SELECT {DETAIL_COLUMNS}, {HOLDINGS_JSON} AS holdings,
  {PANELS_360_COLUMNS},
  {PORTRAIT_COLUMNS},
  {TIMELINE_360_COLUMN}
FROM c CROSS JOIN v LEFT JOIN piccolo_user u ON u.id = c.relationship_manager"""
"""Parameters: ``$1`` the customer, ``$2`` the audit row's ``after`` (the screen), ``$3``
the request id, then those of :data:`.profile.PANELS_360_COLUMNS`."""


def view_360_arguments(
    customer_id: int,
    request_id: str,
    *,
    reads_contracts: bool,
    reads_holdings: bool,
    today: date | None = None,
) -> tuple[Any, ...]:
    """The arguments of :data:`VIEW_360_SQL` (``today``: for callers outside a request,
    the business date by default)."""
    first, last = aum_trend_dates(today)
    return (
        customer_id,
        '{"screen": "360"}',
        request_id,
        reads_contracts,
        reads_holdings,
        first,
        last,
    )


async def read_sections(customer_id: int, scope: Scope) -> list[Section] | None:
    """This plugin's 360 sections (see :func:`.services.core_sections`); None if the
    customer is not visible. One statement, which also records the view."""
    row = await db.fetchrow(
        VIEW_360_SQL,
        *view_360_arguments(
            customer_id,
            scope.request_id,
            reads_contracts=scope.has(CONTRACT_READ),
            reads_holdings=scope.has(HOLDING_READ),
        ),
    )
    if row is None:
        return None
    detail = customer_detail(row)
    profile = Section("customer_archive.profile", "基本信息", "Profile", {"customer": detail})
    more = [
        *profile_sections(scope, detail, row),
        await portrait_section_of(row, scope),
        # Completed with the other plugins' items by the 360 view (services.customer_360).
        Section(
            TIMELINE_SECTION, "客户动态", "Timeline", {"items": own_items_of_360(row["timeline"])}
        ),
    ]
    if not scope.has(HOLDING_READ):
        return [profile, *more]
    holdings = [masked_holding(h) for h in msgspec.json.decode(row["holdings"], type=HOLDING_LIST)]
    by_category: dict[str, int] = {}
    for h in holdings:
        if h.status != "closed":
            by_category[h.category] = by_category.get(h.category, 0) + 1
    return [
        profile,
        Section(
            "customer_archive.holdings",
            "产品持有",
            "Accounts and holdings",
            {
                "aum": sum_by_currency(holdings, "asset"),
                "credit": sum_by_currency(holdings, "credit"),
                "open_by_category": by_category,
                "holdings": holdings,
            },
        ),
        *more,
    ]


# --- the whole view: this plugin's sections, then every other plugin's -------------------


async def core_sections(customer_id: int, scope: Scope) -> list[Section] | None:
    """This plugin's 360 sections: the profile, for actors who may read holdings the
    accounts with their totals (personal data masked), then the profile's own panels
    (:func:`.profile.profile_sections`: background, relations and household, ratings,
    contracts, AUM trend); None if not visible.

    Reading them records the view (audit action ``view``, screen ``360``) in the same
    statement: whoever assembles a 360 view has viewed the customer. That one statement
    (:data:`.view_360.VIEW_360_SQL`) answers every section, the portrait's included.
    """
    return await read_sections(customer_id, scope)


def _section_out(plugin: str, section: Section, scope: Scope, customer_id: int) -> SectionOut:
    return SectionOut(
        section.key,
        plugin,
        section.title,
        section.title_en,
        section.data,
        {key: {"zh": label.zh, "en": label.en} for key, label in section.labels.items()},
        [
            {
                "title": a.title.zh,
                "title_en": a.title.en,
                "url": a.url.format(customer_id=customer_id),
            }
            for a in section.actions
            if a.permission == "authenticated" or scope.has(a.permission)
        ],
    )


def _as_sections(plugin: str, answer: Any) -> list[Section]:
    answers = [answer] if isinstance(answer, Section) else list(answer)
    wrong = [a for a in answers if not isinstance(a, Section)]
    if wrong:
        # One plugin's mistake should not take the whole view down: show the rest.
        log.warning("customer_360_sections of %s answered %r, not Sections", plugin, wrong)
    return [a for a in answers if isinstance(a, Section)]


async def customer_360(customer_id: int, registry: PluginHooks) -> Customer360:
    """The 360 view: this plugin's sections, then every other enabled plugin's.

    :func:`core_sections` reads the customer and records the view in one statement (404
    when the customer is not visible); then ``customer_360_sections`` is called on every
    other plugin enabled for the customer's branch, whose sections follow in dependency
    order.
    """
    scope: Scope = require_scope()
    own = await core_sections(customer_id, scope)
    if own is None:
        raise not_found(f"customer {customer_id}")
    profile: CustomerDetail = own[0].data["customer"]
    tree = await branches.snapshot()
    others = frozenset(
        p for p in registry.order if p != PLUGIN and tree.plugin_enabled(profile.branch_id, p)
    )
    answers = await registry.call_all(
        "customer_360_sections", plugins=others, customer_id=customer_id, scope=scope
    )
    # pluggy answers newest registration first; the view reads best in dependency order.
    position = {name: index for index, name in enumerate(registry.order)}
    answers.sort(key=lambda answer: position.get(answer[0], -1))
    [timeline] = [s for s in own if s.key == TIMELINE_SECTION]
    sections = [_section_out(PLUGIN, s, scope, customer_id) for s in own if s is not timeline]
    sections.extend(
        _section_out(plugin, s, scope, customer_id)
        for plugin, answer in answers
        for s in _as_sections(plugin, answer)
    )
    # The timeline closes the view: every plugin's newest items, and a cursor to the rest
    # (GET …/customers/{id}/timeline?cursor=…).
    page = await timeline_section_items(timeline.data["items"], customer_id, registry, others)
    sections.append(
        SectionOut(
            TIMELINE_SECTION, PLUGIN, timeline.title, timeline.title_en,
            {"items": page.items, "next_cursor": page.next_cursor},
        )
    )  # fmt: skip
    return Customer360(customer_id, profile.branch_id, sections)
