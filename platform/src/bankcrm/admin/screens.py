"""Admin screens: what each plugin registers plus the kernel's own, checked and resolved.

A screen names a table, a permission and labels. Here they become :class:`ScreenSpec`s that
the admin gate (:mod:`bankcrm.admin.gate`) consults on every request: who may read or
write, in which branches (the plugin's enablement), which columns are masked, read-only
or hidden, and what each column is called in Chinese and English.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from piccolo.apps.user.tables import BaseUser
from piccolo.columns import ForeignKey
from piccolo.columns.reference import LazyTableReference
from piccolo.table import Table

from bankcrm import piccolo_conf
from bankcrm.context import Scope
from bankcrm.kernel_plugin import EMPLOYEE_READ
from bankcrm.notifications.admin import (
    EVERY_USER,
    NOTIFICATION_GROUP,
    deliveries_screen,
    own_notifications_screen,
)
from bankcrm.organisation.tables import Employee, EmployeeLeave, Team
from bankcrm.plugin_api import AdminScreen, Label
from bankcrm.plugins import KERNEL_PLUGIN_NAME
from bankcrm.security import SecurityError, classify
from bankcrm.tables import ApiClient, AuditLog, Branch, Membership, PluginEnablement, Role

log = logging.getLogger(__name__)

KERNEL_GROUP = Label("系统管理", "System")
ORGANISATION_GROUP = Label("组织与员工", "Organisation")


def technical_group(group: Label) -> Label:
    """Where a plugin's technical tables are listed (for superusers), apart from its own."""
    return Label(f"{group.zh} · 技术数据", f"{group.en} · technical")


@dataclass(frozen=True)
class ScreenSpec:
    """A screen as the admin gate enforces it."""

    screen: AdminScreen
    plugin: str
    scoped: bool
    superuser_only: bool = False
    read_only: bool = False
    """No writes at all (the audit trail)."""
    creatable: bool = True
    hidden_columns: frozenset[str] = frozenset()
    """Never sent to the browser and never filterable (secrets, token digests)."""
    audit_branch_column: str | None = None
    entity: str = ""
    """The audit trail's entity name, ``<plugin>.<object>`` like the REST API writes."""
    group: Label = KERNEL_GROUP
    """Menu group: the screen's own, else its plugin's title."""

    @property
    def table(self) -> type[Table]:
        return self.screen.table

    @property
    def scoped_references(self) -> list[str]:
        """Foreign-key columns to branch-scoped tables (what RLS may hide from a reader)."""
        found = []
        for column in self.table._meta.foreign_key_columns:
            target = column._foreign_key_meta.resolved_references
            try:
                if classify(target).scoped:
                    found.append(column._meta.name)
            except SecurityError:
                continue
        return found

    @property
    def tablename(self) -> str:
        return self.screen.table._meta.tablename

    @property
    def write_permission(self) -> str:
        """``x.y.read`` screens are writable with ``x.y.write``; others with their own."""
        permission = self.screen.permission
        if permission.endswith(".read"):
            return permission[: -len(".read")] + ".write"
        return permission

    def may_read(self, scope: Scope) -> bool:
        if self.superuser_only:
            return scope.is_superuser
        if self.screen.permission == EVERY_USER:
            # Row-level security decides the rows (a user's own notifications).
            return scope.user_id is not None
        return scope.has(self.screen.permission)

    def may_write(self, scope: Scope) -> bool:
        return not self.read_only and self.may_read(scope) and scope.has(self.write_permission)

    def label(self, column: str, language: str) -> str | None:
        found = self.screen.columns.get(column)
        if found is None:
            return None
        return found.en if language == "en" else found.zh

    @property
    def unsent_columns(self) -> frozenset[str]:
        """Hidden columns and secrets (password hashes): left out of every answer."""
        secrets = {c._meta.name for c in self.table._meta.columns if c._meta.secret}
        return self.hidden_columns | secrets

    @property
    def protected_columns(self) -> frozenset[str]:
        """Columns nobody may filter, sort or search on: their values must not leak."""
        return frozenset(self.screen.masked_columns) | self.unsent_columns


