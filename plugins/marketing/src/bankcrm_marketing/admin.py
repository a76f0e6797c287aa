"""Admin screens: the same rules as the REST API (what the API cannot change is read-only
here too; rows that only the service may make are not created here)."""

from __future__ import annotations

from bankcrm.plugin_api import AdminScreen, Label
from bankcrm_marketing.access import CAMPAIGN_READ, DNC_READ, OUTCOME_READ
from bankcrm_marketing.tables import (
    Campaign,
    CampaignStaff,
    Contact,
    Cost,
    DoNotContact,
    Member,
    Outcome,
)

GROUP = Label("市场营销", "Marketing")

CAMPAIGN_LABELS = {
    "id": Label("编号", "ID"),
    "branch_id": Label("机构", "Branch"),
    "title": Label("活动名称", "Title"),
    "body": Label("活动说明", "Description"),
    "status": Label("状态", "Status"),
    "objective": Label("营销目标", "Objective"),
    "plan": Label("营销方案", "Plan"),
    "channel": Label("营销方式", "Channel"),
    "message": Label("短信/邮件/微信内容或话术", "Message or script"),
    "product_code": Label("推广产品代码", "Product promoted"),
    "criteria": Label("目标客户条件", "Target criteria"),
    "score_model": Label("评分模型", "Score model"),
    "score_min": Label("最低评分", "Minimum score"),
    "owner": Label("负责人", "Owner"),
    "budget": Label("预算（元）", "Budget (CNY)"),
    "starts_on": Label("开始日期", "Starts on"),
    "ends_on": Label("结束日期", "Ends on"),
    "control_share": Label("对照组比例", "Control group share"),
    "seed": Label("随机种子", "Seed"),
    "frequency_cap": Label("联系频次上限", "Contacts at most"),
    "frequency_days": Label("频次统计天数", "Within days"),
    "targeted_at": Label("圈定客户时间", "Targeted at"),
    "launched_at": Label("启动时间", "Launched at"),
    "created_at": Label("创建时间", "Created at"),
    "updated_at": Label("更新时间", "Updated at"),
}
ID = {"id": Label("编号", "ID"), "branch_id": Label("机构", "Branch")}
CAMPAIGN_REF = {"campaign": Label("营销活动", "Campaign")}
CUSTOMER_REF = {"customer": Label("客户编号", "Customer")}
CREATED = {"created_at": Label("登记时间", "Created at")}
MEMBER_LABELS = {
    **ID,
    **CAMPAIGN_REF,
    **CUSTOMER_REF,
    **CREATED,
    "group": Label("分组", "Group"),
    "excluded": Label("排除原因", "Excluded by"),
}
CONTACT_LABELS = {
    **ID,
    **CAMPAIGN_REF,
    **CUSTOMER_REF,
    "member": Label("活动客户", "Member"),
    "channel": Label("营销方式", "Channel"),
    "status": Label("状态", "Status"),
    "scheduled_at": Label("计划联系时间", "Scheduled at"),
    "sent_at": Label("联系时间", "Contacted at"),
    "reason": Label("说明", "Reason"),
    "attempts": Label("尝试次数", "Attempts"),
    "assigned_to": Label("经办人", "Assigned to"),
    "provider_ref": Label("通道回执", "Gateway reference"),
    "response": Label("客户反馈", "Response"),
    "responded_at": Label("反馈时间", "Responded at"),
    "note": Label("备注", "Note"),
}
COST_LABELS = {
    **ID,
    **CAMPAIGN_REF,
    **CREATED,
    "category": Label("费用类别", "Category"),
    "amount": Label("金额（元）", "Amount (CNY)"),
    "spent_on": Label("发生日期", "Spent on"),
    "note": Label("备注", "Note"),
}
STAFF_LABELS = {
    **ID,
    **CAMPAIGN_REF,
    "user": Label("营销人员", "Staff"),
    "role": Label("职责", "Role"),
}
DNC_LABELS = {
    **ID,
    **CUSTOMER_REF,
    **CREATED,
    "channel": Label("渠道", "Channel"),
    "reason": Label("原因", "Reason"),
}

