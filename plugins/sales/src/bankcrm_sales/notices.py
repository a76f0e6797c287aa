"""Notification templates sales sends (through the kernel's centre and e-mail) and the
kinds of work it hands to the assignment engine."""

from __future__ import annotations

from bankcrm.notifications import NotificationTemplate
from bankcrm.plugin_api import Label, WorkKind

TEMPLATES = [
    NotificationTemplate(
        key="sales.lead_assigned",
        category="sales",
        channels=("in_app", "email"),
        title_zh="新线索：$name",
        body_zh="销售线索 $name（编号 $id）已分配给您，请及时跟进。",
        title_en="New lead: $name",
        body_en="Lead $name (no. $id) was assigned to you; please follow up.",
    ),
    NotificationTemplate(
        key="sales.opportunity_assigned",
        category="sales",
        channels=("in_app", "email"),
        title_zh="新商机：$title",
        body_zh="商机 $title（编号 $id）已分配给您。",
        title_en="New opportunity: $title",
        body_en="Opportunity $title (no. $id) was assigned to you.",
    ),
    NotificationTemplate(
        key="sales.follow_up_due",
        category="sales",
        channels=("in_app", "email"),
        title_zh="跟进提醒：$count 项$what即将到期",
        body_zh="请及时跟进：$items。",
        title_en="Follow-up due soon: $count item(s)",
        body_en="Please follow up: $items.",
    ),
    NotificationTemplate(
        key="sales.follow_up_overdue",
        category="sales",
        channels=("in_app", "email"),
        mandatory=True,
        title_zh="逾期未跟进：$count 项$what已上报主管",
        body_zh="以下$what已逾期未跟进，已通知您的主管：$items。",
        title_en="Overdue follow-up reported to your manager: $count item(s)",
        body_en="These are overdue and were reported to your manager: $items.",
    ),
    NotificationTemplate(
        key="sales.follow_up_escalated",
        category="sales",
        channels=("in_app", "email"),
        mandatory=True,
        title_zh="逾期上报：$owner 有 $count 项$what未跟进",
        body_zh="$owner 负责的以下$what已逾期未跟进：$items。如仍无跟进，将按规则重新分配。",
        title_en="Escalated: $owner has $count overdue item(s)",
        body_en="$owner has not followed up: $items. Still idle, they will be reassigned.",
    ),
    NotificationTemplate(
        key="sales.work_reassigned",
        category="sales",
        channels=("in_app", "email"),
        mandatory=True,
        title_zh="$what已重新分配：$title",
        body_zh="$what「$title」已重新分配，原因：$reason。",
        title_en="Reassigned: $title",
        body_en="$title was reassigned. Reason: $reason.",
    ),
]

ATTRIBUTES = {"product": "string", "amount": "number", "channel": "string", "vip": "boolean"}
"""What branch managers' assignment rules may test: ``product`` is the product category
(deposit, loan, wealth, card ...), matched with the employees' ``products`` skills."""

WORK_KINDS = [
    WorkKind(
        "sales.lead", Label("销售线索", "Lead"), dict(ATTRIBUTES), "/api/v1/sales/leads/{item_id}"
    ),
    WorkKind(
        "sales.opportunity",
        Label("商机", "Opportunity"),
        dict(ATTRIBUTES),
        "/api/v1/sales/opportunities/{item_id}",
    ),
]
