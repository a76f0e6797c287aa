"""The plugin's hook implementations (entry point ``bankcrm.plugins``).

Thin by design: each hook hands the kernel what a module of the plugin declares.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pluggy

from bankcrm.context import Scope
from bankcrm.notifications import NotificationTemplate
from bankcrm.plugin_api import (
    AdminScreen,
    DemoContext,
    Enumeration,
    EventSpec,
    MetricSpec,
    PermissionSpec,
    RoleGrant,
    ScheduleSpec,
    hookimpl,
)
from bankcrm_customer_archive import events as archive_events
from bankcrm_customer_archive.services import CustomerReference, TimelineItem
from bankcrm_marketing import competitors, hookspecs, metrics, outcomes, timeline
from bankcrm_marketing.access import CAMPAIGN_READ, GRANTS, PERMISSIONS
from bankcrm_marketing.actors import ACTORS, SCHEDULES
from bankcrm_marketing.admin import SCREENS
from bankcrm_marketing.api import ROUTES
from bankcrm_marketing.demo import seed_demo
from bankcrm_marketing.enumerations import ENUMERATIONS
from bankcrm_marketing.events import EVENTS
from bankcrm_marketing.manifest import MANIFEST
from bankcrm_marketing.notices import TEMPLATES

__all__ = ["MANIFEST"]

DEAL_CLOSED_EVENTS = frozenset({"sales.opportunity_won", "sales.opportunity_lost"})
"""Sales' published events (by name: marketing does not require sales)."""


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
def register_events() -> Sequence[EventSpec]:
    return EVENTS


@hookimpl
def register_enumerations() -> Sequence[Enumeration]:
    return ENUMERATIONS


@hookimpl
def register_notification_templates() -> Sequence[NotificationTemplate]:
    return TEMPLATES


@hookimpl
def register_metrics() -> Sequence[MetricSpec]:
    return metrics.METRICS


@hookimpl
async def on_event(name: str, payload: dict[str, Any], scope: Scope) -> None:
    if name == archive_events.HOLDING_CHANGED:
        await outcomes.holding_changed(payload)
    elif name in DEAL_CLOSED_EVENTS and isinstance(payload.get("branch_id"), int):
        # A deal closed in sales: take it now rather than at the next daily sync.
        await competitors.sync_deals(
            date.today() - timedelta(days=1), frozenset({payload["branch_id"]})
        )


@hookimpl(optionalhook=True)  # sales publishes it; marketing does not require sales
async def sales_channel_costs(
    branch_ids: frozenset[int], start: date, end: date
) -> Mapping[str, Decimal] | None:
    return await outcomes.channel_costs(branch_ids, start, end)


@hookimpl
async def customer_timeline_items(
    customer_id: int, scope: Scope, before: datetime, limit: int
) -> list[TimelineItem]:
    if not scope.has(CAMPAIGN_READ):
        return []
    return await timeline.timeline_items(customer_id, before, limit)


@hookimpl
def customer_references() -> Sequence[CustomerReference]:
    # Merging two customers moves their campaign rows to the survivor; members and
    # contacts stay in the campaign's branch, a do-not-contact flag follows the customer.
    return [
        CustomerReference("marketing_member", moves_branch=False),
        CustomerReference("marketing_contact", moves_branch=False),
        CustomerReference("marketing_do_not_contact", unique_with=("channel",)),
        CustomerReference("marketing_outcome", moves_branch=False),
        CustomerReference("marketing_competitor_deal", moves_branch=False),
        CustomerReference("marketing_survey_invitation", moves_branch=False),
        CustomerReference("marketing_survey_response", moves_branch=False),
    ]


@hookimpl
async def seed_demo_data(demo: DemoContext) -> None:
    await seed_demo(demo)
