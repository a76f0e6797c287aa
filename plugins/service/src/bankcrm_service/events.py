"""Domain events of the plugin (with :mod:`.services`, importable by other plugins).

Emitted in the transaction of the change and delivered after it commits to every
plugin's ``on_event``. Payloads carry ids, never the text of a row: a handler reads what
it needs through :mod:`.services` under its own scope.
"""

from __future__ import annotations

from bankcrm.plugin_api import EventSpec

TICKET_CREATED = "service.ticket_created"
TICKET_CLOSED = "service.ticket_closed"

EVENTS: tuple[EventSpec, ...] = (
    EventSpec(
        TICKET_CREATED,
        "A ticket was created through the REST API (rows made in the admin screen "
        "or by the demo data emit none). Payload: ticket_id, branch_id.",
    ),
    EventSpec(
        TICKET_CLOSED,
        "A ticket was closed through the REST API, or by the daily job when it was "
        "left unchanged for too long. Payload: ticket_id, branch_id.",
    ),
)
