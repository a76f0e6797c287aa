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
