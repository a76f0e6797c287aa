"""The customer's tickets on the archive's timeline."""

from __future__ import annotations

from datetime import datetime

from bankcrm_customer_archive.services import TimelineItem
from bankcrm_service import services

KINDS = {
    "complaint": ("投诉", "Complaint"), "inquiry": ("咨询", "Inquiry"),
    "suggestion": ("建议", "Suggestion"), "report": ("申告", "Report"),
    "care": ("关怀", "Care request"), "bill": ("账单", "Bill question"),
}  # fmt: skip
STATUSES = {
    "new": "新建", "in_progress": "处理中", "waiting_customer": "待客户回复",
    "resolved": "已解决", "closed": "已关闭",
}  # fmt: skip


async def timeline_items(customer_id: int, before: datetime, limit: int) -> list[TimelineItem]:
    items = []
    for ticket in await services.customer_tickets(customer_id, before, limit):
        zh, en = KINDS[ticket.kind]
        items.append(
            TimelineItem(
                at=ticket.created_at,
                plugin="service",
                kind="service.ticket",
                title=f"{zh}工单：{ticket.title}（{STATUSES[ticket.status]}）",
                title_en=f"{en} ticket: {ticket.title} ({ticket.status})",
                source_table=services.TABLE,
                source_id=str(ticket.id),
                detail={"channel": ticket.channel, "priority": ticket.priority},
            )
        )
    return items
