"""Roles declared by the kernel and the plugins, and kept in step in ``bankcrm_role``.

The kernel declares the standard roles (:data:`bankcrm.plugin_api.STANDARD_ROLES`), a
plugin may add its own (``register_roles``), and every plugin grants its permissions to
roles (``register_role_grants``), the way an Odoo module ships its access rules. So a new
plugin never edits the kernel, and a fresh install, an upgrade and the demo all derive
the roles from the same declarations.

A declared role is *managed*: :func:`sync_roles` creates it and rewrites its titles and
permissions whenever the declarations change (``bankcrm migrate`` and demo seeding), with
an audit row per change. A role the bank creates itself is *custom* (``managed`` false)
and is never changed here, even if a plugin later declares the same name.
"""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from bankcrm.db import jsonb
from bankcrm.plugin_api import PermissionSpec, RoleGrant, RoleSpec
from bankcrm.plugins import KERNEL_PLUGIN_NAME, PluginRegistry

log = logging.getLogger(__name__)

AUDIT_ENTITY = "bankcrm.role"
SYNC_LOCK = "bankcrm.roles.sync"
"""Advisory lock key: two processes migrating at once sync one after the other."""


class RoleDeclarationError(ValueError):
    """A plugin's roles or grants are inconsistent; the message names each problem."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("invalid role declarations:\n  " + "\n  ".join(self.problems))


@dataclass(frozen=True)
class DeclaredRole:
    """A role as the installed plugins declare it: what its row must hold."""

    spec: RoleSpec
    declared_by: str
    permissions: tuple[str, ...]
    """Sorted; every permission some plugin granted it (all of them for
    ``every_permission`` roles)."""
    granted_by: tuple[str, ...] = ()

    def row(self) -> dict[str, Any]:
        return {
            "title": self.spec.title,
            "title_en": self.spec.title_en,
            "description": self.spec.description,
            "permissions": list(self.permissions),
        }


@dataclass
class RoleSync:
    """What :func:`sync_roles` did."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    custom_conflicts: list[str] = field(default_factory=list)
    """Declared names held by a custom role, left as the bank made them."""
    no_longer_declared: list[str] = field(default_factory=list)
    """Managed roles no installed plugin declares any more (left unchanged)."""

    def summary(self) -> str:
        parts = [f"{len(self.created)} created, {len(self.updated)} updated"]
        if self.custom_conflicts:
            parts.append("custom, left alone: " + ", ".join(self.custom_conflicts))
        if self.no_longer_declared:
            parts.append("no longer declared: " + ", ".join(self.no_longer_declared))
        return "roles: " + "; ".join(parts)


def _requirements(registry: PluginRegistry, plugin: str) -> set[str]:
    """``plugin``, the kernel and every plugin it requires, directly or not."""
    found = {plugin, KERNEL_PLUGIN_NAME}
    pending = [plugin]
    while pending:
        record = registry.records.get(pending.pop())
        for required in record.requires if record else ():
            if required not in found:
                found.add(required)
                pending.append(required)
    return found


def _collected(registry: PluginRegistry, hook: str) -> list[tuple[str, Any]]:
    return [(plugin, item) for plugin, answer in registry.call_each(hook) for item in answer or ()]


def declared_permissions(registry: PluginRegistry) -> dict[str, str]:
    """Every declared permission and the plugin that declares it."""
    owners: dict[str, str] = {}
    for plugin, spec in _collected(registry, "register_permissions"):
        assert isinstance(spec, PermissionSpec)
        owners.setdefault(spec.name, plugin)
    return owners


def _expand(pattern: str, candidates: Iterable[str]) -> list[str]:
    if pattern.endswith(".*"):
        return [name for name in candidates if fnmatch.fnmatchcase(name, pattern)]
    return [pattern] if pattern in candidates else []


