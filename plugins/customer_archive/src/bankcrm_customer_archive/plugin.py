"""The customer_archive plugin's hook implementations (entry point ``bankcrm.plugins``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import click
import pluggy

from bankcrm.context import Scope
from bankcrm.plugin_api import (
    AccessRule,
    AdminForm,
    AdminScreen,
    DemoContext,
    Enumeration,
    EventSpec,
    MetricSpec,
    Pages,
    PermissionSpec,
    RoleGrant,
    ScheduleSpec,
    WorkbenchLink,
    hookimpl,
)
from bankcrm_customer_archive import hookspecs, timeline
from bankcrm_customer_archive.access import CUSTOMER_READ, GRANTS, PERMISSIONS, RULES
from bankcrm_customer_archive.admin_forms import ARCHIVE_FORMS
from bankcrm_customer_archive.customers.admin import (
    ADDRESS_SCREEN,
    CONTACT_SCREEN,
    CUSTOMER_SCREEN,
    HOLDING_SCREEN,
)
from bankcrm_customer_archive.customers.api import CUSTOMER_ROUTES
from bankcrm_customer_archive.customers.pages import CUSTOMER_PAGES, LINKS
from bankcrm_customer_archive.customers.services import aum_total, customer_count
from bankcrm_customer_archive.dedupe.actors import DEDUPE_ACTORS, DEDUPE_SCHEDULES
from bankcrm_customer_archive.dedupe.admin import DEDUPE_SCREENS
from bankcrm_customer_archive.dedupe.api import DEDUPE_ROUTES
from bankcrm_customer_archive.dedupe.merging import OWN_REFERENCES
from bankcrm_customer_archive.dedupe.pages import DUPLICATE_PAGES
from bankcrm_customer_archive.dedupe.references import CustomerReference
from bankcrm_customer_archive.dedupe.seeding import seed_demo_duplicates
from bankcrm_customer_archive.enumerations import ENUMERATIONS
from bankcrm_customer_archive.events import EVENTS
from bankcrm_customer_archive.importing.admin import IMPORT_BATCH_SCREEN
from bankcrm_customer_archive.importing.api import IMPORT_ROUTES
from bankcrm_customer_archive.importing.cli import register_import_cli
from bankcrm_customer_archive.importing.commit import IMPORT_ACTORS
from bankcrm_customer_archive.importing.pages import IMPORT_PAGES
from bankcrm_customer_archive.importing.seeding import seed_import_demo
from bankcrm_customer_archive.manifest import MANIFEST
from bankcrm_customer_archive.messages import TRANSLATIONS
from bankcrm_customer_archive.products.admin import PRODUCT_SCREEN
from bankcrm_customer_archive.products.api import PRODUCT_ROUTES
from bankcrm_customer_archive.profile.admin import PROFILE_SCREENS
from bankcrm_customer_archive.profile.api import PROFILE_ROUTES
from bankcrm_customer_archive.profile.jobs import PROFILE_ACTORS, PROFILE_SCHEDULES
from bankcrm_customer_archive.search.admin import SAVED_SEARCH_SCREEN
from bankcrm_customer_archive.search.api import ROUTES as SEARCH_ROUTES
from bankcrm_customer_archive.sections import Section
from bankcrm_customer_archive.seeding import seed_demo
from bankcrm_customer_archive.settings import CustomerArchiveSettings
from bankcrm_customer_archive.tagging.admin import TAG_SCREEN
from bankcrm_customer_archive.tagging.api import TAGGING_ROUTES
from bankcrm_customer_archive.tagging.services import TAGGING_ACTORS, TAGGING_SCHEDULES
from bankcrm_customer_archive.tiers.api import TIER_ROUTES
from bankcrm_customer_archive.tiers.services import TIER_ACTORS, TIER_SCHEDULES
from bankcrm_customer_archive.view_360.api import PORTRAIT_ROUTES
from bankcrm_customer_archive.view_360.services import core_sections

__all__ = ["MANIFEST"]

# Each feature package brings its routes, admin screens and pages; the plugin mounts them.
ROUTES: list[Any] = [
    *SEARCH_ROUTES,
    *IMPORT_ROUTES,
    *PROFILE_ROUTES,
    *TAGGING_ROUTES,
    *TIER_ROUTES,
    *PORTRAIT_ROUTES,
    *DEDUPE_ROUTES,
    *CUSTOMER_ROUTES,
    *PRODUCT_ROUTES,
]
SCREENS: tuple[AdminScreen, ...] = (
    CUSTOMER_SCREEN,
    ADDRESS_SCREEN,
    CONTACT_SCREEN,
    PRODUCT_SCREEN,
    HOLDING_SCREEN,
    TAG_SCREEN,
    *PROFILE_SCREENS,
    IMPORT_BATCH_SCREEN,
    *DEDUPE_SCREENS,
    SAVED_SEARCH_SCREEN,
)
PAGES = Pages(
    handlers=[*CUSTOMER_PAGES, *IMPORT_PAGES, *DUPLICATE_PAGES],
    templates_package="bankcrm_customer_archive",
)


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
def register_admin_forms() -> Sequence[AdminForm]:
    return ARCHIVE_FORMS


@hookimpl
def register_actors() -> Sequence[Any]:
    return [*PROFILE_ACTORS, *TAGGING_ACTORS, *TIER_ACTORS, *IMPORT_ACTORS, *DEDUPE_ACTORS]


@hookimpl
def register_schedules() -> Sequence[ScheduleSpec]:
    return [*PROFILE_SCHEDULES, *TAGGING_SCHEDULES, *TIER_SCHEDULES, *DEDUPE_SCHEDULES]


@hookimpl
def register_cli(group: click.Group) -> None:
    register_import_cli(group)


@hookimpl
def register_settings() -> type:
    return CustomerArchiveSettings


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
def register_metrics() -> Sequence[MetricSpec]:
    return (
        MetricSpec("customer_archive.customers", "客户数", "Customers", "count",
                   "Customers not deleted (services.kpis).", customer_count, direction="up",
                   owner="零售业务部 Retail banking"),
        MetricSpec("customer_archive.aum", "管理资产规模", "Assets under management", "CNY",
                   "Balances of open asset holdings (deposits, wealth, debit cards) in CNY "
                   "(services.kpis).", aum_total, direction="up",
                   owner="财富管理部 Wealth management"),
    )  # fmt: skip


@hookimpl
def register_events() -> Sequence[EventSpec]:
    return EVENTS


@hookimpl
async def customer_360_sections(customer_id: int, scope: Scope) -> list[Section] | None:
    return await core_sections(customer_id, scope)


@hookimpl
async def customer_timeline_items(
    customer_id: int, scope: Scope, before: datetime, limit: int
) -> list[timeline.TimelineItem]:
    if not scope.has(CUSTOMER_READ):
        return []
    return await timeline.own_items(customer_id, before, limit)


@hookimpl
def customer_references() -> Sequence[CustomerReference]:
    return OWN_REFERENCES


@hookimpl
async def seed_demo_data(demo: DemoContext) -> None:
    await seed_demo(demo)
    await seed_import_demo(demo)
    await seed_demo_duplicates(demo)


@hookimpl
def register_enumerations() -> Sequence[Enumeration]:
    return ENUMERATIONS


@hookimpl
def register_pages() -> Pages:
    return PAGES


@hookimpl
def register_workbench_links() -> Sequence[WorkbenchLink]:
    return LINKS


@hookimpl
def register_message_translations() -> Sequence[tuple[str, str]]:
    return TRANSLATIONS
