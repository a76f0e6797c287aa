"""The plugin's hook implementations (entry point ``bankcrm.plugins``).

Thin by design: each hook hands the kernel what a module of the plugin declares.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click
import pluggy

from bankcrm.plugin_api import (
    AdminScreen,
    DemoContext,
    EventSpec,
    PermissionSpec,
    RoleGrant,
    ScheduleSpec,
    hookimpl,
)
from bankcrm_customer_archive.services import CustomerReference
from bankcrm_mining import hookspecs
from bankcrm_mining.access import GRANTS, PERMISSIONS
from bankcrm_mining.actors import ACTORS, SCHEDULES
from bankcrm_mining.admin import SCREENS
from bankcrm_mining.api import ROUTES
from bankcrm_mining.cli import register_mining_cli
from bankcrm_mining.demo import seed_demo
from bankcrm_mining.events import EVENTS
from bankcrm_mining.manifest import MANIFEST

__all__ = ["MANIFEST"]


@hookimpl
def add_hookspecs(pm: pluggy.PluginManager) -> None:
    pm.add_hookspecs(hookspecs)


@hookimpl
def customer_references() -> Sequence[CustomerReference]:
    """Transactions and feature values follow their customer through a merge."""
    return [CustomerReference("mining_transaction"), CustomerReference("mining_feature_value")]


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
