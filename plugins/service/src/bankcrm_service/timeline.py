"""The customer's tickets on the archive's timeline."""

from __future__ import annotations

from datetime import datetime

from bankcrm_customer_archive.services import TimelineItem
from bankcrm_service import care, services

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


async def care_items(customer_id: int, before: datetime, limit: int) -> list[TimelineItem]:
    """Finished care tasks (done or skipped), with their result."""
    items = []
    for task in await care.customer_done_tasks(customer_id, before, limit):
        zh, en = care.KINDS[task.kind]
        assert task.done_at is not None
        items.append(
            TimelineItem(
                at=task.done_at,
                plugin="service",
                kind="service.care_task",
                title=f"{zh}（{care.STATUSES[task.status]}）：{task.result}",
                title_en=f"{en} care ({task.status}): {task.result}",
                source_table=care.TASK,
                source_id=str(task.id),
                detail={"due_on": task.due_on.isoformat()},
            )
        )
    return items
