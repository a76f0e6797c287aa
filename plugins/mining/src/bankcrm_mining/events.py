"""Domain events of the plugin (with :mod:`.services`, importable by other plugins).

Emitted in the transaction of the change and delivered after it commits to every
plugin's ``on_event``. Payloads carry ids, never the content of a row: a handler reads
what it needs through :mod:`.services` under its own scope.
"""

from __future__ import annotations

from bankcrm.plugin_api import EventSpec

MODEL_REGISTERED = "mining.model_registered"
MODEL_APPROVED = "mining.model_approved"
TRANSACTIONS_LOADED = "mining.transactions_loaded"

EVENTS: tuple[EventSpec, ...] = (
    EventSpec(
        MODEL_REGISTERED,
        "A model version was registered as a draft. Payload: model_id, name, version.",
    ),
    EventSpec(
        MODEL_APPROVED,
        "A second person approved a model version for production scoring. Payload: "
        "model_id, name, version.",
    ),
    EventSpec(
        TRANSACTIONS_LOADED,
        "A transactions file was loaded (all its good rows, in one transaction). Payload: "
        "load_id, branch_id, rows_loaded.",
    ),
)
