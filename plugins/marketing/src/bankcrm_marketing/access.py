"""The permissions this plugin declares, and which standard role gets each.

Names are ``marketing.<object>.<verb>``; the head-office administrator holds every
permission anyway. The kernel grants these on every ``bankcrm migrate``.
"""

from __future__ import annotations

from bankcrm.plugin_api import PermissionSpec, RoleGrant, StandardRole

CAMPAIGN_READ = "marketing.campaign.read"
CAMPAIGN_WRITE = "marketing.campaign.write"
CAMPAIGN_LAUNCH = "marketing.campaign.launch"
CONTACT_RESPOND = "marketing.contact.respond"
DNC_READ = "marketing.do_not_contact.read"
DNC_WRITE = "marketing.do_not_contact.write"
OUTCOME_READ = "marketing.outcome.read"
OUTCOME_WRITE = "marketing.outcome.write"
COMPETITOR_READ = "marketing.competitor.read"
COMPETITOR_WRITE = "marketing.competitor.write"
SURVEY_READ = "marketing.survey.read"
SURVEY_WRITE = "marketing.survey.write"

PERMISSIONS: tuple[PermissionSpec, ...] = (
    PermissionSpec(CAMPAIGN_READ, "查看营销活动", "Read campaigns"),
    PermissionSpec(
        CAMPAIGN_WRITE,
        "维护营销活动（方案、目标客户、人员、成本）",
        "Create and change campaigns: plan, target, staff, costs",
    ),
    PermissionSpec(CAMPAIGN_LAUNCH, "启动营销活动", "Launch campaigns (contact customers)"),
    PermissionSpec(CONTACT_RESPOND, "登记客户反馈", "Record customers' responses"),
    PermissionSpec(DNC_READ, "查看免打扰登记", "Read do-not-contact flags"),
    PermissionSpec(DNC_WRITE, "登记免打扰", "Flag customers as not to be contacted"),
    PermissionSpec(
        OUTCOME_READ, "查看推荐结果与营销成效", "Read recommendation outcomes, results and ROI"
    ),
    PermissionSpec(OUTCOME_WRITE, "登记推荐结果", "Record recommendation outcomes"),
    PermissionSpec(
        COMPETITOR_READ, "查看竞争对手、利率对比与输赢记录", "Read competitors, rates and deals"
    ),
    PermissionSpec(
        COMPETITOR_WRITE,
        "维护竞争对手、产品利率与输赢记录",
        "Maintain competitors, their products and rates, and deals won or lost",
    ),
    PermissionSpec(SURVEY_READ, "查看问卷调查与分析", "Read surveys, responses and analysis"),
    PermissionSpec(
        SURVEY_WRITE,
        "维护问卷调查（问卷、发放、代客录入答卷）",
        "Maintain surveys: questionnaires, distribution, answers taken by staff",
    ),
)

GRANTS: tuple[RoleGrant, ...] = (
    RoleGrant(StandardRole.BRANCH_MANAGER, ("marketing.*",)),
    RoleGrant(
        StandardRole.RELATIONSHIP_MANAGER,
        (
            CAMPAIGN_READ,
            CAMPAIGN_WRITE,
            CONTACT_RESPOND,
            DNC_READ,
            DNC_WRITE,
            OUTCOME_READ,
            OUTCOME_WRITE,
            COMPETITOR_READ,
            COMPETITOR_WRITE,
            SURVEY_READ,
            SURVEY_WRITE,
        ),
    ),
    RoleGrant(
        StandardRole.TELLER,
        (CAMPAIGN_READ, CONTACT_RESPOND, DNC_READ, DNC_WRITE, COMPETITOR_READ, SURVEY_READ),
    ),
    RoleGrant(
        StandardRole.AUDITOR,
        (CAMPAIGN_READ, DNC_READ, OUTCOME_READ, COMPETITOR_READ, SURVEY_READ),
    ),
)