def _labels(**labels: tuple[str, str]) -> dict[str, Label]:
    return {name: Label(zh, en) for name, (zh, en) in labels.items()}


def kernel_screens() -> list[ScreenSpec]:
    """The kernel's tables. Global ones (no RLS) are for superusers only; the audit trail
    and the notification screens are branch-scoped, and notifications the recipient's."""

    def spec(screen: AdminScreen, entity: str, **kwargs: Any) -> ScreenSpec:
        return ScreenSpec(
            screen=screen,
            plugin=KERNEL_PLUGIN_NAME,
            scoped=classify(screen.table).scoped,
            entity=entity,
            **{"group": screen.menu_group or KERNEL_GROUP, **kwargs},
        )

    return [
        spec(
            AdminScreen(
                table=Branch,
                title=Label("机构", "Branches"),
                permission="bankcrm.branch.manage",
                columns=_labels(
                    id=("编号", "ID"),
                    code=("机构代码", "Code"),
                    name=("名称", "Name"),
                    name_en=("英文名称", "English name"),
                    parent=("上级机构", "Parent branch"),
                    level=("层级", "Level"),
                    path=("路径", "Path"),
                    active=("启用", "Active"),
                ),
                visible_columns=("id", "code", "name", "name_en", "parent", "level", "active"),
                visible_filters=("code", "name", "parent", "active"),
                # Moving a branch would have to rewrite the paths of its whole subtree.
                read_only_columns=("parent", "level", "path"),
                menu_group=KERNEL_GROUP,
            ),
            "bankcrm.branch",
            superuser_only=True,
            audit_branch_column="parent",
        ),
        spec(
            AdminScreen(
                table=Role,
                title=Label("角色", "Roles"),
                permission="bankcrm.user.manage",
                columns=_labels(
                    id=("编号", "ID"),
                    name=("角色代码", "Role code"),
                    title=("名称", "Title"),
                    title_en=("英文名称", "English title"),
                    permissions=("权限", "Permissions"),
                    managed=("模块维护", "Managed by modules"),
                    description=("说明", "Description"),
                ),
                read_only_columns=("managed",),
                menu_group=KERNEL_GROUP,
            ),
            "bankcrm.role",
            superuser_only=True,
        ),
        spec(
            AdminScreen(
                table=Membership,
                title=Label("机构成员", "Branch memberships"),
                permission="bankcrm.user.manage",
                columns=_labels(
                    id=("编号", "ID"),
                    user=("用户", "User"),
                    branch=("机构", "Branch"),
                    role=("角色", "Role"),
                ),
                menu_group=KERNEL_GROUP,
            ),
            "bankcrm.membership",
            superuser_only=True,
            audit_branch_column="branch",
        ),
        spec(
            AdminScreen(
                table=PluginEnablement,
                title=Label("模块启用", "Module enablement"),
                permission="bankcrm.plugin.manage",
                columns=_labels(
                    id=("编号", "ID"),
                    branch=("机构", "Branch"),
                    plugin=("模块", "Module"),
                    enabled=("已启用", "Enabled"),
                    settings=("设置", "Settings"),
                    changed_by=("修改人", "Changed by"),
                    changed_at=("修改时间", "Changed at"),
                ),
                read_only_columns=("changed_by", "changed_at"),
                menu_group=KERNEL_GROUP,
            ),
            "bankcrm.plugin_enablement",
            superuser_only=True,
            audit_branch_column="branch",
        ),
        spec(
            AdminScreen(
                table=ApiClient,
                title=Label("接口客户端", "API clients"),
                permission="bankcrm.api_client.manage",
                columns=_labels(
                    id=("编号", "ID"),
                    name=("名称", "Name"),
                    branch=("机构", "Branch"),
                    permissions=("权限", "Permissions"),
                    token_prefix=("令牌前缀", "Token prefix"),
                    created_by=("创建人", "Created by"),
                    created_at=("创建时间", "Created at"),
                    rotated_at=("轮换时间", "Rotated at"),
                    expires_at=("过期时间", "Expires at"),
                    revoked_at=("吊销时间", "Revoked at"),
                ),
                read_only_columns=("token_prefix", "created_by", "created_at", "rotated_at"),
                menu_group=KERNEL_GROUP,
            ),
            "bankcrm.api_client",
            superuser_only=True,
            # Tokens are issued (and shown once) by POST /api/v1/api-clients only.
            creatable=False,
            hidden_columns=frozenset({"token_hash"}),
            audit_branch_column="branch",
        ),
        spec(
            AdminScreen(
                table=AuditLog,
                title=Label("审计日志", "Audit trail"),
                # Not superuser-only: the table is branch-scoped, so RLS shows each holder
                # of the permission the trail of their own branches, as GET /api/v1/audit.
                permission="bankcrm.audit.read",
                columns=_labels(
                    id=("序号", "No."),
                    at=("时间", "Time"),
                    branch_id=("机构", "Branch"),
                    actor=("操作人", "Actor"),
                    action=("操作", "Action"),
                    entity=("对象类型", "Entity"),
                    entity_id=("对象编号", "Entity ID"),
                    before=("变更前", "Before"),
                    after=("变更后", "After"),
                    reason=("原因", "Reason"),
                    request_id=("请求编号", "Request ID"),
                ),
                visible_columns=("id", "at", "branch_id", "actor", "action", "entity", "entity_id"),
                visible_filters=("branch_id", "actor", "action", "entity", "entity_id"),
                menu_group=KERNEL_GROUP,
            ),
            "bankcrm.audit",
            read_only=True,
            creatable=False,
        ),
        spec(
            AdminScreen(
                table=BaseUser,
                title=Label("用户", "Users"),
                permission="bankcrm.user.manage",
                columns=_labels(
                    id=("编号", "ID"),
                    username=("用户名", "Username"),
                    password=("密码", "Password"),
                    first_name=("名", "First name"),
                    last_name=("姓", "Last name"),
                    email=("电子邮箱", "Email"),
                    active=("启用", "Active"),
                    admin=("可用管理后台", "Admin UI access"),
                    superuser=("超级管理员", "Superuser"),
                    last_login=("最近登录", "Last login"),
                ),
                visible_columns=(
                    "id",
                    "username",
                    "email",
                    "first_name",
                    "last_name",
                    "active",
                    "admin",
                    "superuser",
                    "last_login",
                ),
                visible_filters=("username", "email", "active", "admin", "superuser"),
                read_only_columns=("last_login",),
                menu_group=KERNEL_GROUP,
            ),
            "bankcrm.user",
            superuser_only=True,
        ),
        spec(
            own_notifications_screen(),
            "bankcrm.notification",
            hidden_columns=frozenset(own_notifications_screen().hidden_columns),
            read_only=True,
            creatable=False,
            group=NOTIFICATION_GROUP,
        ),
        spec(
            deliveries_screen(),
            "bankcrm.notification_delivery",
            read_only=True,
            creatable=False,
            group=NOTIFICATION_GROUP,
        ),
        *organisation_screens(spec),
    ]


