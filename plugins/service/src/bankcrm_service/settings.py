"""Per-branch settings of the service plugin (``register_settings``), changed through
``PUT /api/v1/branches/{id}/plugins/service/settings`` and inherited by sub-branches.

The public self-service is not tied to a staff member's branch: it reads the settings of
the root branch (head office) only.
"""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, Struct

from bankcrm import branches

BranchCode = Annotated[str, Meta(max_length=32)]


class ServiceSettings(Struct, forbid_unknown_fields=True, kw_only=True):
    self_service_branch: BranchCode = ""
    """The code of the branch that takes the public self-service's handovers (tickets) and
    whose published public FAQ (with its parent branches') answers the public; empty: the
    root branch (head office)."""
    self_service_threshold: Annotated[float, Meta(ge=0.0, le=1.0)] = 0.15
    """Below this confidence the self-service hands the question over to a person (cosine
    similarity of word and character n-grams: paraphrases of an article score about
    0.15-0.5, unrelated questions under 0.1)."""
    self_service_per_minute: Annotated[int, Meta(ge=1, le=600)] = 10
    """Questions one client address may ask per minute (per server process)."""


async def root_settings() -> tuple[int, ServiceSettings]:
    """The root branch's id and its settings."""
    tree = await branches.snapshot()
    root = min(n for n, node in tree.nodes.items() if node.parent_id is None)
    return root, await branches.plugin_settings("service", root, ServiceSettings)
