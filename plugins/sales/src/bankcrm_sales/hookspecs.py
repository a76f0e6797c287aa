"""Extension points sales publishes (added to the plugin manager at registration).

Implement them with ``@hookimpl`` from :mod:`bankcrm.plugin_api` in a plugin that
``requires=("sales",)``; the types are in :mod:`bankcrm_sales.services`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from bankcrm_sales.scoring import LeadScore

hookspec = pluggy.HookspecMarker("bankcrm")


@hookspec(firstresult=True)
def sales_score_lead(lead: Mapping[str, Any]) -> Awaitable[LeadScore | None] | LeadScore | None:
    """Score a new lead (0-100) with the reasons behind the score.

    Called inside the transaction that creates the lead (staff, external intake or import),
    under the creating actor's scope, with the lead's fields (``channel``, ``campaign``,
    ``customer`` id or None, ``product_interest`` code, ``product_category``,
    ``estimated_amount``, ``need``, ``phone``, ``email``, ``company``, ``branch_id``).
    The first non-None answer wins; with none, sales' transparent rule score is used. An
    answer must carry at least one reason (a model's reason codes, in Chinese and
    English), or the lead is refused with a 500: staff must always see why. Do not write.
    """


@hookspec
def sales_channel_costs(
    branch_ids: frozenset[int], start: date, end: date
) -> Awaitable[Mapping[str, Decimal] | None] | Mapping[str, Decimal] | None:
    """Marketing's cost per sales channel (``web``, ``campaign`` ...) in CNY for the
    branches and the days ``[start, end)``, for channel ROI.

    Called by the channel analytics (``GET /api/v1/sales/analytics/channels``) under the
    caller's scope, outside any transaction. Answers of every plugin that answers are added
    up; when none answers (marketing not installed), sales reads its per-branch cost table
    (``/api/v1/sales/channel-costs``). Return None to abstain. Read only.
    """
