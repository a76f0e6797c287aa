"""The admin screen: the same rules as the REST API (what the API cannot change is
read-only here too)."""

from __future__ import annotations

from bankcrm.plugin_api import AdminScreen, Label
from bankcrm_service.access import FAQ_READ, SLA_READ, TICKET_READ
from bankcrm_service.tables import (
    CareTask,
    FaqArticle,
    FaqCategory,
    FaqVersion,
    SlaPolicy,
    SlaStep,
    Ticket,
    TicketEvent,
    TriageRecord,
    VisitPlan,
)

GROUP = Label(
    "客户服务",
    "Customer service",
)

LABELS = {
    "id": Label("工单号", "Ticket"),
    "branch_id": Label("机构", "Branch"),
    "customer": Label("客户编号", "Customer"),
    "kind": Label("类型", "Kind"),
    "channel": Label("渠道", "Channel"),
    "priority": Label("优先级", "Priority"),
    "product_code": Label("产品代码", "Product"),
    "title": Label("主题", "Subject"),
    "body": Label("描述", "Description"),
    "status": Label("状态", "Status"),
    "repeat_of": Label("重复投诉（前一工单）", "Repeats ticket"),
    "created_by": Label("登记人", "Registered by"),
    "assignee": Label("处理人（用户编号）", "Assignee (user)"),
    "resolved_at": Label("解决时间", "Resolved at"),
    "created_at": Label("创建时间", "Created at"),
    "updated_at": Label("更新时间", "Updated at"),
    "sla_policy": Label("时效策略", "SLA policy"),
    "sla_hours": Label("时效（工作小时）", "SLA (business hours)"),
    "sla_warn_at": Label("预警时间", "Warn at"),
    "sla_due_at": Label("到期时间", "Due at"),
    "sla_paused_at": Label("计时暂停于", "Clock stopped at"),
    "sla_paused_seconds": Label("已暂停（工作秒数）", "Stopped (business seconds)"),
    "sla_breached_at": Label("超时时间", "Breached at"),
}

TIER = "客户层级（空 = 不限）"
POLICY_LABELS = {
    "id": Label("编号", "ID"),
    "branch_id": Label("机构（含下级机构）", "Branch (and below)"),
    "name": Label("策略名称", "Name"),
    "kind": Label("工单类型（空 = 不限）", "Kind (empty: any)"),
    "priority": Label("优先级（空 = 不限）", "Priority (empty: any)"),
    "value_tier": Label(TIER, "Customer tier (empty: any)"),
    "resolve_hours": Label("解决时限（工作小时）", "Resolve within (business hours)"),
    "warn_percent": Label("预警比例（%）", "Warn at (%)"),
    "active": Label("启用", "Active"),
    "created_at": Label("创建时间", "Created at"),
    "updated_at": Label("更新时间", "Updated at"),
}