OUTCOME_LABELS = {
    **ID,
    **CAMPAIGN_REF,
    **CUSTOMER_REF,
    "member": Label("活动客户", "Member"),
    "product_code": Label("产品代码", "Product"),
    "kind": Label("结果", "Outcome"),
    "reason": Label("原因/说明", "Reason"),
    "amount": Label("金额（元）", "Amount (CNY)"),
    "source": Label("来源", "Source"),
    "source_ref": Label("来源编号", "Source reference"),
    "at": Label("时间", "At"),
}

SCREENS: tuple[AdminScreen, ...] = (
    AdminScreen(
        table=Campaign,
        title=Label("营销活动", "Campaigns"),
        permission=CAMPAIGN_READ,
        columns=CAMPAIGN_LABELS,
        visible_columns=(
            "id",
            "title",
            "channel",
            "status",
            "owner",
            "budget",
            "starts_on",
            "ends_on",
            "branch_id",
        ),
        visible_filters=("title", "status", "channel", "owner", "branch_id"),
        read_only_columns=(
            "status",
            "criteria",
            "score_model",
            "score_min",
            "control_share",
            "seed",
            "targeted_at",
            "launched_at",
            "created_at",
            "updated_at",
        ),
        menu_group=GROUP,
        allow_create=False,
    ),
    AdminScreen(
        table=Member,
        title=Label("活动客户（目标组/对照组）", "Campaign members"),
        permission=CAMPAIGN_READ,
        columns=MEMBER_LABELS,
        visible_columns=("id", "campaign", "customer", "group", "excluded"),
        visible_filters=("campaign", "group", "excluded"),
        read_only=True,
        allow_create=False,
        menu_group=GROUP,
    ),
    AdminScreen(
        table=Contact,
        title=Label("营销接触记录", "Contacts"),
        permission=CAMPAIGN_READ,
        columns=CONTACT_LABELS,
        visible_columns=(
            "id",
            "campaign",
            "customer",
            "channel",
            "status",
            "sent_at",
            "assigned_to",
            "response",
        ),
        visible_filters=("campaign", "channel", "status", "response", "assigned_to"),
        read_only=True,
        allow_create=False,
        menu_group=GROUP,
    ),
    AdminScreen(
        table=Cost,
        title=Label("营销成本", "Campaign costs"),
        permission=CAMPAIGN_READ,
        columns=COST_LABELS,
        visible_columns=("id", "campaign", "category", "amount", "spent_on", "note"),
        visible_filters=("campaign", "category"),
        read_only=True,
        allow_create=False,
        menu_group=GROUP,
    ),
    AdminScreen(
        table=CampaignStaff,
        title=Label("营销人员", "Campaign staff"),
        permission=CAMPAIGN_READ,
        columns=STAFF_LABELS,
        visible_columns=("id", "campaign", "user", "role"),
        visible_filters=("campaign", "user"),
        read_only=True,
        allow_create=False,
        menu_group=GROUP,
    ),
    AdminScreen(
        table=DoNotContact,
        title=Label("免打扰登记", "Do not contact"),
        permission=DNC_READ,
        columns=DNC_LABELS,
        visible_columns=("id", "customer", "channel", "reason", "created_at"),
        visible_filters=("customer", "channel"),
        read_only=True,
        allow_create=False,
        menu_group=GROUP,
    ),
    AdminScreen(
        table=Outcome,
        title=Label("推荐与营销结果", "Outcomes"),
        permission=OUTCOME_READ,
        columns=OUTCOME_LABELS,
        visible_columns=("id", "customer", "campaign", "product_code", "kind", "amount", "at"),
        visible_filters=("campaign", "kind", "product_code", "source"),
        read_only=True,
        allow_create=False,
        menu_group=GROUP,
    ),
)
