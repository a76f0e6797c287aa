"""The branch tree (head office -> branch -> sub-branch) and per-branch plugin enablement.

Both are small, read on every request and changed rarely, so they are cached in memory
and reloaded when changed here or when older than ``CACHE_SECONDS`` (other processes).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, TypeVar

import msgspec

from bankcrm import db

CACHE_SECONDS = 5.0


@dataclass(frozen=True)
class BranchNode:
    id: int
    code: str
    name: str
    name_en: str
    parent_id: int | None
    level: int
    path: str
    active: bool


@dataclass(frozen=True)
class TreeSnapshot:
    nodes: dict[int, BranchNode]
    by_code: dict[str, int]
    enablement: dict[tuple[int, str], bool]
    """Explicit rows only; the effective value is inherited from the nearest ancestor."""
    settings: dict[tuple[int, str], dict[str, Any]]
    _memo: dict[tuple[str, int | str], frozenset[int]] = field(
        default_factory=dict, compare=False, repr=False
    )
    """Answers computed from this immutable snapshot: every request asks for them, and a
    walk over all branches per request costs milliseconds in a bank with 2,000 of them."""

    def subtree(self, branch_id: int) -> frozenset[int]:
        key = ("subtree", branch_id)
        cached = self._memo.get(key)
        if cached is None:
            root = self.nodes.get(branch_id)
            cached = (
                frozenset(n.id for n in self.nodes.values() if n.path.startswith(root.path))
                if root is not None
                else frozenset()
            )
            self._memo[key] = cached
        return cached

    def ancestors(self, branch_id: int) -> list[int]:
        """``branch_id`` and its ancestors, nearest first."""
        node = self.nodes.get(branch_id)
        if node is None:
            return []
        return [int(part) for part in node.path.rstrip("/").split("/")][::-1]

    def plugin_enabled(self, branch_id: int, plugin: str) -> bool:
        for candidate in self.ancestors(branch_id):
            value = self.enablement.get((candidate, plugin))
            if value is not None:
                return value
        return False

    def enabled_branches(self, plugin: str) -> frozenset[int]:
        key = ("enabled", plugin)
        cached = self._memo.get(key)
        if cached is None:
            cached = frozenset(b for b in self.nodes if self.plugin_enabled(b, plugin))
            self._memo[key] = cached
        return cached

    def raw_settings(self, branch_id: int, plugin: str) -> dict[str, Any]:
        """The nearest ancestor-or-self's stored settings for ``plugin`` ({} if none)."""
        for candidate in self.ancestors(branch_id):
            stored = self.settings.get((candidate, plugin))
            if stored:
                return stored
        return {}


_snapshot: TreeSnapshot | None = None
_loaded_at = 0.0


def invalidate() -> None:
    global _snapshot
    _snapshot = None


async def snapshot() -> TreeSnapshot:
    global _snapshot, _loaded_at
    if _snapshot is not None and time.monotonic() - _loaded_at < CACHE_SECONDS:
        return _snapshot
    rows = await db.fetch(
        "SELECT id, code, name, name_en, parent, level, path, active FROM bankcrm_branch"
    )
    nodes = {
        r["id"]: BranchNode(
            r["id"],
            r["code"],
            r["name"],
            r["name_en"],
            r["parent"],
            r["level"],
            r["path"],
            r["active"],
        )
        for r in rows
    }
    flags = await db.fetch(
        "SELECT branch, plugin, enabled, settings FROM bankcrm_plugin_enablement"
    )
    _snapshot = TreeSnapshot(
        nodes=nodes,
        by_code={n.code: n.id for n in nodes.values()},
        enablement={(r["branch"], r["plugin"]): r["enabled"] for r in flags},
        settings={(r["branch"], r["plugin"]): json.loads(r["settings"] or "{}") for r in flags},
    )
    _loaded_at = time.monotonic()
    return _snapshot


