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
    Enumeration,
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
from bankcrm_service.enumerations import ENUMERATIONS
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
def register_enumerations() -> Sequence[Enumeration]:
    return ENUMERATIONS


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
    tickets = await timeline.timeline_items(customer_id, before, limit)
    cares = await timeline.care_items(customer_id, before, limit)
    return sorted(tickets + cares, key=lambda item: item.at, reverse=True)[:limit]


@hookimpl
def customer_references() -> Sequence[CustomerReference]:
    """A merge moves the absorbed customer's tickets to the survivor (in their branch)."""
    return [
        CustomerReference("service_ticket", moves_branch=False),
        CustomerReference("service_care_task", moves_branch=False),
    ]


@hookimpl
def register_cli(group: click.Group) -> None:
    register_service_cli(group)


@hookimpl(optionalhook=True)  # reporting publishes it; service does not require reporting
def reporting_data_sources() -> Sequence[Any]:
    """Tickets for reporting's saved reports. Reporting calls this only where it is
    installed, so its facade is imported here; the rows are read under the caller's
    scope (row-level security decides them)."""
    from bankcrm.plugin_api import Label
    from bankcrm_reporting import services as reporting

    def labels(**codes: tuple[str, str]) -> dict[str, Label]:
        return {code: Label(*pair) for code, pair in codes.items()}

    day = "(t.created_at AT TIME ZONE 'Asia/Shanghai')"
    code = "code"
    return [
        reporting.sql_source(
            name="service.tickets",
            title="客户服务：服务工单",
            title_en="Service: tickets",
            permission=TICKET_READ,
            from_sql="service_ticket t",
            time_dimension="created_on",
            dimensions=[
                reporting.Dimension("branch", "所属机构", "Branch", "t.branch_id", "branch"),
                reporting.Dimension(
                    "kind",
                    "工单类型",
                    "Kind",
                    "t.kind",
                    code,
                    labels=labels(
                        complaint=("投诉", "Complaint"),
                        inquiry=("咨询", "Inquiry"),
                        suggestion=("建议", "Suggestion"),
                        report=("报修/挂失", "Report"),
                        care=("关怀", "Care"),
                        bill=("账单", "Bill"),
                    ),
                ),
                reporting.Dimension(
                    "channel",
                    "受理渠道",
                    "Channel",
                    "t.channel",
                    code,
                    labels=labels(
                        counter=("柜面", "Counter"),
                        phone=("电话", "Phone"),
                        web=("网站", "Web"),
                        app=("手机银行", "App"),
                        wechat=("微信", "WeChat"),
                        email=("邮件", "E-mail"),
                    ),
                ),
                reporting.Dimension(
                    "priority",
                    "优先级",
                    "Priority",
                    "t.priority",
                    code,
                    labels=labels(
                        low=("低", "Low"),
                        normal=("普通", "Normal"),
                        high=("高", "High"),
                        urgent=("紧急", "Urgent"),
                    ),
                ),
                reporting.Dimension(
                    "status",
                    "状态",
                    "Status",
                    "t.status",
                    code,
                    labels=labels(
                        new=("新建", "New"),
                        in_progress=("处理中", "In progress"),
                        waiting_customer=("待客户回复", "Waiting for the customer"),
                        resolved=("已解决", "Resolved"),
                        closed=("已关闭", "Closed"),
                    ),
                ),
                reporting.Dimension("product_code", "产品代码", "Product", "t.product_code"),
                reporting.Dimension(
                    "created_month",
                    "受理月份",
                    "Month opened",
                    f"date_trunc('month', {day})::date",
                    "month",
                ),
                reporting.Dimension("created_on", "受理日期", "Day opened", f"{day}::date", "date"),
            ],
            measures=[
                reporting.Measure("tickets", "工单数", "Tickets", "t.id", ("count",)),
                reporting.Measure(
                    "customers", "客户数", "Customers", "t.customer", ("count_distinct",)
                ),
                reporting.Measure(
                    "resolution_hours",
                    "解决时长（小时）",
                    "Hours to resolve",
                    "extract(epoch FROM t.resolved_at - t.created_at) / 3600",
                    ("avg", "max"),
                    "小时",
                ),
            ],
        ),
    ]
