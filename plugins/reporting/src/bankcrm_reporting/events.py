"""Domain events of the plugin (with :mod:`.services`, importable by other plugins).

Emitted in the transaction of the change and delivered after it commits to every
plugin's ``on_event``. Payloads carry ids, never the text of a row: a handler reads what
it needs through :mod:`.services` under its own scope.
"""

from __future__ import annotations

from bankcrm.plugin_api import EventSpec

TARGET_CREATED = "reporting.target_created"
TARGET_CLOSED = "reporting.target_closed"

EVENTS: tuple[EventSpec, ...] = (
    EventSpec(
        TARGET_CREATED,
        "A target was created through the REST API (rows made in the admin screen "
        "or by the demo data emit none). Payload: target_id, branch_id.",
    ),
    EventSpec(
        TARGET_CLOSED,
        "A target was closed through the REST API, or by the daily job when it was "
        "left unchanged for too long. Payload: target_id, branch_id.",
    ),
)