class BranchError(ValueError):
    """A branch change that would break the tree; ``field`` names the offending input."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


async def create_branch(
    code: str, name: str, name_en: str = "", parent_id: int | None = None
) -> BranchNode:
    """Create a branch under ``parent_id`` (None: a head office). Caller holds a transaction."""
    tree = await snapshot()
    if code in tree.by_code:
        raise BranchError(f"branch code {code!r} already exists", "code")
    parent_path, level = "", 0
    if parent_id is not None:
        parent = tree.nodes.get(parent_id)
        if parent is None:
            raise BranchError(f"parent branch {parent_id} does not exist", "parent_id")
        parent_path, level = parent.path, parent.level + 1
    row = await db.fetchrow(
        "INSERT INTO bankcrm_branch (code, name, name_en, parent, level, path, active) "
        "VALUES ($1, $2, $3, $4, $5, '', true) RETURNING id",
        code,
        name,
        name_en,
        parent_id,
        level,
    )
    assert row is not None
    path = f"{parent_path}{row['id']}/"
    await db.fetch("UPDATE bankcrm_branch SET path = $1 WHERE id = $2", path, row["id"])
    invalidate()
    return BranchNode(row["id"], code, name, name_en, parent_id, level, path, True)


class EnablementError(ValueError):
    pass


async def set_plugin_enabled(
    branch_id: int,
    plugin: str,
    enabled: bool,
    *,
    requires: dict[str, tuple[str, ...]],
    changed_by: str,
) -> None:
    """Enable or disable ``plugin`` for a branch (inherited by its sub-branches).

    Enabling needs every required plugin enabled there; disabling is refused while a
    plugin that requires this one is enabled there. Caller holds a transaction.
    """
    tree = await snapshot()
    if branch_id not in tree.nodes:
        raise EnablementError(f"branch {branch_id} does not exist")
    if plugin not in requires:
        raise EnablementError(f"plugin {plugin!r} is not installed and active")
    if enabled:
        missing = [r for r in requires[plugin] if not tree.plugin_enabled(branch_id, r)]
        if missing:
            raise EnablementError(
                f"{plugin!r} requires {', '.join(missing)} to be enabled for this branch first"
            )
    else:
        dependents = [
            name
            for name, needs in requires.items()
            if plugin in needs and tree.plugin_enabled(branch_id, name)
        ]
        if dependents:
            raise EnablementError(
                f"{', '.join(dependents)} depend(s) on {plugin!r} here; disable them first"
            )
    await _upsert(branch_id, plugin, enabled, tree.raw_settings(branch_id, plugin), changed_by)


async def _upsert(
    branch_id: int, plugin: str, enabled: bool, settings: dict[str, Any], changed_by: str
) -> None:
    await db.fetch(
        "DELETE FROM bankcrm_plugin_enablement WHERE branch = $1 AND plugin = $2",
        branch_id,
        plugin,
    )
    await db.fetch(
        "INSERT INTO bankcrm_plugin_enablement (branch, plugin, enabled, settings, changed_by,"
        " changed_at) VALUES ($1, $2, $3, $4::jsonb, $5, now())",
        branch_id,
        plugin,
        enabled,
        db.jsonb(settings),
        changed_by,
    )
    invalidate()


S = TypeVar("S")


async def plugin_settings(plugin: str, branch_id: int, settings_type: type[S]) -> S:
    """The effective settings of ``plugin`` for a branch (inherited; defaults if unset)."""
    tree = await snapshot()
    return msgspec.convert(tree.raw_settings(branch_id, plugin), settings_type)


async def store_plugin_settings(
    branch_id: int, plugin: str, settings: dict[str, Any], changed_by: str
) -> None:
    """Store validated settings for a branch (caller validated and holds a transaction)."""
    tree = await snapshot()
    if branch_id not in tree.nodes:
        raise EnablementError(f"branch {branch_id} does not exist")
    await _upsert(branch_id, plugin, tree.plugin_enabled(branch_id, plugin), settings, changed_by)
