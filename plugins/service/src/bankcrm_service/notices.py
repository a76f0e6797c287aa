"""Notification templates the plugin sends through the kernel's centre and e-mail."""

from __future__ import annotations

from bankcrm.notifications import NotificationTemplate

TEMPLATES = [
    NotificationTemplate(
        key="service.sla_warning",
        category="service",
        channels=("in_app", "email"),
        title_zh="工单即将超时：$count 张",
        body_zh="以下工单将于 $due 前到期，请尽快处理：$items。",
        title_en="Tickets due soon: $count",
        body_en="Due by $due (Asia/Shanghai), please resolve: $items.",
    ),
    NotificationTemplate(
        key="service.sla_breached",
        category="service",
        channels=("in_app", "email"),
        mandatory=True,
        title_zh="工单已超时：$count 张，已上报主管",
        body_zh="以下工单已超过服务时效，已通知您的主管：$items。",
        title_en="SLA breached, reported to your manager: $count ticket(s)",
        body_en="These tickets are past their SLA and were reported to your manager: $items.",
    ),
    NotificationTemplate(
        key="service.sla_escalated",
        category="service",
        channels=("in_app", "email"),
        mandatory=True,
        title_zh="工单超时上报：$owner 有 $count 张工单超时",
        body_zh="$owner 负责的以下工单已超过服务时效：$items。",
        title_en="SLA breach escalated: $owner has $count ticket(s) past due",
        body_en="$owner's tickets are past their SLA: $items.",
    ),
]
