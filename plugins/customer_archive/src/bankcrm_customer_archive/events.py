"""Domain events of the customer archive (with :mod:`.services`, importable by plugins).

Emitted in the transaction of the change, delivered after it commits to every plugin's
``on_event`` (see :func:`bankcrm.jobs.emit_event`). Payloads carry ids, never personal
data: a handler reads what it needs through :mod:`.services` under its own scope.
"""

from __future__ import annotations

from typing import Any

from bankcrm.jobs import emit_event
from bankcrm.plugin_api import EventSpec

CUSTOMER_CREATED = "customer_archive.customer_created"
CUSTOMER_UPDATED = "customer_archive.customer_updated"
CUSTOMER_DELETED = "customer_archive.customer_deleted"
HOLDING_CHANGED = "customer_archive.holding_changed"
CUSTOMER_MERGED = "customer_archive.customer.merged"
CUSTOMER_UNMERGED = "customer_archive.customer.unmerged"

EVENTS: tuple[EventSpec, ...] = (
    EventSpec(
        CUSTOMER_MERGED,
        "Two customers were merged (归并): every row pointing at the merged customer now "
        "points at the survivor, and the merged customer is soft-deleted with merged_into. "
        "Refresh data derived per customer. Payload: survivor_id, merged_id, merge_id, "
        "branch_id (the survivor's).",
    ),
    EventSpec(
        CUSTOMER_UNMERGED,
        "A merge was undone: both customers and their rows are as before the merge. "
        "Payload: survivor_id, merged_id, merge_id, branch_id.",
    ),
    EventSpec(CUSTOMER_CREATED, "A customer was created. Payload: customer_id, branch_id, kind."),
    EventSpec(
        CUSTOMER_UPDATED,
        "A customer or its addresses, contacts or tags changed. Payload: customer_id, "
        "branch_id, fields (names of the changed fields, or addresses/contacts/tags).",
    ),
    EventSpec(CUSTOMER_DELETED, "A customer was (soft-)deleted. Payload: customer_id, branch_id."),
    EventSpec(
        HOLDING_CHANGED,
        "An account or holding was opened, changed or removed. Payload: customer_id, "
        "branch_id, holding_id, change (created/updated/deleted), fields.",
    ),
)


async def emit(name: str, **payload: Any) -> None:
    """Emit ``name`` from the current transaction."""
    await emit_event(name, payload)
