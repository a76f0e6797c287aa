"""The permissions this plugin declares, which standard role gets each, and who sees
which rows.

Names are ``sales.<object>.<verb>``; the head-office administrator holds every
permission anyway. The kernel grants these on every ``bankcrm migrate``.
"""

from __future__ import annotations

from bankcrm.plugin_api import (
    OVERSEEN_USER_IDS,
    AccessRule,
    PermissionSpec,
    RoleGrant,
    RowMatch,
    StandardRole,
)

LEAD_READ = "sales.lead.read"
LEAD_WRITE = "sales.lead.write"
LEAD_INTAKE = "sales.lead.intake"
LEAD_IMPORT = "sales.lead.import"
OPPORTUNITY_READ = "sales.opportunity.read"
OPPORTUNITY_WRITE = "sales.opportunity.write"
ACTIVITY_READ = "sales.activity.read"
ACTIVITY_WRITE = "sales.activity.write"
ASSIGN = "sales.assignment.write"
ANALYTICS_READ = "sales.analytics.read"
CONFIG_WRITE = "sales.config.write"
PLAN_READ = "sales.plan.read"
PLAN_WRITE = "sales.plan.write"
CONTRACT_READ = "sales.contract.read"
CONTRACT_WRITE = "sales.contract.write"
COMMISSION_READ = "sales.commission.read"
COMMISSION_WRITE = "sales.commission.write"
COMMISSION_APPROVE = "sales.commission.approve"

PERMISSIONS: tuple[PermissionSpec, ...] = (
    PermissionSpec(LEAD_READ, "查看销售线索", "Read leads"),
    PermissionSpec(LEAD_WRITE, "维护销售线索", "Create, change and convert leads"),
    PermissionSpec(LEAD_INTAKE, "外部系统推送线索", "Send leads from external systems"),
    PermissionSpec(LEAD_IMPORT, "批量导入线索", "Import leads from a CSV or xlsx file"),
    PermissionSpec(OPPORTUNITY_READ, "查看商机", "Read opportunities"),
    PermissionSpec(OPPORTUNITY_WRITE, "维护商机", "Create and change opportunities"),
    PermissionSpec(ACTIVITY_READ, "查看销售活动", "Read sales activities"),
    PermissionSpec(ACTIVITY_WRITE, "登记销售活动", "Record sales activities"),
    PermissionSpec(ASSIGN, "重新分配线索与商机", "Reassign leads and opportunities"),
    PermissionSpec(ANALYTICS_READ, "查看销售分析", "Read sales analytics"),
    PermissionSpec(CONFIG_WRITE, "维护销售配置", "Maintain sales configuration (costs)"),
    PermissionSpec(PLAN_READ, "查看销售计划", "Read sales plans and attainment"),
    PermissionSpec(PLAN_WRITE, "制定销售计划", "Set sales plans"),
    PermissionSpec(CONTRACT_READ, "查看销售合同", "Read sales contracts"),
    PermissionSpec(CONTRACT_WRITE, "签订与终止销售合同", "Sign and terminate sales contracts"),
    PermissionSpec(COMMISSION_READ, "查看佣金", "Read commission statements"),
    PermissionSpec(
        COMMISSION_WRITE, "维护佣金规则与计算", "Maintain commission rules, splits and runs"
    ),
    PermissionSpec(COMMISSION_APPROVE, "审批佣金", "Approve and pay commission runs"),
)

GRANTS: tuple[RoleGrant, ...] = (
    RoleGrant(StandardRole.BRANCH_MANAGER, ("sales.*",)),
    RoleGrant(
        StandardRole.RELATIONSHIP_MANAGER,
        (
            LEAD_READ,
            LEAD_WRITE,
            OPPORTUNITY_READ,
            OPPORTUNITY_WRITE,
            CONTRACT_READ,
            CONTRACT_WRITE,
            ACTIVITY_READ,
            ACTIVITY_WRITE,
            ANALYTICS_READ,
            PLAN_READ,
            COMMISSION_READ,
        ),
    ),
    RoleGrant(StandardRole.TELLER, (LEAD_READ, LEAD_WRITE, ACTIVITY_READ)),
    RoleGrant(
        StandardRole.AUDITOR,
        (
            LEAD_READ,
            OPPORTUNITY_READ,
            CONTRACT_READ,
            ACTIVITY_READ,
            ANALYTICS_READ,
            PLAN_READ,
            COMMISSION_READ,
        ),
    ),
)

RULES: tuple[AccessRule, ...] = (
    AccessRule(
        "sales.lead_owner",
        "sales_lead",
        "线索仅负责人及其上级可见",
        "A lead is its owner's and their managers'",
        any_of=(RowMatch("owner", OVERSEEN_USER_IDS),),
        description="A relationship manager sees their own leads, a team lead their "
        "team's, a branch manager those of everyone under them.",
    ),
    AccessRule(
        "sales.opportunity_owner",
        "sales_opportunity",
        "商机仅负责人及其上级可见",
        "An opportunity is its owner's and their managers'",
        any_of=(RowMatch("owner", OVERSEEN_USER_IDS),),
    ),
    AccessRule(
        "sales.contract_owner",
        "sales_contract",
        "销售合同仅商机负责人及其上级可见",
        "A sales contract is its deal owner's and their managers'",
        any_of=(RowMatch("owner", OVERSEEN_USER_IDS),),
    ),
    AccessRule(
        "sales.commission_payee",
        "sales_commission_line",
        "佣金明细仅本人及其上级可见",
        "A commission line is its payee's and their managers'",
        any_of=(RowMatch("user_id", OVERSEEN_USER_IDS),),
    ),
    # The analytics roll-ups count each opportunity and lead under its owner, so the same
    # rule keeps a relationship manager's funnel to their own work.
    AccessRule(
        "sales.stage_day_owner",
        "sales_stage_day",
        "漏斗日汇总仅负责人及其上级可见",
        "Funnel roll-up rows are their owner's and their managers'",
        any_of=(RowMatch("owner", OVERSEEN_USER_IDS),),
    ),
    AccessRule(
        "sales.opportunity_day_owner",
        "sales_opportunity_day",
        "商机日汇总仅负责人及其上级可见",
        "Opportunity roll-up rows are their owner's and their managers'",
        any_of=(RowMatch("owner", OVERSEEN_USER_IDS),),
    ),
    AccessRule(
        "sales.lead_day_owner",
        "sales_lead_day",
        "线索日汇总仅负责人及其上级可见",
        "Lead roll-up rows are their owner's and their managers'",
        any_of=(RowMatch("owner", OVERSEEN_USER_IDS),),
    ),
)
