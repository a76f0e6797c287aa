"""Domain events of the plugin (with :mod:`.services`, importable by other plugins).

Emitted in the transaction of the change and delivered after it commits to every
plugin's ``on_event``. Payloads carry ids, never the text of a row: a handler reads what
it needs through :mod:`.services` under its own scope.
"""

from __future__ import annotations

from bankcrm.plugin_api import EventSpec

CAMPAIGN_CREATED = "marketing.campaign_created"
CAMPAIGN_LAUNCHED = "marketing.campaign_launched"
CAMPAIGN_CLOSED = "marketing.campaign_closed"
CONTACT_RESPONDED = "marketing.contact_responded"

EVENTS: tuple[EventSpec, ...] = (
    EventSpec(
        CAMPAIGN_CREATED,
        "A campaign was created through the REST API (rows made in the admin screen "
        "or by the demo data emit none). Payload: campaign_id, branch_id.",
    ),
    EventSpec(
        CAMPAIGN_LAUNCHED,
        "A targeted campaign was launched: its contacts are queued for the sending job. "
        "Payload: campaign_id, branch_id, contacts (how many were queued).",
    ),
    EventSpec(
        CAMPAIGN_CLOSED,
        "A campaign was closed through the REST API, or by the daily job when it was "
        "left unchanged (or ended) too long ago. Payload: campaign_id, branch_id.",
    ),
    EventSpec(
        CONTACT_RESPONDED,
        "A customer's response to a campaign contact was recorded. Payload: contact_id, "
        "campaign_id, customer_id, response (interested, accepted, declined, no_answer, "
        "opt_out), branch_id.",
    ),
)