def organisation_screens(spec: Callable[..., ScreenSpec]) -> list[ScreenSpec]:
    """Employees, teams and leave: branch-scoped, read by staff, written by managers."""
    return [
        spec(
            AdminScreen(
                table=Employee,
                title=Label("员工", "Employees"),
                permission=EMPLOYEE_READ,
                columns=_labels(
                    id=("编号", "ID"),
                    branch_id=("所属机构", "Branch"),
                    employee_no=("工号", "Employee number"),
                    name=("姓名", "Name"),
                    name_en=("英文名", "English name"),
                    user_id=("系统用户", "Staff user"),
                    position=("职位", "Position"),
                    team_id=("团队", "Team"),
                    manager_id=("直属上级", "Manager"),
                    products=("擅长产品", "Products"),
                    segments=("服务客群", "Segments"),
                    languages=("工作语言", "Languages"),
                    territories=("负责区域", "Territories"),
                    capacity=("最大任务数", "Capacity"),
                    email=("电子邮箱", "Email"),
                    phone=("电话", "Phone"),
                    active=("在职", "Active"),
                    updated_at=("更新时间", "Updated at"),
                ),
                visible_columns=(
                    "id",
                    "employee_no",
                    "name",
                    "branch_id",
                    "team_id",
                    "position",
                    "manager_id",
                    "capacity",
                    "active",
                ),
                visible_filters=("employee_no", "name", "branch_id", "team_id", "active"),
                read_only_columns=("updated_at",),
                menu_group=ORGANISATION_GROUP,
            ),
            "bankcrm.employee",
            audit_branch_column="branch_id",
        ),
        spec(
            AdminScreen(
                table=Team,
                title=Label("团队", "Teams"),
                permission=EMPLOYEE_READ,
                columns=_labels(
                    id=("编号", "ID"),
                    branch_id=("所属机构", "Branch"),
                    code=("团队代码", "Code"),
                    name=("名称", "Name"),
                    name_en=("英文名称", "English name"),
                    active=("启用", "Active"),
                ),
                menu_group=ORGANISATION_GROUP,
            ),
            "bankcrm.team",
            audit_branch_column="branch_id",
        ),
        spec(
            AdminScreen(
                table=EmployeeLeave,
                title=Label("请假", "Leave"),
                permission=EMPLOYEE_READ,
                columns=_labels(
                    id=("编号", "ID"),
                    branch_id=("所属机构", "Branch"),
                    employee_id=("员工", "Employee"),
                    starts=("开始日期", "Starts"),
                    ends=("结束日期", "Ends"),
                    reason=("事由", "Reason"),
                ),
                menu_group=ORGANISATION_GROUP,
            ),
            "bankcrm.employee_leave",
            audit_branch_column="branch_id",
        ),
    ]


