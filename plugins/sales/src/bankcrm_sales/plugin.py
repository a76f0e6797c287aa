"""The plugin's hook implementations (entry point ``bankcrm.plugins``).

Thin by design: each hook hands the kernel what a module of the plugin declares.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import pluggy

from bankcrm.context import Scope
from bankcrm.notifications import NotificationTemplate
from bankcrm.plugin_api import (
    AccessRule,
    AdminScreen,
    DemoContext,
    Enumeration,
    EventSpec,
    MetricSpec,
    PermissionSpec,
    RoleGrant,
    ScheduleSpec,
    WorkKind,
    hookimpl,
)
from bankcrm_customer_archive.services import CustomerReference, TimelineItem
from bankcrm_sales import activities, analytics, hookspecs, metrics
from bankcrm_sales.access import ACTIVITY_READ, GRANTS, PERMISSIONS, RULES
from bankcrm_sales.actors import ACTORS, SCHEDULES
from bankcrm_sales.admin import SCREENS
from bankcrm_sales.api import ROUTES
from bankcrm_sales.demo import seed_demo
from bankcrm_sales.enumerations import ENUMERATIONS
from bankcrm_sales.events import EVENTS
from bankcrm_sales.manifest import MANIFEST
from bankcrm_sales.notices import TEMPLATES, WORK_KINDS
from bankcrm_sales.settings import SalesSettings

__all__ = ["MANIFEST"]


@hookimpl
def add_hookspecs(pm: pluggy.PluginManager) -> None:
    pm.add_hookspecs(hookspecs)


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
def register_permissions() -> Sequence[PermissionSpec]:
    return PERMISSIONS


@hookimpl
def register_role_grants() -> Sequence[RoleGrant]:
    return GRANTS


@hookimpl
def register_access_rules() -> Sequence[AccessRule]:
    return RULES


@hookimpl
def register_settings() -> type:
    return SalesSettings


@hookimpl
def register_events() -> Sequence[EventSpec]:
    return EVENTS


@hookimpl
def register_enumerations() -> Sequence[Enumeration]:
    return ENUMERATIONS


@hookimpl
def register_notification_templates() -> Sequence[NotificationTemplate]:
    return TEMPLATES


@hookimpl
def register_work_kinds() -> Sequence[WorkKind]:
    return WORK_KINDS


@hookimpl
def register_metrics() -> Sequence[MetricSpec]:
    return metrics.METRICS


@hookimpl
async def customer_timeline_items(
    customer_id: int, scope: Scope, before: datetime, limit: int
) -> list[TimelineItem]:
    if not scope.has(ACTIVITY_READ):
        return []
    return await activities.timeline_items(customer_id, before, limit)


@hookimpl
def customer_references() -> Sequence[CustomerReference]:
    # Merging two customers moves their leads, opportunities and activities to the survivor.
    return [
        CustomerReference("sales_lead"),
        CustomerReference("sales_opportunity"),
        CustomerReference("sales_activity"),
    ]


@hookimpl
async def seed_demo_data(demo: DemoContext) -> None:
    await seed_demo(demo)


@hookimpl(optionalhook=True)  # marketing publishes it; sales does not require marketing
async def marketing_competitor_deals(
    branch_ids: frozenset[int], since: date
) -> Sequence[Mapping[str, Any]]:
    return await analytics.competitor_deals(branch_ids, since)