def declared_roles(registry: PluginRegistry) -> dict[str, DeclaredRole]:
    """The roles and permissions the active plugins declare, checked.

    Raises :class:`RoleDeclarationError` listing every problem: a plugin role not named
    ``<plugin>.<role>``, a role declared twice, a grant to an unknown role, of a permission
    nobody declares, or of another plugin's permission (a plugin may lend the permissions
    of the plugins it requires to its *own* roles only).
    """
    owners = declared_permissions(registry)
    problems: list[str] = []
    specs: dict[str, tuple[str, RoleSpec]] = {}
    for plugin, spec in _collected(registry, "register_roles"):
        assert isinstance(spec, RoleSpec)
        name = str(spec.name)
        if plugin != KERNEL_PLUGIN_NAME and not name.startswith(f"{plugin}."):
            problems.append(f"{plugin}: role {name!r} must be named '{plugin}.<role>'")
        elif plugin != KERNEL_PLUGIN_NAME and spec.every_permission:
            problems.append(f"{plugin}: only the kernel declares roles with every permission")
        elif name in specs:
            problems.append(f"{plugin}: role {name!r} is already declared by {specs[name][0]}")
        else:
            specs[name] = (plugin, spec)
    granted: dict[str, set[str]] = {name: set() for name in specs}
    grantors: dict[str, set[str]] = {name: set() for name in specs}
    for plugin, grant in _collected(registry, "register_role_grants"):
        assert isinstance(grant, RoleGrant)
        role = str(grant.role)
        if role not in specs:
            namespace = role.partition(".")[0]
            if "." in role and namespace not in registry.records:
                # A grant to a role of a plugin that is not installed: an optional
                # integration, not an error.
                log.debug("%s: grant to %s skipped (%s not installed)", plugin, role, namespace)
            else:
                problems.append(f"{plugin}: grant to unknown role {role!r}")
            continue
        own_role = specs[role][0] == plugin
        lenders = _requirements(registry, plugin) if own_role else {plugin}
        lendable = [name for name, owner in owners.items() if owner in lenders]
        for pattern in grant.permissions:
            expanded = _expand(pattern, lendable)
            if expanded:
                granted[role].update(expanded)
                grantors[role].add(plugin)
            elif pattern in owners:
                problems.append(
                    f"{plugin}: may not grant {pattern!r} (declared by {owners[pattern]})"
                    f" to {role!r}"
                    + ("" if own_role else "; grant only your own permissions to this role")
                )
            else:
                problems.append(
                    f"{plugin}: grant of {pattern!r} to {role!r} matches no permission"
                    f" {plugin} may grant"
                )
    if problems:
        raise RoleDeclarationError(problems)
    return {
        name: DeclaredRole(
            spec=spec,
            declared_by=plugin,
            permissions=tuple(sorted(owners if spec.every_permission else granted[name])),
            granted_by=tuple(sorted(grantors[name])),
        )
        for name, (plugin, spec) in specs.items()
    }


async def sync_roles(
    connection: asyncpg.Connection, declared: dict[str, DeclaredRole], actor: str
) -> RoleSync:
    """Make the managed roles match ``declared``, in one transaction, audited as ``actor``.

    Works on any connection that may write ``bankcrm_role`` (the owner's while migrating,
    a pooled one under a system scope while seeding); inside an open transaction it runs
    in a savepoint of it.
    """
    result = RoleSync()
    async with connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock(hashtext($1))", SYNC_LOCK)
        await connection.execute("SELECT set_config('bankcrm.actor', $1, true)", actor)
        rows = {
            row["name"]: row
            for row in await connection.fetch(
                "SELECT id, name, title, title_en, description, permissions, managed"
                " FROM bankcrm_role FOR UPDATE"
            )
        }
        for name, role in declared.items():
            after = role.row()
            existing = rows.get(name)
            if existing is None:
                await connection.execute(
                    "INSERT INTO bankcrm_role (name, title, title_en, description, permissions,"
                    " managed) VALUES ($1, $2, $3, $4, $5, true)",
                    name,
                    after["title"],
                    after["title_en"],
                    after["description"],
                    after["permissions"],
                )
                await _audit(connection, "create", name, None, after, role)
                result.created.append(name)
                continue
            if not existing["managed"]:
                result.custom_conflicts.append(name)
                continue
            before = {
                "title": existing["title"],
                "title_en": existing["title_en"],
                "description": existing["description"],
                "permissions": sorted(existing["permissions"] or []),
            }
            if before == after:
                result.unchanged.append(name)
                continue
            await connection.execute(
                "UPDATE bankcrm_role SET title = $2, title_en = $3, description = $4,"
                " permissions = $5 WHERE id = $1",
                existing["id"],
                after["title"],
                after["title_en"],
                after["description"],
                after["permissions"],
            )
            await _audit(connection, "update", name, before, after, role)
            result.updated.append(name)
        result.no_longer_declared = sorted(
            name for name, row in rows.items() if row["managed"] and name not in declared
        )
    for name in result.custom_conflicts:
        log.warning("role %s is declared by a plugin but is a custom role: left unchanged", name)
    if result.created or result.updated:
        log.info(result.summary())
    return result


async def _audit(
    connection: asyncpg.Connection,
    action: str,
    name: str,
    before: dict[str, Any] | None,
    after: dict[str, Any],
    role: DeclaredRole,
) -> None:
    await connection.execute(
        "SELECT bankcrm_audit_append(NULL, $1, $2, $3, $4::jsonb, $5::jsonb, $6, '')",
        action,
        AUDIT_ENTITY,
        name,
        None if before is None else jsonb(before),
        jsonb(after),
        "declared by " + ", ".join(sorted({role.declared_by, *role.granted_by})),
    )


async def role_ids(connection: asyncpg.Connection, names: Iterable[str]) -> dict[str, int]:
    rows = await connection.fetch(
        "SELECT name, id FROM bankcrm_role WHERE name = ANY($1::text[])", list(names)
    )
    return {row["name"]: row["id"] for row in rows}