class ScreenError(ValueError):
    """A plugin's screen is unusable; it is left out and the reason logged."""


def _table_owner(table: type[Table]) -> str | None:
    for app_name, config in piccolo_conf.APP_REGISTRY.app_configs.items():
        if table in config.table_classes:
            return app_name
    return None


def check_screen(plugin: str, screen: AdminScreen, plugin_title: Label | None = None) -> ScreenSpec:
    if not isinstance(screen, AdminScreen):
        raise ScreenError(f"{screen!r} is not a bankcrm.plugin_api.AdminScreen")
    table = screen.table
    owner = _table_owner(table)
    if owner is not None and owner != plugin:
        # Otherwise a plugin could expose another plugin's (or the kernel's) table under a
        # permission of its own choosing.
        raise ScreenError(f"table {table._meta.tablename!r} belongs to {owner!r}, not {plugin!r}")
    names = {c._meta.name for c in table._meta.columns}
    for what, columns in (
        ("columns", screen.columns),
        ("visible_columns", screen.visible_columns),
        ("visible_filters", screen.visible_filters),
        ("read_only_columns", screen.read_only_columns),
        ("masked_columns", screen.masked_columns),
        ("hidden_columns", screen.hidden_columns),
    ):
        unknown = sorted(set(columns) - names)
        if unknown:
            raise ScreenError(f"{what} names unknown columns of {table._meta.tablename}: {unknown}")
    if screen.row_page is not None and not (
        screen.row_page.startswith(f"/app/{plugin}/")
        and "{id}" in screen.row_page
        and screen.row_page_title is not None
    ):
        raise ScreenError(
            f"row_page {screen.row_page!r} must be one of the plugin's pages (/app/{plugin}/...)"
            " with an {id} placeholder, and needs a row_page_title"
        )
    pk = table._meta.primary_key._meta.name
    if pk in screen.masked_columns or pk in screen.read_only_columns or pk in screen.hidden_columns:
        raise ScreenError("the primary key can be neither masked, read-only nor hidden")
    try:
        scoped = classify(table).scoped
    except SecurityError as exc:
        raise ScreenError(str(exc)) from exc
    tablename = table._meta.tablename
    prefix = f"{plugin}_"
    entity = f"{plugin}.{tablename.removeprefix(prefix)}"
    group = screen.menu_group or plugin_title or Label(plugin, plugin)
    return ScreenSpec(
        screen=screen,
        plugin=plugin,
        scoped=scoped,
        entity=entity,
        superuser_only=screen.technical,
        read_only=screen.read_only,
        creatable=screen.allow_create and not screen.read_only,
        hidden_columns=frozenset(screen.hidden_columns),
        audit_branch_column="branch_id" if scoped else None,
        group=technical_group(group) if screen.technical else group,
    )


