"""Domain events of the plugin (with :mod:`.services`, importable by other plugins).

Emitted in the transaction of the change and delivered after it commits to every
plugin's ``on_event``. Payloads carry ids, never the text of a row: a handler reads what
it needs through :mod:`.services` under its own scope.
"""

from __future__ import annotations

from bankcrm.plugin_api import EventSpec

LEAD_CREATED = "sales.lead_created"
LEAD_LOST = "sales.lead_lost"
LEAD_CONVERTED = "sales.lead_converted"
LEAD_REASSIGNED = "sales.lead_reassigned"
OPPORTUNITY_CREATED = "sales.opportunity_created"
OPPORTUNITY_WON = "sales.opportunity_won"
OPPORTUNITY_LOST = "sales.opportunity_lost"
OPPORTUNITY_REASSIGNED = "sales.opportunity_reassigned"
ACTIVITY_RECORDED = "sales.activity_recorded"
FOLLOW_UP_ESCALATED = "sales.follow_up_escalated"

EVENTS: tuple[EventSpec, ...] = (
    EventSpec(
        LEAD_CREATED,
        "A lead was created by staff, received from an external system or imported. "
        "Payload: lead_id, branch_id, owner (user id), channel.",
    ),
    EventSpec(LEAD_LOST, "A lead was marked lost. Payload: lead_id, branch_id."),
    EventSpec(
        LEAD_CONVERTED,
        "A lead became a customer (created or linked) and an opportunity. Payload: lead_id, "
        "branch_id, customer_id, opportunity_id, customer_created.",
    ),
    EventSpec(
        LEAD_REASSIGNED,
        "A lead changed hands (by a manager or after idling). Payload: lead_id, branch_id, "
        "from_user, to_user, reason.",
    ),
    EventSpec(
        OPPORTUNITY_CREATED,
        "An opportunity was created. Payload: opportunity_id, branch_id, lead_id (or None).",
    ),
    EventSpec(
        OPPORTUNITY_WON,
        "An opportunity was won. Payload: opportunity_id, branch_id, customer_id, amount.",
    ),
    EventSpec(
        OPPORTUNITY_LOST,
        "An opportunity was lost. Payload: opportunity_id, branch_id, customer_id, amount.",
    ),
    EventSpec(
        OPPORTUNITY_REASSIGNED,
        "An opportunity changed hands. Payload: opportunity_id, branch_id, from_user, "
        "to_user, reason.",
    ),
    EventSpec(
        ACTIVITY_RECORDED,
        "A sales activity was recorded. Payload: activity_id, branch_id, lead_id, opportunity_id.",
    ),
    EventSpec(
        FOLLOW_UP_ESCALATED,
        "A follow-up went overdue and was escalated or reassigned. Payload: kind (lead or "
        "opportunity), item_id, branch_id, step (escalated/reassigned).",
    ),
)
