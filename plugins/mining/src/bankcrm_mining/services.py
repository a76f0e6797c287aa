"""The public facade of mining: what other plugins may import (with :mod:`.events`).

Every function runs under the caller's bound scope.
"""

from __future__ import annotations

from bankcrm_mining.features import (
    FeatureExtractor,
    FeaturesOut,
    RunOut,
    build_features,
    customer_features,
    feature_frame,
    start_of,
)
from bankcrm_mining.loads import LoadOut, get_load
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
    "FeatureExtractor",
    "FeaturesOut",
    "LoadOut",
    "ModelIn",
    "ModelOut",
    "RunOut",
    "approve_model",
    "approved_model",
    "build_features",
    "customer_features",
    "feature_frame",
    "get_load",
    "get_model",
    "list_models",
    "register_model",
    "retire_model",
    "start_of",
]
