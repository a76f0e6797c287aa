"""The plugin's tables: each carries ``branch_id``, so row-level security scopes it.

Rows pointing at the customer archive (customers, products) hold their ids as plain
integers with foreign keys added in SQL by the migration: a plugin uses another plugin's
tables only through its public services, never its table classes.

After changing a table, add a migration with ``piccolo migrations new sales --auto``;
``tests/test_migrations.py`` fails while the tables and the migrations disagree.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from piccolo.apps.user.tables import BaseUser
from piccolo.columns import (
    JSONB,
    Array,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from bankcrm.tables import branch_column


class Channel(StrEnum):
    """销售渠道: where a lead came from."""

    web = "web"
    call_centre = "call_centre"
    branch = "branch"
    referral = "referral"
    campaign = "campaign"
    partner = "partner"
    event = "event"
    import_ = "import"


class LeadStatus(StrEnum):
    new = "new"
    contacted = "contacted"
    qualified = "qualified"
    converted = "converted"
    lost = "lost"


class OpportunityStatus(StrEnum):
    open = "open"
    won = "won"
    lost = "lost"


class SalesMethod(StrEnum):
    """销售方式."""

    relationship = "relationship"
    """客户经理关系营销"""
    telephone = "telephone"
    visit = "visit"
    seminar = "seminar"
    online = "online"
    cross_sell = "cross_sell"


class ActivityKind(StrEnum):
    """销售活动."""

    call = "call"
    visit = "visit"
    meeting = "meeting"
    message = "message"


class Intent(StrEnum):
    """客户意向."""

    strong = "strong"
    moderate = "moderate"
    weak = "weak"
    none = "none"


class Lead(Table, tablename="sales_lead"):
    branch_id = branch_column()
    channel = Varchar(length=16, choices=Channel, index=True)
    campaign = Varchar(length=100, default="")
    customer = Integer(null=True, default=None, index=True)
    """An archive customer: the lead is about an existing customer, or was converted."""
    prospect_name = Varchar(length=100)
    phone = Varchar(length=32, null=True, default=None)
    email = Varchar(length=200, null=True, default=None)
    company = Varchar(length=200, default="")
    product_interest = Varchar(length=32, default="")
    """A product code of the archive's catalogue (or blank)."""
    need = Text(default="")
    """客户需求."""
    estimated_amount = Numeric(digits=(18, 2), null=True, default=None)
    status = Varchar(length=16, default=LeadStatus.new, choices=LeadStatus, index=True)
    lost_reason = Varchar(length=200, default="")
    owner = ForeignKey(BaseUser, on_delete=OnDelete.restrict, index=True)
    score = Integer(default=0)
    score_reasons = JSONB(default=[])
    next_follow_up_at = Timestamptz(null=True, default=None, index=True)
    flagged = Boolean(default=False)
    """Overdue past the branch's escalation interval: the owner's manager was told."""
    opportunity = Integer(null=True, default=None)
    external_ref = Varchar(length=100, default="")
    created_by = Varchar(length=64, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Opportunity(Table, tablename="sales_opportunity"):
    """客户商业机会."""

    branch_id = branch_column()
    customer = Integer(index=True)
    lead = ForeignKey(Lead, null=True, default=None, on_delete=OnDelete.restrict)
    title = Varchar(length=200)
    stage = Varchar(length=32, index=True)
    stage_entered_at = Timestamptz(default=TimestamptzNow())
    probability = Integer(default=0)
    amount = Numeric(digits=(18, 2), default=Decimal("0"))
    """The sum of the products' amounts (CNY)."""
    expected_close = Date(null=True, default=None)
    competitor = Varchar(length=100, default="")
    sales_method = Varchar(length=16, default=SalesMethod.relationship, choices=SalesMethod)
    project = Varchar(length=100, default="")
    """销售项目: the sales project (campaign of effort) the opportunity belongs to."""
    channel = Varchar(length=16, choices=Channel, index=True)
    status = Varchar(
        length=16, default=OpportunityStatus.open, choices=OpportunityStatus, index=True
    )
    lost_reason = Varchar(length=200, default="")
    owner = ForeignKey(BaseUser, on_delete=OnDelete.restrict, index=True)
    next_follow_up_at = Timestamptz(null=True, default=None, index=True)
    flagged = Boolean(default=False)
    closed_at = Timestamptz(null=True, default=None)
    created_by = Varchar(length=64, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class OpportunityProduct(Table, tablename="sales_opportunity_product"):
    """产品服务配置: a product of the archive's catalogue with its options and price."""

    branch_id = branch_column()
    opportunity = ForeignKey(Opportunity, on_delete=OnDelete.restrict, index=True)
    product = Integer()
    options = JSONB(default={})
    quantity = Integer(default=1)
    unit_price = Numeric(digits=(18, 2))
    amount = Numeric(digits=(18, 2))


class StageChange(Table, tablename="sales_stage_change"):
    """Every stage an opportunity entered, for time-in-stage and the funnel."""

    branch_id = branch_column()
    opportunity = ForeignKey(Opportunity, on_delete=OnDelete.restrict, index=True)
    from_stage = Varchar(length=32, null=True, default=None)
    to_stage = Varchar(length=32)
    changed_at = Timestamptz(default=TimestamptzNow())
    changed_by = Varchar(length=64, default="")


class Activity(Table, tablename="sales_activity"):
    """销售活动: a call, visit, meeting or message (联系时间、联系结果、客户意向)."""

    branch_id = branch_column()
    kind = Varchar(length=16, choices=ActivityKind)
    customer = Integer(null=True, default=None, index=True)
    lead = ForeignKey(Lead, null=True, default=None, on_delete=OnDelete.restrict, index=True)
    opportunity = ForeignKey(
        Opportunity, null=True, default=None, on_delete=OnDelete.restrict, index=True
    )
    at = Timestamptz()
    result = Text(default="")
    intent = Varchar(length=16, default=Intent.moderate, choices=Intent)
    next_step = Varchar(length=200, default="")
    next_follow_up_at = Timestamptz(null=True, default=None)
    owner = ForeignKey(BaseUser, on_delete=OnDelete.restrict, index=True)
    created_at = Timestamptz(default=TimestamptzNow())


class IntakeKey(Table, tablename="sales_intake_key"):
    """An external system's ``Idempotency-Key``: a retried intake answers the same lead."""

    branch_id = branch_column()
    client = Varchar(length=64)
    key = Varchar(length=128)
    request_hash = Varchar(length=64)
    lead = ForeignKey(Lead, on_delete=OnDelete.restrict)
    created_at = Timestamptz(default=TimestamptzNow())


class FollowUpStep(Table, tablename="sales_follow_up_step"):
    """The escalation history of a lead's or an opportunity's follow-up: one row per
    step (reminded, escalated, reassigned) and due time, so every sweep is idempotent."""

    branch_id = branch_column()
    kind = Varchar(length=16)
    """``lead`` or ``opportunity``."""
    item_id = Integer()
    due_at = Timestamptz()
    step = Varchar(length=16)
    owner = Integer()
    """The owner's user id when the step was taken."""
    new_owner = Integer(null=True, default=None)
    notified = Array(base_column=Integer(), default=list)
    reason = Varchar(length=200, default="")
    at = Timestamptz()


class ChannelCost(Table, tablename="sales_channel_cost"):
    """What a channel cost a branch in a month (CNY), for channel ROI when marketing does
    not report costs through the ``sales_channel_costs`` hook."""

    branch_id = branch_column()
    channel = Varchar(length=16, choices=Channel)
    month = Date()
    """The first day of the month."""
    cost = Numeric(digits=(18, 2))


class Plan(Table, tablename="sales_plan"):
    """销售计划: a target for a branch, a team or a person, per period and category."""

    branch_id = branch_column()
    team_id = Integer(null=True, default=None)
    owner = ForeignKey(BaseUser, null=True, default=None, on_delete=OnDelete.restrict)
    period = Varchar(length=8)
    period_start = Date()
    product_category = Varchar(length=16, default="")
    target_amount = Numeric(digits=(18, 2))
    target_count = Integer(default=0)
    created_by = Varchar(length=64, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class CommissionRule(Table, tablename="sales_commission_rule"):
    """佣金规则: a rate or marginal tiers per product category and period, with a cap."""

    branch_id = branch_column()
    name = Varchar(length=100)
    product_category = Varchar(length=16, default="")
    valid_from = Date()
    valid_to = Date(null=True, default=None)
    rate = Numeric(digits=(7, 4), null=True, default=None)
    tiers = JSONB(default=[])
    cap = Numeric(digits=(18, 2), null=True, default=None)
    clawback_days = Integer(default=0)
    """A contract terminated within this many days of signing gives its commission back
    (0: never)."""
    created_by = Varchar(length=64, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class CommissionSplit(Table, tablename="sales_commission_split"):
    """Who shares an opportunity's commission (percent, summing to 100)."""

    branch_id = branch_column()
    opportunity = ForeignKey(Opportunity, on_delete=OnDelete.restrict, index=True)
    user_id = ForeignKey(BaseUser, on_delete=OnDelete.restrict)
    percent = Numeric(digits=(5, 2))


class CommissionRun(Table, tablename="sales_commission_run"):
    """A branch's commissions of one month: draft, approved by a second person, paid."""

    branch_id = branch_column()
    month = Date()
    status = Varchar(length=16, default="draft")
    total = Numeric(digits=(18, 2), default=Decimal("0"))
    computed_by = Varchar(length=64)
    computed_at = Timestamptz(default=TimestamptzNow())
    approved_by = Varchar(length=64, null=True, default=None)
    approved_at = Timestamptz(null=True, default=None)
    paid_at = Timestamptz(null=True, default=None)


class CommissionLine(Table, tablename="sales_commission_line"):
    """One person's commission on one opportunity under one rule, in a run."""

    branch_id = branch_column()
    run = ForeignKey(CommissionRun, on_delete=OnDelete.cascade, index=True)
    opportunity = ForeignKey(Opportunity, on_delete=OnDelete.restrict)
    user_id = ForeignKey(BaseUser, on_delete=OnDelete.restrict, index=True)
    rule = ForeignKey(CommissionRule, on_delete=OnDelete.restrict)
    base = Numeric(digits=(18, 2))
    amount = Numeric(digits=(18, 2))
    note = Varchar(length=100, default="")


class ContractKind(StrEnum):
    """The customer archive's contract kinds."""

    loan = "loan"
    deposit = "deposit"
    wealth = "wealth"
    custody = "custody"
    service = "service"
    guarantee = "guarantee"


class ContractStatus(StrEnum):
    active = "active"
    terminated = "terminated"


class SalesContract(Table, tablename="sales_contract"):
    """销售合同: what a won opportunity sold, signed as a contract in the customer archive."""

    branch_id = branch_column()
    opportunity = ForeignKey(Opportunity, on_delete=OnDelete.restrict, unique=True)
    customer = Integer(index=True)
    archive_contract = Integer()
    number = Varchar(length=64)
    contract_kind = Varchar(length=16, choices=ContractKind)
    title = Varchar(length=200, default="")
    signed_on = Date()
    start_on = Date(null=True, default=None)
    end_on = Date(null=True, default=None)
    amount = Numeric(digits=(18, 2))
    currency = Varchar(length=3, default="CNY")
    lines = JSONB(default=[])
    """The products sold, as the opportunity held them when the contract was signed."""
    owner = ForeignKey(BaseUser, on_delete=OnDelete.restrict, index=True)
    status = Varchar(length=16, default=ContractStatus.active, choices=ContractStatus)
    terminated_on = Date(null=True, default=None)
    termination_reason = Varchar(length=200, default="")
    created_by = Varchar(length=64, default="")
    created_at = Timestamptz(default=TimestamptzNow())


# --- daily roll-ups for the analytics --------------------------------------------------
#
# Kept by statement-level triggers (see the migration of 2026-12-04T19:30) in the same
# transaction as every write to leads, opportunities and stage changes, and backfilled
# when created. Each row carries the branch and the owner of the opportunity or lead it
# counts, so row-level security and the same owner rule as the source rows decide who
# sees it. Days are days of the bank's zone (Asia/Shanghai).


class StageDay(Table, tablename="sales_stage_day"):
    """Stage entries per branch, owner, day entered, stage and the stage entered next."""

    branch_id = branch_column()
    owner = Integer(null=True, default=None)
    day = Date()
    stage = Varchar(length=32)
    next_stage = Varchar(length=32, default="")
    """'' while the opportunity is still in the stage."""
    entered = Integer(default=0)
    stayed_seconds = Numeric(default=Decimal("0"))
    """Sum of the seconds spent in the stage by entries that left it (next_stage set)."""
    open_since_seconds = Numeric(default=Decimal("0"))
    """Sum of the entry times (Unix seconds) of entries still in the stage."""


class OpportunityDay(Table, tablename="sales_opportunity_day"):
    """Opportunities created, won and lost per branch, owner, channel and day."""

    branch_id = branch_column()
    owner = Integer(null=True, default=None)
    day = Date()
    channel = Varchar(length=16)
    created = Integer(default=0)
    won = Integer(default=0)
    lost = Integer(default=0)
    won_amount = Numeric(default=Decimal("0"))


class LeadDay(Table, tablename="sales_lead_day"):
    """Leads created per branch, owner, channel and day."""

    branch_id = branch_column()
    owner = Integer(null=True, default=None)
    day = Date()
    channel = Varchar(length=16)
    leads = Integer(default=0)


TABLES: list[type[Table]] = [
    Lead, Opportunity, OpportunityProduct, StageChange, Activity, IntakeKey, FollowUpStep,
    ChannelCost, Plan, CommissionRule, CommissionSplit, CommissionRun, CommissionLine,
    SalesContract, StageDay, OpportunityDay, LeadDay,
]  # fmt: skip
