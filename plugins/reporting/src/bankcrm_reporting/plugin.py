"""The plugin's hook implementations (entry point ``bankcrm.plugins``).

Thin by design: each hook hands the kernel what a module of the plugin declares.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pluggy

from bankcrm.notifications import NotificationTemplate
from bankcrm.plugin_api import (
    AccessRule,
    AdminForm,
    AdminScreen,
    DemoContext,
    EventSpec,
    Pages,
    PermissionSpec,
    RoleGrant,
    ScheduleSpec,
    WorkbenchLink,
    hookimpl,
)
from bankcrm_reporting import customer_source, hookspecs
from bankcrm_reporting.access import GRANTS, PERMISSIONS, RULES
from bankcrm_reporting.actors import ACTORS, SCHEDULES
from bankcrm_reporting.admin import SCREENS
from bankcrm_reporting.alerts import TEMPLATES
from bankcrm_reporting.api import ROUTES
from bankcrm_reporting.demo import seed_demo
from bankcrm_reporting.events import EVENTS
from bankcrm_reporting.manifest import MANIFEST
from bankcrm_reporting.pages import LINKS, PAGES_HANDLERS
from bankcrm_reporting.reports import admin as reports_admin
from bankcrm_reporting.reports import api as reports_api
from bankcrm_reporting.reports import jobs as report_jobs
from bankcrm_reporting.reports.services import TEMPLATES as REPORT_TEMPLATES
from bankcrm_reporting.sources import DataSource

__all__ = ["MANIFEST"]

PAGES = Pages(handlers=PAGES_HANDLERS, templates_package="bankcrm_reporting", static=True)


@hookimpl
def add_hookspecs(pm: pluggy.PluginManager) -> None:
    pm.add_hookspecs(hookspecs)


@hookimpl
def register_routes() -> Sequence[Any]:
    return [*ROUTES, *reports_api.ROUTES]


@hookimpl
def register_admin() -> Sequence[AdminScreen]:
    return [*SCREENS, *reports_admin.SCREENS]


@hookimpl
def register_admin_forms() -> Sequence[AdminForm]:
    return reports_admin.FORMS


@hookimpl
def register_actors() -> Sequence[Any]:
    return [*ACTORS, *report_jobs.ACTORS]


@hookimpl
def register_schedules() -> Sequence[ScheduleSpec]:
    return [*SCHEDULES, *report_jobs.SCHEDULES]


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
def register_pages() -> Pages:
    return PAGES


@hookimpl
def register_workbench_links() -> Sequence[WorkbenchLink]:
    return LINKS


@hookimpl
def register_notification_templates() -> Sequence[NotificationTemplate]:
    return [*TEMPLATES, *REPORT_TEMPLATES]


@hookimpl
def register_access_rules() -> Sequence[AccessRule]:
    return RULES


@hookimpl
def reporting_data_sources() -> Sequence[DataSource]:
    return customer_source.SOURCES
