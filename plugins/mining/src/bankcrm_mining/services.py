"""The public facade of mining: what other plugins may import (with :mod:`.events`).

Every function runs under the caller's bound scope.
"""

from __future__ import annotations

from bankcrm_mining.registry import (
    ModelIn,
    ModelOut,
    approve_model,
    approved_model,
    get_model,
    list_models,
    register_model,
    retire_model,
)

__all__ = [
    "ModelIn",
    "ModelOut",
    "approve_model",
    "approved_model",
    "get_model",
    "list_models",
    "register_model",
    "retire_model",
]
