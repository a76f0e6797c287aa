"""Extension points mining publishes (added to the plugin manager at registration).

Implement them with ``@hookimpl`` from :mod:`bankcrm.plugin_api` in a plugin that
``requires=("mining",)``; the types are in :mod:`bankcrm_mining.services`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from bankcrm_mining.features import FeatureExtractor

hookspec = pluggy.HookspecMarker("bankcrm")


@hookspec
def mining_feature_extractors() -> Sequence[FeatureExtractor]:
    """Feature extractors to add to the feature store (contacts, complaints, campaign
    responses ...).

    Each :class:`~bankcrm_mining.services.FeatureExtractor` names its features and a
    coroutine ``extract(customer_ids, as_of)`` answering ``{customer_id: {feature:
    number or None}}``. It is awaited under the scope of the feature build, inside its
    transaction, and must read only what was known before ``as_of`` (00:00 Asia/Shanghai):
    training never sees the future. Feature names must start with the plugin's name and a
    dot (``service.complaints_90d``). Do not write.
    """
