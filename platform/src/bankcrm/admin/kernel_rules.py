"""What the REST API enforces for kernel tables, applied to admin writes too: where a
branch sits in the tree, which plugins may be enabled where, managed roles left alone,
passwords under the policy, staff named on a row working where the row is, an employee's
team, manager and capacity.

The write hooks (:mod:`bankcrm.admin.hooks`) call these before auditing a write.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from piccolo.apps.user.tables import BaseUser
from piccolo.table import Table

from bankcrm import auth, branches, passwords, staff
from bankcrm.admin.errors import refusal
from bankcrm.admin.screens import ScreenSpec
from bankcrm.context import require_scope
from bankcrm.organisation import service as organisation
from bankcrm.organisation.tables import Employee
from bankcrm.tables import Branch, PluginEnablement, Role
from bankcrm.users import service as users


def staff_columns(table: type[Table]) -> list[str]:
    """Columns of ``table`` that name a member of staff (foreign keys to the user table)."""
    return [
        column._meta.name
        for column in table._meta.foreign_key_columns
        if column._foreign_key_meta.resolved_references is BaseUser
    ]


async def _check_staff_references(
    spec: ScreenSpec, row: dict[str, Any], changed: dict[str, Any]
) -> None:
    """A person named on a branch's row must work in a branch covering it (as the REST
    API checks): otherwise the manager cannot even see the customer they manage."""
    branch = row.get("branch_id")
    for name in staff_columns(spec.table):
        user = changed.get(name)
        if user is None or branch is None:
            continue
        problem = await staff.reference_problem(int(user), int(branch))
        if problem is not None:
            raise refusal(422, f"{name}: {problem}")


async def _check_employee(values: dict[str, Any], employee_id: int | None) -> None:
    """The REST API's checks of an employee (a team of the branch, a visible manager, no
    negative capacity) for a row the admin writes."""
    known = {f.name for f in fields(organisation.EmployeeFields)}
    given = {k: v for k, v in values.items() if k in known}
    for skill in organisation.SKILL_FIELDS:
        given[skill] = tuple(given.get(skill) or ())
    errors = await organisation.check_fields(organisation.EmployeeFields(**given), employee_id)
    if errors:
        raise refusal(422, "; ".join(f"{e.field}: {e.message}" for e in errors))


@dataclass
class KernelRules:
    """What the REST API enforces for kernel tables, applied to admin writes too."""

    requires: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """plugin -> the plugins it requires (active plugins only)."""

    async def before_create(self, spec: ScreenSpec, row: Table) -> None:
        if spec.scoped:
            values = {c._meta.name: getattr(row, c._meta.name) for c in spec.table._meta.columns}
            await _check_staff_references(spec, values, values)
            if spec.table is Employee:
                await _check_employee(values, None)
        if isinstance(row, Branch):
            await self._place_branch(row)
        elif isinstance(row, PluginEnablement):
            await self._check_enablement(row.branch, row.plugin, row.enabled, creating=True)
            row.changed_by = require_scope().actor
            row.changed_at = datetime.now(UTC)
        elif isinstance(row, Role):
            # Only migrate creates managed roles, from the plugins' declarations.
            row.managed = False

    async def before_update(
        self, spec: ScreenSpec, before: dict[str, Any], changes: dict[str, Any]
    ) -> None:
        if spec.scoped:
            await _check_staff_references(spec, {**before, **changes}, changes)
            if spec.table is Employee:
                await _check_employee({**before, **changes}, before["id"])
        if spec.table is Role and before["managed"] and changes:
            raise refusal(
                422,
                f"role {before['name']!r} is managed: its permissions come from the modules'"
                " declarations and are restored on every migrate; create a custom role instead",
            )
        if spec.table is PluginEnablement:
            after = {**before, **changes}
            if {"branch", "plugin", "enabled"} & changes.keys():
                await self._check_enablement(after["branch"], after["plugin"], after["enabled"])
            changes["changed_by"] = require_scope().actor
            changes["changed_at"] = datetime.now(UTC)
        elif spec.table is BaseUser and changes.get("password"):
            changes["password"] = passwords.normalised(changes["password"])
            # As a password change through the REST API: the policy with the user's recent
            # passwords, the replaced one kept in the history, every session ended.
            problems = await auth.password_reset_problems(
                before["id"], before["username"], changes["password"]
            )
            if problems:
                raise refusal(422, "password " + "; ".join(problems))
            if before["id"] != require_scope().user_id:
                # Whoever chose it knows it: the user replaces it at the next login.
                await users.require_password_change(before["id"])

    async def _place_branch(self, row: Branch) -> None:
        tree = await branches.snapshot()
        parent_id = row.parent
        if parent_id is None:
            row.level, parent_path = 0, ""
        else:
            parent = tree.nodes.get(int(parent_id))
            if parent is None:
                raise refusal(422, f"parent branch {parent_id} does not exist")
            row.level, parent_path = parent.level + 1, parent.path
        row.path = f"{parent_path}{row[Branch._meta.primary_key._meta.name]}/"

    async def _check_enablement(
        self, branch_id: Any, plugin: str, enabled: bool, *, creating: bool = False
    ) -> None:
        """The checks of ``branches.set_plugin_enabled``, for a row the admin writes."""
        tree = await branches.snapshot()
        branch_id = int(branch_id)
        if branch_id not in tree.nodes:
            raise refusal(422, f"branch {branch_id} does not exist")
        if plugin not in self.requires:
            raise refusal(422, f"plugin {plugin!r} is not installed and active")
        if creating and (branch_id, plugin) in tree.enablement:
            raise refusal(422, f"{plugin!r} already has a row for branch {branch_id}: edit it")
        if enabled:
            missing = [r for r in self.requires[plugin] if not tree.plugin_enabled(branch_id, r)]
            if missing:
                raise refusal(
                    422, f"{plugin!r} requires {', '.join(missing)} enabled for this branch first"
                )
        else:
            dependents = [
                name
                for name, needs in self.requires.items()
                if plugin in needs and tree.plugin_enabled(branch_id, name)
            ]
            if dependents:
                raise refusal(
                    422, f"{', '.join(dependents)} depend(s) on {plugin!r} here; disable them first"
                )


CACHED_TABLES = frozenset({Branch._meta.tablename, PluginEnablement._meta.tablename})
"""Tables behind :mod:`bankcrm.branches`' cache: reload it after an admin write."""
