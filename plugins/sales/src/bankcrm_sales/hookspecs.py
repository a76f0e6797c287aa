"""Extension points sales publishes (added to the plugin manager at registration).

Implement them with ``@hookimpl`` from :mod:`bankcrm.plugin_api` in a plugin that
``requires=("sales",)``; the types are in :mod:`bankcrm_sales.services`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
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