def collect_screens(
    answers: Iterable[tuple[str, Any]], titles: dict[str, Label] | None = None
) -> list[ScreenSpec]:
    """Kernel screens, then each plugin's (``call_each("register_admin")`` answers).

    A screen that does not check out, or names a table already on screen, is left out
    with an error in the log: one plugin's mistake must not take the admin down, and an
    unchecked screen could leak what its masks and permissions were meant to protect.
    """
    specs = kernel_screens()
    taken = {spec.tablename: spec.plugin for spec in specs}
    for plugin, screens in answers:
        if plugin == KERNEL_PLUGIN_NAME:
            continue
        for screen in screens or ():
            try:
                spec = check_screen(plugin, screen, (titles or {}).get(plugin))
            except ScreenError as exc:
                log.error("admin screen of %s left out: %s", plugin, exc)
                continue
            if spec.tablename in taken:
                log.error(
                    "admin screen of %s left out: %s is already shown by %s",
                    plugin,
                    spec.tablename,
                    taken[spec.tablename],
                )
                continue
            taken[spec.tablename] = plugin
            specs.append(spec)
    return specs


def referenced_tables(
    table: type[Table], hidden: frozenset[str] = frozenset()
) -> list[type[Table]]:
    """Tables ``table`` points at with foreign keys: the admin's key pickers need them.

    A ``hidden`` column is never shown, filtered or set, so it needs no picker (which would
    list the referenced table to every reader of the screen)."""
    found = []
    for column in table._meta.foreign_key_columns:
        if column._meta.name in hidden:
            continue
        reference: Any = column._foreign_key_meta.references
        target = reference.resolve() if isinstance(reference, LazyTableReference) else reference
        if isinstance(column, ForeignKey) and target not in found:
            found.append(target)
    return found


@dataclass(frozen=True)
class ScreenIndex:
    """Screens by table name, plus which screens point at each table (for key pickers)."""

    screens: dict[str, ScreenSpec]
    pickers: dict[str, list[ScreenSpec]] = field(default_factory=dict)
    """table name -> screens with a foreign key to it."""
    tables: dict[str, type[Table]] = field(default_factory=dict)
    """Every table the admin app serves: screens and the tables their keys point at."""
    columns: dict[str, frozenset[str]] = field(default_factory=dict)
    """table name -> its column names (what a sort may name)."""
    masked_readables: frozenset[str] = frozenset()
    """Tables whose row titles (piccolo's ``get_readable``) show a masked column: wherever
    another screen shows such a title, or a key picker lists it, it is masked too."""

    @classmethod
    def build(cls, specs: list[ScreenSpec]) -> ScreenIndex:
        screens = {spec.tablename: spec for spec in specs}
        pickers: dict[str, list[ScreenSpec]] = {}
        tables: dict[str, type[Table]] = {spec.tablename: spec.table for spec in specs}
        for spec in specs:
            for target in referenced_tables(spec.table, spec.hidden_columns):
                name = target._meta.tablename
                pickers.setdefault(name, []).append(spec)
                tables.setdefault(name, target)
        columns = {
            name: frozenset(c._meta.name for c in table._meta.columns)
            for name, table in tables.items()
        }
        masked_readables = frozenset(
            name
            for name, table in tables.items()
            if (shown := screens.get(name)) is not None
            and {c._meta.name for c in table.get_readable().columns} & shown.protected_columns
        )
        return cls(screens, pickers, tables, columns, masked_readables)
