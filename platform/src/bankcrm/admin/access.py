"""Who may see which table, in which branches, and ask what of it.

Per table: the screen's permission (reads; ``.write`` for writes), the scope narrowed to
the branches where the table's plugin is enabled (row-level security does the rest), no
filtering, sorting or searching on masked or hidden columns, exports only with the
screen's export permission. Key pickers (``ids/``) serve whoever may read a screen that
points at the table, and offer only the staff and branches of the viewer's scope.
"""

from __future__ import annotations

from typing import Any

from piccolo.apps.user.tables import BaseUser

from bankcrm import branches, db
from bankcrm.admin.exchange import Request
from bankcrm.admin.read_audit import is_export
from bankcrm.admin.screens import ScreenIndex, ScreenSpec
from bankcrm.context import Scope as ActorScope
from bankcrm.context import current_scope, set_scope
from bankcrm.plugins import KERNEL_PLUGIN_NAME
from bankcrm.tables import Branch
from bankcrm.web.problems import FieldError, Problem

WRITE_METHODS = {"": frozenset({"POST"}), "row": frozenset({"PATCH", "DELETE"})}
"""Unsafe methods by table endpoint: create on the list, edit and delete on a row."""


class TableAccess:
    def __init__(self, index: ScreenIndex) -> None:
        self.index = index

    @staticmethod
    async def enabled(plugin: str) -> frozenset[int] | None:
        """Branches where ``plugin`` is enabled; None for the kernel, which always is."""
        if plugin == KERNEL_PLUGIN_NAME:
            return None
        return (await branches.snapshot()).enabled_branches(plugin)

    async def visible_screens(self, actor: ActorScope) -> list[ScreenSpec]:
        """The screens ``actor`` may read, where their plugin is enabled for them."""
        enabled: dict[str, frozenset[int] | None] = {}
        visible = []
        for spec in self.index.screens.values():
            if not spec.may_read(actor):
                continue
            if spec.plugin not in enabled:
                enabled[spec.plugin] = await self.enabled(spec.plugin)
            where = enabled[spec.plugin]
            if where is None or where & actor.branch_ids:
                visible.append(spec)
        return visible

    async def picker_branches(self, name: str, actor: ActorScope) -> frozenset[int] | None:
        """Where ``actor`` may pick keys of ``name``: where some screen they read that points
        at it is enabled (None: everywhere)."""
        pickers = [s for s in self.index.pickers.get(name, []) if s.may_read(actor)]
        if not pickers:
            raise Problem(403, f"you may not use the admin screen {name!r}", code="forbidden")
        allowed: frozenset[int] | None = frozenset()
        for picker in pickers:
            where = await self.enabled(picker.plugin)
            allowed = None if where is None or allowed is None else allowed | where
        return allowed

    @staticmethod
    def narrow(
        actor: ActorScope, allowed: frozenset[int] | None, spec: ScreenSpec | None = None
    ) -> None:
        """Limit the request to the branches where the table's plugin is enabled."""
        if allowed is None:
            return
        narrowed = actor.narrowed(allowed)
        if not narrowed.branch_ids:
            plugin = spec.plugin if spec else "its module"
            raise Problem(
                404,
                f"no screen here: {plugin!r} is not enabled for your branch",
                code="plugin_disabled",
            )
        set_scope(narrowed)

    @staticmethod
    def check_write(spec: ScreenSpec, actor: ActorScope, method: str, kind: str) -> None:
        """An unsafe request on ``spec`` (``kind``: ``""`` the list, ``row`` one row)."""
        name = spec.tablename
        if spec.read_only:
            raise Problem(405, f"{name} is read-only", code="read_only")
        if not spec.may_write(actor):
            raise Problem(
                403,
                f"changing {name} needs the permission {spec.write_permission!r}",
                code="forbidden",
            )
        if method not in WRITE_METHODS.get(kind, frozenset()):
            raise Problem(405, f"{method} is not offered here; edit rows with PATCH", code="method")
        if method == "POST" and not spec.creatable:
            raise Problem(
                405,
                f"{name} rows are not created in the admin: use the module's REST API"
                " or its import",
                code="method",
            )

    def check_query(self, request: Request, name: str, spec: ScreenSpec | None) -> None:
        """No filter, sort or search may probe a masked, hidden or secret column."""
        protected = spec.protected_columns if spec else frozenset()
        for key, value in request.connection.query_params.multi_items():
            if key == "search":
                if name in self.index.masked_readables:
                    raise Problem(
                        400,
                        f"{name} cannot be searched: its titles are masked",
                        [FieldError("query.search", "protected column")],
                        "protected",
                    )
                continue
            if key == "__order":
                fields = {part.strip().lstrip("-") for part in str(value).split(",")}
                unknown = sorted(fields - self.index.columns[name])
                if unknown:
                    # piccolo-admin would fail with a 500 on these.
                    raise Problem(
                        400,
                        f"cannot sort on {', '.join(unknown)}: no such column",
                        [FieldError("query.__order", "unknown column")],
                        "validation",
                    )
            else:
                field_name = key.removesuffix("[]")
                for suffix in ("__operator", "__match"):
                    field_name = field_name.removesuffix(suffix)
                fields = {field_name}
            blocked = sorted(fields & protected)
            if blocked:
                raise Problem(
                    400,
                    f"{', '.join(blocked)} cannot be filtered or sorted on",
                    [FieldError(f"query.{key}", "protected column")],
                    "protected",
                )

    @staticmethod
    def check_export(request: Request, actor: ActorScope, spec: ScreenSpec) -> None:
        """The CSV export needs the screen's export permission, as the REST export does."""
        needed = spec.screen.export_permission
        if is_export(request) and needed and not actor.has(needed):
            raise Problem(
                403,
                f"exporting {spec.tablename} needs the permission {needed!r},"
                " as the REST export does",
                code="forbidden",
            )

    @staticmethod
    async def picker_ids(name: str, ids: dict[str, Any]) -> dict[str, Any]:
        """Keys offered for tables without row-level security, kept to the viewer's scope."""
        scope = current_scope()
        if name == BaseUser._meta.tablename and (scope is None or not scope.is_superuser):
            # Staff pickers offer only people who work in the viewer's branches, not the
            # bank's whole staff list.
            branch_ids = sorted(scope.branch_ids) if scope else []
            staff = {
                str(r["user"])
                for r in await db.fetch(
                    "SELECT DISTINCT m.user FROM bankcrm_membership m"
                    " WHERE m.branch = ANY($1::bigint[])",
                    branch_ids,
                )
            }
            ids = {key: value for key, value in ids.items() if str(key) in staff}
        if name == Branch._meta.tablename:
            # Branches carry no RLS: a picker offers only those the narrowed scope covers.
            allowed = scope.branch_ids if scope else frozenset()
            ids = {key: value for key, value in ids.items() if int(key) in allowed}
        return ids

    async def visible_references(
        self, actor: ActorScope, references: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """A row's "referenced by" links, to the screens ``actor`` sees only."""
        visible = {s.tablename for s in await self.visible_screens(actor)}
        return [r for r in references if r.get("tableName") in visible]