STEP_LABELS = {
    "id": Label("编号", "ID"),
    "branch_id": Label("机构", "Branch"),
    "ticket": Label("工单号", "Ticket"),
    "step": Label("环节（warned 超时预警 / breached 超时上报）", "Step"),
    "due_at": Label("到期时间", "Due at"),
    "notified": Label("已通知（用户编号）", "Told (users)"),
    "at": Label("时间", "At"),
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

CATEGORY_LABELS = {
    "id": Label("编号", "ID"),
    "branch_id": Label("机构（含下级机构）", "Branch (and below)"),
    "name": Label("分类名称", "Name"),
    "name_en": Label("英文名称", "English name"),
    "position": Label("排序", "Position"),
}

ARTICLE_LABELS = {
    "id": Label("编号", "ID"),
    "branch_id": Label("机构（含下级机构）", "Branch (and below)"),
    "category": Label("分类编号", "Category"),
    "question": Label("问题", "Question"),
    "answer": Label("标准答案", "Answer"),
    "keywords": Label("其他问法/关键词", "Other wordings"),
    "status": Label("状态", "Status"),
    "public": Label("对外公开（自助服务可用）", "Public (self-service)"),
    "version": Label("版本", "Version"),
    "published_at": Label("发布时间", "Published at"),
    "updated_by": Label("最后修改人", "Last changed by"),
    "created_at": Label("创建时间", "Created at"),
    "updated_at": Label("更新时间", "Updated at"),
}

VERSION_LABELS = {
    "id": Label("编号", "ID"),
    "branch_id": Label("机构", "Branch"),
    "article": Label("问题编号", "Article"),
    "version": Label("版本", "Version"),
    "category": Label("分类编号", "Category"),
    "question": Label("问题", "Question"),
    "answer": Label("标准答案", "Answer"),
    "keywords": Label("其他问法/关键词", "Other wordings"),
    "status": Label("状态", "Status"),
    "public": Label("对外公开", "Public"),
    "actor": Label("修改人", "By"),
    "at": Label("时间", "At"),
}

TRIAGE_LABELS = {
    "id": Label("编号", "ID"),
    "branch_id": Label("机构", "Branch"),
    "ticket": Label("工单号", "Ticket"),
    "predicted_kind": Label("模型判断类型", "Predicted kind"),
    "confidence": Label("置信度", "Confidence"),
    "model": Label("模型版本", "Model"),
    "state": Label("分拣状态", "State"),
    "registered_kind": Label("登记类型", "Registered kind"),
    "final_kind": Label("人工判定类型", "Kind decided"),
    "final_priority": Label("人工判定优先级", "Priority decided"),
    "note": Label("说明", "Note"),
    "reviewed_by": Label("分拣人", "Reviewed by"),
    "reviewed_at": Label("分拣时间", "Reviewed at"),
    "created_at": Label("创建时间", "Created at"),
}

CARE_LABELS = {
    "id": Label("编号", "ID"),
    "branch_id": Label("机构", "Branch"),
    "customer": Label("客户编号", "Customer"),
    "kind": Label("关怀类型", "Kind"),
    "occasion_on": Label("事由日期（生日/到期日/走访周期）", "Occasion"),
    "due_on": Label("应办日期（工作日）", "Due on (business day)"),
    "occasion_key": Label("去重键", "Occasion key"),
    "visit_plan": Label("走访计划", "Visit plan"),
    "assignee": Label("负责人（用户编号）", "Assignee (user)"),
    "status": Label("状态", "Status"),
    "result": Label("处理结果", "Result"),
    "done_by": Label("处理人", "Done by"),
    "done_at": Label("处理时间", "Done at"),
    "created_at": Label("创建时间", "Created at"),
}

PLAN_LABELS = {
    "id": Label("编号", "ID"),
    "branch_id": Label("机构（含下级机构）", "Branch (and below)"),
    "name": Label("计划名称", "Name"),
    "value_tier": Label("客户层级", "Customer tier"),
    "every_months": Label("走访周期（月）", "Every (months)"),
    "assignee": Label("负责人（用户编号）", "Assignee (user)"),
    "active": Label("启用", "Active"),
    "created_at": Label("创建时间", "Created at"),
    "updated_at": Label("更新时间", "Updated at"),
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
        visible_columns=(
            "id",
            "kind",
            "title",
            "priority",
            "status",
            "channel",
            "sla_due_at",
            "updated_at",
        ),
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
    AdminScreen(
        table=SlaPolicy,
        title=Label("服务时效策略", "SLA policies"),
        permission=SLA_READ,
        columns=POLICY_LABELS,
        visible_columns=(
            "name",
            "branch_id",
            "kind",
            "priority",
            "value_tier",
            "resolve_hours",
            "warn_percent",
            "active",
        ),
        visible_filters=("branch_id", "kind", "priority", "value_tier", "active"),
        read_only_columns=("created_at", "updated_at"),
        menu_group=GROUP,
    ),
    AdminScreen(
        table=SlaStep,
        title=Label("超时预警与上报记录", "SLA warnings and escalations"),
        permission=SLA_READ,
        columns=STEP_LABELS,
        visible_columns=("ticket", "step", "due_at", "notified", "at"),
        visible_filters=("ticket", "step", "branch_id"),
        read_only=True,
        menu_group=GROUP,
    ),
    AdminScreen(
        table=FaqCategory,
        title=Label("常见问题分类", "FAQ categories"),
        permission=FAQ_READ,
        columns=CATEGORY_LABELS,
        visible_columns=("name", "name_en", "position", "branch_id"),
        visible_filters=("branch_id",),
        menu_group=GROUP,
    ),
    AdminScreen(
        table=FaqArticle,
        title=Label("常见问题", "FAQ articles"),
        permission=FAQ_READ,
        columns=ARTICLE_LABELS,
        visible_columns=("id", "question", "category", "status", "public", "version", "updated_at"),
        visible_filters=("status", "category", "public", "branch_id"),
        # Every change is a version: edits go through the API, which keeps them.
        read_only=True,
        menu_group=GROUP,
    ),
    AdminScreen(
        table=FaqVersion,
        title=Label("常见问题版本记录", "FAQ versions"),
        permission=FAQ_READ,
        columns=VERSION_LABELS,
        visible_columns=("article", "version", "question", "status", "actor", "at"),
        visible_filters=("article", "status", "branch_id"),
        read_only=True,
        menu_group=GROUP,
    ),
    AdminScreen(
        table=TriageRecord,
        title=Label("人工分拣队列", "Triage queue"),
        permission=TICKET_READ,
        columns=TRIAGE_LABELS,
        visible_columns=(
            "ticket",
            "predicted_kind",
            "confidence",
            "state",
            "final_kind",
            "reviewed_by",
            "created_at",
        ),
        visible_filters=("state", "predicted_kind", "branch_id"),
        # Reviews change the ticket too: they go through the API.
        read_only=True,
        menu_group=GROUP,
    ),
    AdminScreen(
        table=CareTask,
        title=Label("客户关怀任务", "Care tasks"),
        permission=TICKET_READ,
        columns=CARE_LABELS,
        visible_columns=(
            "customer",
            "kind",
            "occasion_on",
            "due_on",
            "assignee",
            "status",
            "result",
            "branch_id",
        ),
        visible_filters=("kind", "status", "due_on", "branch_id"),
        # Completing and skipping go through the API (audited, once each).
        read_only=True,
        menu_group=GROUP,
    ),
    AdminScreen(
        table=VisitPlan,
        title=Label("客户走访计划", "Visit plans"),
        permission=TICKET_READ,
        columns=PLAN_LABELS,
        visible_columns=("name", "value_tier", "every_months", "active", "branch_id"),
        visible_filters=("value_tier", "active", "branch_id"),
        read_only=True,
        menu_group=GROUP,
    ),
)
