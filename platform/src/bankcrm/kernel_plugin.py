"""The kernel's own hook implementations (registered as plugin ``bankcrm``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from litestar.connection import ASGIConnection

from bankcrm import auth, oauth
from bankcrm.assignment.admin_forms import reassign_form
from bankcrm.context import Scope
from bankcrm.notifications.channels import IN_APP_CHANNEL, NotificationChannel
from bankcrm.notifications.mail import EMAIL_CHANNEL
from bankcrm.notifications.tables import MANAGE_PERMISSION as NOTIFICATION_MANAGE
from bankcrm.notifications.templates import NotificationTemplate
from bankcrm.notifications.welcome import WELCOME, welcome_demo_users
from bankcrm.plugin_api import (
    STANDARD_ROLES,
    AdminForm,
    DemoContext,
    PermissionSpec,
    RoleGrant,
    RoleSpec,
    StandardRole,
    hookimpl,
)
from bankcrm.users.admin_forms import USER_FORMS

AUDIT_READ = "bankcrm.audit.read"
API_CLIENT_MANAGE = "bankcrm.api_client.manage"
CALENDAR_MANAGE = "bankcrm.calendar.manage"
EMPLOYEE_READ = "bankcrm.employee.read"
EMPLOYEE_MANAGE = "bankcrm.employee.write"
ASSIGNMENT_MANAGE = "bankcrm.assignment.manage"

KERNEL_PERMISSIONS = [
    PermissionSpec("bankcrm.branch.manage", "管理机构", "Manage branches"),
    PermissionSpec("bankcrm.plugin.manage", "启用或停用模块", "Enable or disable modules"),
    PermissionSpec(API_CLIENT_MANAGE, "管理接口客户端", "Manage API clients"),
    PermissionSpec(AUDIT_READ, "查看审计日志", "Read the audit trail"),
    PermissionSpec("bankcrm.user.manage", "管理用户", "Manage users and memberships"),
    PermissionSpec(CALENDAR_MANAGE, "管理营业时间", "Manage branch opening hours and days"),
    PermissionSpec(NOTIFICATION_MANAGE, "处理通知投递", "Handle failed notification deliveries"),
    PermissionSpec(EMPLOYEE_READ, "查看员工与团队", "See employees and teams"),
    PermissionSpec(EMPLOYEE_MANAGE, "管理员工、团队与请假", "Manage employees, teams and leave"),
    PermissionSpec(
        ASSIGNMENT_MANAGE, "管理分配规则与改派", "Manage assignment rules and reassign work"
    ),
]


# The head-office administrator holds every permission without a grant; branches,
# modules and users are managed by superusers.
KERNEL_GRANTS = [
    RoleGrant(
        StandardRole.BRANCH_MANAGER,
        (
            AUDIT_READ,
            API_CLIENT_MANAGE,
            CALENDAR_MANAGE,
            NOTIFICATION_MANAGE,
            EMPLOYEE_READ,
            EMPLOYEE_MANAGE,
            ASSIGNMENT_MANAGE,
        ),
    ),
    RoleGrant(StandardRole.RELATIONSHIP_MANAGER, (EMPLOYEE_READ,)),
    RoleGrant(StandardRole.TELLER, (EMPLOYEE_READ,)),
    RoleGrant(StandardRole.AUDITOR, (AUDIT_READ, EMPLOYEE_READ)),
]


@hookimpl
def register_permissions() -> Sequence[PermissionSpec]:
    return KERNEL_PERMISSIONS


@hookimpl
def register_roles() -> Sequence[RoleSpec]:
    return STANDARD_ROLES


@hookimpl
def register_role_grants() -> Sequence[RoleGrant]:
    return KERNEL_GRANTS


@hookimpl
def register_notification_channels() -> Sequence[NotificationChannel]:
    return [IN_APP_CHANNEL, EMAIL_CHANNEL]


@hookimpl
def register_notification_templates() -> Sequence[NotificationTemplate]:
    return [WELCOME]


@hookimpl
async def seed_demo_data(demo: DemoContext) -> None:
    await welcome_demo_users(demo)


@hookimpl(trylast=True)
async def resolve_actor(connection: ASGIConnection[Any, Any, Any, Any]) -> Scope | None:
    request_id = connection.scope.get("state", {}).get("request_id")
    authorization = connection.headers.get("authorization", "")
    if authorization:
        kind, _, token = authorization.partition(" ")
        if kind.lower() == "bearer" and token:
            token = token.strip()
            if token.startswith(f"{oauth.ACCESS_TOKEN_PREFIX}_"):
                return await oauth.scope_for_access_token(token, request_id)
            return await auth.scope_for_token(token, request_id)
        return None
    session = connection.cookies.get("id")
    if session:
        return await auth.scope_for_session(session, request_id)
    return None


@hookimpl
def register_admin_forms() -> Sequence[AdminForm]:
    return [*USER_FORMS, reassign_form(ASSIGNMENT_MANAGE)]
