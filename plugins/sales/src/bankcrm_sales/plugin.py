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
from bankcrm_sales.access import (
    ACTIVITY_READ,
    GRANTS,
    LEAD_READ,
    OPPORTUNITY_READ,
    PERMISSIONS,
    RULES,
)
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


@hookimpl(optionalhook=True)  # reporting publishes it; sales does not require reporting
def reporting_data_sources() -> Sequence[Any]:
    """Leads and opportunities for reporting's saved reports. Reporting calls this only
    where it is installed, so its facade is imported here; the rows are read under the
    caller's scope (row-level security and the owner rules decide them)."""
    from bankcrm_reporting import services as reporting

    def dims(alias: str) -> list[Any]:
        day = f"({alias}.created_at AT TIME ZONE 'Asia/Shanghai')"
        return [
            reporting.Dimension("branch", "所属机构", "Branch", f"{alias}.branch_id", "branch"),
            reporting.Dimension("owner", "负责人", "Owner", f"{alias}.owner", "user"),
            reporting.Dimension(
                "channel", "渠道", "Channel", f"{alias}.channel", "code", ("sales", "channel")
            ),
            reporting.Dimension(
                "status", "状态", "Status", f"{alias}.status", "code", ("sales", "status")
            ),
            reporting.Dimension(
                "created_month",
                "创建月份",
                "Month created",
                f"date_trunc('month', {day})::date",
                "month",
            ),
            reporting.Dimension("created_on", "创建日期", "Day created", f"{day}::date", "date"),
        ]

    return [
        reporting.sql_source(
            name="sales.opportunities",
            title="销售管理：商机",
            title_en="Sales: opportunities",
            permission=OPPORTUNITY_READ,
            from_sql="sales_opportunity o",
            time_dimension="created_on",
            dimensions=[
                *dims("o"),
                reporting.Dimension("stage", "阶段", "Stage", "o.stage"),
                reporting.Dimension(
                    "sales_method",
                    "销售方式",
                    "Sales method",
                    "o.sales_method",
                    "code",
                    ("sales", "sales_method"),
                ),
                reporting.Dimension("competitor", "竞争对手", "Competitor", "o.competitor"),
            ],
            measures=[
                reporting.Measure("opportunities", "商机数", "Opportunities", "o.id", ("count",)),
                reporting.Measure(
                    "amount", "金额", "Amount", "o.amount", ("sum", "avg", "max"), "元"
                ),
                reporting.Measure(
                    "weighted",
                    "加权金额",
                    "Weighted amount",
                    "o.amount * o.probability / 100.0",
                    ("sum",),
                    "元",
                ),
            ],
        ),
        reporting.sql_source(
            name="sales.leads",
            title="销售管理：销售线索",
            title_en="Sales: leads",
            permission=LEAD_READ,
            from_sql="sales_lead l",
            time_dimension="created_on",
            dimensions=[
                *dims("l"),
                reporting.Dimension(
                    "product_interest", "意向产品", "Product interest", "l.product_interest"
                ),
                reporting.Dimension("campaign", "营销活动", "Campaign", "l.campaign"),
            ],
            measures=[
                reporting.Measure("leads", "线索数", "Leads", "l.id", ("count",)),
                reporting.Measure(
                    "estimated_amount",
                    "预估金额",
                    "Estimated amount",
                    "l.estimated_amount",
                    ("sum", "avg"),
                    "元",
                ),
                reporting.Measure("score", "线索评分", "Score", "l.score", ("avg", "max")),
            ],
        ),
    ]


@hookimpl(optionalhook=True)  # marketing publishes it; sales does not require marketing
async def marketing_competitor_deals(
    branch_ids: frozenset[int], since: date
) -> Sequence[Mapping[str, Any]]:
    return await analytics.competitor_deals(branch_ids, since)
