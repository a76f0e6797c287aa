"""The plugin's hook implementations (entry point ``bankcrm.plugins``).

Thin by design: each hook hands the kernel what a module of the plugin declares.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import click

from bankcrm.context import Scope
from bankcrm.notifications import NotificationTemplate
from bankcrm.plugin_api import (
    AdminScreen,
    DemoContext,
    EventSpec,
    PermissionSpec,
    RoleGrant,
    ScheduleSpec,
    hookimpl,
)
from bankcrm_customer_archive.services import CustomerReference, TimelineItem
from bankcrm_service import timeline
from bankcrm_service.access import GRANTS, PERMISSIONS, TICKET_READ
from bankcrm_service.actors import ACTORS, SCHEDULES
from bankcrm_service.admin import SCREENS
from bankcrm_service.api import ROUTES
from bankcrm_service.cli import register_service_cli
from bankcrm_service.demo import seed_demo
from bankcrm_service.events import EVENTS
from bankcrm_service.manifest import MANIFEST
from bankcrm_service.notices import TEMPLATES
from bankcrm_service.settings import ServiceSettings

__all__ = ["MANIFEST"]


@hookimpl
def register_routes() -> Sequence[Any]:
    return ROUTES


@hookimpl
def register_admin() -> Sequence[AdminScreen]:
    return SCREENS


@hookimpl
def register_actors() -> Sequence[Any]:
    return ACTORS


@hookimpl
def register_schedules() -> Sequence[ScheduleSpec]:
    return SCHEDULES


@hookimpl
def register_settings() -> type:
    return ServiceSettings


@hookimpl
def register_notification_templates() -> Sequence[NotificationTemplate]:
    return TEMPLATES


@hookimpl
def register_permissions() -> Sequence[PermissionSpec]:
    return PERMISSIONS


@hookimpl
def register_role_grants() -> Sequence[RoleGrant]:
    return GRANTS


@hookimpl
def register_events() -> Sequence[EventSpec]:
    return EVENTS


@hookimpl
async def seed_demo_data(demo: DemoContext) -> None:
    await seed_demo(demo)


@hookimpl
async def customer_timeline_items(
    customer_id: int, scope: Scope, before: datetime, limit: int
) -> list[TimelineItem]:
    if not scope.has(TICKET_READ):
        return []
    return await timeline.timeline_items(customer_id, before, limit)


@hookimpl
def customer_references() -> Sequence[CustomerReference]:
    """A merge moves the absorbed customer's tickets to the survivor (in their branch)."""
    return [CustomerReference("service_ticket", moves_branch=False)]


@hookimpl
def register_cli(group: click.Group) -> None:
    register_service_cli(group)
