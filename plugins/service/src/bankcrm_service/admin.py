"""The admin screen: the same rules as the REST API (what the API cannot change is
read-only here too)."""

from __future__ import annotations

from bankcrm.plugin_api import AdminScreen, Label
from bankcrm_service.access import TICKET_READ
from bankcrm_service.tables import Ticket, TicketEvent

GROUP = Label(
    "客户服务",
    "Customer service",
)

LABELS = {
    "id": Label("工单号", "Ticket"),
    "branch_id": Label("机构", "Branch"),
    "customer": Label("客户编号", "Customer"),
    "kind": Label(
        "类型（complaint 投诉 / inquiry 咨询 / suggestion 建议 / report 申告 / care 关怀 /"
        " bill 账单）",
        "Kind",
    ),
    "channel": Label(
        "渠道（counter 柜面 / phone 电话 / web 网站 / app 手机银行 / wechat 微信 / email 邮件）",
        "Channel",
    ),
    "priority": Label("优先级（low 低 / normal 普通 / high 高 / urgent 紧急）", "Priority"),
    "product_code": Label("产品代码", "Product"),
    "title": Label("主题", "Subject"),
    "body": Label("描述", "Description"),
    "status": Label(
        "状态（new 新建 / in_progress 处理中 / waiting_customer 待客户回复 / resolved 已解决 /"
        " closed 已关闭）",
        "Status",
    ),
    "repeat_of": Label("重复投诉（前一工单）", "Repeats ticket"),
    "created_by": Label("登记人", "Registered by"),
    "resolved_at": Label("解决时间", "Resolved at"),
    "created_at": Label("创建时间", "Created at"),
    "updated_at": Label("更新时间", "Updated at"),
}

EVENT_LABELS = {
    "id": Label("编号", "ID"),
    "branch_id": Label("机构", "Branch"),
    "ticket": Label("工单号", "Ticket"),
    "from_status": Label("原状态", "From"),
    "to_status": Label("新状态", "To"),
    "note": Label("说明", "Note"),
    "actor": Label("操作人", "By"),
    "at": Label("时间", "At"),
}

SCREENS: tuple[AdminScreen, ...] = (
    AdminScreen(
        table=Ticket,
        title=Label(
            "服务工单",
            "Tickets",
        ),
        permission=TICKET_READ,
        columns=LABELS,
        visible_columns=("id", "kind", "title", "priority", "status", "channel", "updated_at"),
        visible_filters=("kind", "status", "priority", "channel", "branch_id"),
        read_only=True,
        menu_group=GROUP,
    ),
    AdminScreen(
        table=TicketEvent,
        title=Label("工单处理记录", "Ticket history"),
        permission=TICKET_READ,
        columns=EVENT_LABELS,
        visible_columns=("ticket", "from_status", "to_status", "note", "actor", "at"),
        visible_filters=("ticket", "to_status", "branch_id"),
        read_only=True,
        menu_group=GROUP,
    ),
)
