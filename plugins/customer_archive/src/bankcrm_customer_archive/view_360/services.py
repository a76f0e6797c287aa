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

from datetime import date
from typing import Any

import msgspec

from bankcrm import db
from bankcrm.context import Scope
from bankcrm_customer_archive.access import CONTRACT_READ, HOLDING_READ
from bankcrm_customer_archive.profile.services import (
    PANELS_360_COLUMNS,
    aum_trend_dates,
    profile_sections,
)
from bankcrm_customer_archive.services import (
    _DETAIL_COLUMNS,
    _HOLDING_LIST,
    _HOLDINGS_JSON,
    _VIEW_AUDIT,
    CUSTOMER,
    Section,
    _detail,
    _masked_holding,
    _sum_by_currency,
)
from bankcrm_customer_archive.timeline import (
    TIMELINE_360_COLUMN,
    TIMELINE_SECTION,
    own_items_of_360,
)
from bankcrm_customer_archive.view_360.portrait import PORTRAIT_COLUMNS, portrait_section_of

__all__ = ["VIEW_360_SQL", "read_sections", "view_360_arguments"]

VIEW_360_SQL = f"""WITH c AS MATERIALIZED (
  SELECT * FROM {CUSTOMER} WHERE id = $1 AND deleted_at IS NULL),
{_VIEW_AUDIT}
SELECT {_DETAIL_COLUMNS}, {_HOLDINGS_JSON} AS holdings,
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
    detail = _detail(row)
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
    holdings = [
        _masked_holding(h) for h in msgspec.json.decode(row["holdings"], type=_HOLDING_LIST)
    ]
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
                "aum": _sum_by_currency(holdings, "asset"),
                "credit": _sum_by_currency(holdings, "credit"),
                "open_by_category": by_category,
                "holdings": holdings,
            },
        ),
        *more,
    ]
