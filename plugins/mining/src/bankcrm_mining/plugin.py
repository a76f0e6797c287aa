"""The plugin's hook implementations (entry point ``bankcrm.plugins``).

Thin by design: each hook hands the kernel what a module of the plugin declares.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import click
import pluggy

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
from bankcrm_customer_archive.services import CustomerReference, Section, TimelineItem
from bankcrm_mining import hookspecs, recommenders, scoring, sections
from bankcrm_mining.access import GRANTS, PERMISSIONS
from bankcrm_mining.actors import ACTORS, SCHEDULES
from bankcrm_mining.admin import SCREENS
from bankcrm_mining.api import ROUTES
from bankcrm_mining.cli import register_mining_cli
from bankcrm_mining.demo import seed_demo
from bankcrm_mining.events import EVENTS
from bankcrm_mining.manifest import MANIFEST
from bankcrm_mining.recommend import ProductRecommendation
from bankcrm_mining.scoring import TEMPLATES

__all__ = ["MANIFEST"]


@hookimpl
def add_hookspecs(pm: pluggy.PluginManager) -> None:
    pm.add_hookspecs(hookspecs)


@hookimpl
def customer_references() -> Sequence[CustomerReference]:
    """Transactions and feature values follow their customer through a merge."""
    return [
        CustomerReference("mining_transaction"),
        CustomerReference("mining_feature_value"),
        CustomerReference("mining_score"),
    ]


@hookimpl
async def customer_360_sections(customer_id: int, scope: Scope) -> Section | None:
    return await sections.score_section(customer_id, scope)


@hookimpl
async def customer_timeline_items(
    customer_id: int, scope: Scope, before: datetime, limit: int
) -> list[TimelineItem]:
    return await sections.score_timeline(customer_id, scope, before, limit)


@hookimpl
async def marketing_scores(model: str, customer_ids: Sequence[int]) -> Mapping[int, float] | None:
    """Marketing targets a campaign by a model's stored scores (when marketing runs)."""
    return await scoring.stored_probabilities(model, customer_ids)


@hookimpl
async def marketing_recommendations(
    customer_ids: Sequence[int], limit: int
) -> Mapping[int, Sequence[ProductRecommendation]] | None:
    """Next-best products by the newest approved recommendation model (when marketing runs)."""
    return await recommenders.recommendations(customer_ids, limit)


@hookimpl
def register_notification_templates() -> Sequence[NotificationTemplate]:
    return TEMPLATES


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
async def seed_demo_data(demo: DemoContext) -> None:
    await seed_demo(demo)


@hookimpl
def register_cli(group: click.Group) -> None:
    register_mining_cli(group)
