"""The plugin's tables: each carries ``branch_id``, so row-level security scopes it.

A campaign's members, contacts and cost lines carry the campaign's branch (whoever sees
the campaign sees its whole list, whatever sub-branch a customer belongs to); a
do-not-contact flag carries the customer's branch.

After changing a table, add a migration with
``piccolo migrations new marketing --auto``;
``tests/test_migrations.py`` fails while the tables and the migrations disagree.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from piccolo.apps.user.tables import BaseUser
from piccolo.columns import (
    JSONB,
    Boolean,
    Date,
    DoublePrecision,
    ForeignKey,
    Integer,
    Numeric,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from bankcrm.tables import branch_column


class CampaignStatus(StrEnum):
    draft = "draft"
    """Being prepared: targeting may be run again."""
    active = "active"
    """Launched: its contacts are being made."""
    closed = "closed"
    # The first release called a campaign being prepared ``open``; it is kept readable.
    open = "open"


class Channel(StrEnum):
    sms = "sms"
    email = "email"
    wechat = "wechat"
    call = "call"
    visit = "visit"


class MemberGroup(StrEnum):
    target = "target"
    control = "control"


class Exclusion(StrEnum):
    do_not_contact = "do_not_contact"
    frequency_cap = "frequency_cap"
    no_address = "no_address"


class ContactStatus(StrEnum):
    queued = "queued"
    sent = "sent"
    skipped = "skipped"
    failed = "failed"


class Response(StrEnum):
    interested = "interested"
    accepted = "accepted"
    declined = "declined"
    no_answer = "no_answer"
    opt_out = "opt_out"


class CostCategory(StrEnum):
    channel = "channel"
    material = "material"
    staff = "staff"
    gift = "gift"
    other = "other"


class Campaign(Table, tablename="marketing_campaign"):
    branch_id = branch_column()
    title = Varchar(length=200)
    body = Text(default="")
    """The description staff read."""
    status = Varchar(length=16, default=CampaignStatus.draft, choices=CampaignStatus)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    objective = Text(default="")
    plan = Text(default="")
    channel = Varchar(length=16, default=Channel.sms, choices=Channel)
    message = Text(default="")
    """What an SMS, e-mail or WeChat message says; the script of a call or visit."""
    product_code = Varchar(length=32, null=True, default=None)
    """The product the campaign promotes (for its ROI)."""
    criteria = Text(default="{}")
    """The target: the archive's customer filter as JSON (``segment_id`` for a segment)."""
    score_model = Varchar(length=64, null=True, default=None)
    score_min = DoublePrecision(null=True, default=None)
    owner = ForeignKey(BaseUser, null=True, default=None, on_delete=OnDelete.restrict, index=True)
    budget = Numeric(digits=(18, 2), default=Decimal("0"))
    starts_on = Date(null=True, default=None)
    ends_on = Date(null=True, default=None)
    control_share = DoublePrecision(default=0.1)
    seed = Integer(default=0)
    frequency_cap = Integer(default=3)
    frequency_days = Integer(default=30)
    targeted_at = Timestamptz(null=True, default=None)
    launched_at = Timestamptz(null=True, default=None)


class CampaignStaff(Table, tablename="marketing_campaign_staff"):
    """Staff assigned to a campaign (营销人员)."""

    branch_id = branch_column()
    campaign = ForeignKey(Campaign, on_delete=OnDelete.restrict, index=True)
    user = ForeignKey(BaseUser, on_delete=OnDelete.restrict, index=True)
    role = Varchar(length=64, default="")


class Member(Table, tablename="marketing_member"):
    """A targeted customer: in the target group (contacted) or the control group (held
    out, to measure what the campaign changed)."""

    branch_id = branch_column()
    campaign = ForeignKey(Campaign, on_delete=OnDelete.restrict, index=True)
    customer = Integer(index=True)
    group = Varchar(length=16, choices=MemberGroup)
    excluded = Varchar(length=16, null=True, default=None, choices=Exclusion)
    created_at = Timestamptz(default=TimestamptzNow())


class Contact(Table, tablename="marketing_contact"):
    """One contact made (or to be made) with a target member, and its response."""

    branch_id = branch_column()
    campaign = ForeignKey(Campaign, on_delete=OnDelete.restrict, index=True)
    member = ForeignKey(Member, on_delete=OnDelete.restrict, index=True)
    customer = Integer(index=True)
    channel = Varchar(length=16, choices=Channel)
    status = Varchar(length=16, default=ContactStatus.queued, choices=ContactStatus)
    scheduled_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)
    reason = Text(default="")
    attempts = Integer(default=0)
    assigned_to = ForeignKey(BaseUser, null=True, default=None, on_delete=OnDelete.restrict)
    provider_ref = Varchar(length=200, null=True, default=None)
    response = Varchar(length=16, null=True, default=None, choices=Response)
    responded_at = Timestamptz(null=True, default=None)
    note = Text(default="")


class Cost(Table, tablename="marketing_cost"):
    """A cost line (营销成本) of a campaign."""

    branch_id = branch_column()
    campaign = ForeignKey(Campaign, on_delete=OnDelete.restrict, index=True)
    category = Varchar(length=16, choices=CostCategory)
    amount = Numeric(digits=(18, 2))
    spent_on = Date()
    note = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


class DoNotContact(Table, tablename="marketing_do_not_contact"):
    """A customer's refusal of marketing, on one channel or on all (``all``)."""

    branch_id = branch_column()
    customer = Integer(index=True)
    channel = Varchar(length=16)
    reason = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


TABLES: list[type[Table]] = [Campaign, CampaignStaff, Member, Contact, Cost, DoNotContact]


class OutcomeKind(StrEnum):
    shown = "shown"
    offered = "offered"
    accepted = "accepted"
    declined = "declined"
    product_opened = "product_opened"
    revenue = "revenue"
    complaint = "complaint"


class Outcome(Table, tablename="marketing_outcome"):
    """The outcome ledger of recommendations and campaign offers: what a customer was
    shown or offered and what came of it (accepted, declined with the reason, the product
    opened, revenue, a complaint). Rows of a campaign's members carry the member, so the
    target group is compared with the control group; the ledger feeds the next training
    run of the recommendation models."""

    branch_id = branch_column()
    customer = Integer(index=True)
    campaign = ForeignKey(
        Campaign, null=True, default=None, on_delete=OnDelete.restrict, index=True
    )
    member = ForeignKey(Member, null=True, default=None, on_delete=OnDelete.restrict, index=True)
    product_code = Varchar(length=32, null=True, default=None)
    kind = Varchar(length=16, choices=OutcomeKind)
    reason = Text(default="")
    amount = Numeric(digits=(18, 2), null=True, default=None)
    source = Varchar(length=16, default="staff")
    """``staff`` (recorded by hand), ``contact`` (a response), ``holding`` (the archive)."""
    source_ref = Varchar(length=64, default="")
    """With ``source`` and ``kind``, what makes a recorded event unique (idempotency)."""
    at = Timestamptz(default=TimestamptzNow())


TABLES.append(Outcome)


class InstitutionType(StrEnum):
    bank = "bank"
    securities = "securities"
    insurance = "insurance"
    fintech = "fintech"
    other = "other"


class RateCategory(StrEnum):
    """The archive's product categories: what a rate is compared within."""

    deposit = "deposit"
    loan = "loan"
    card = "card"
    wealth = "wealth"


class DealOutcome(StrEnum):
    won = "won"
    lost = "lost"


class Competitor(Table, tablename="marketing_competitor"):
    """A competing institution (竞争对手) as a branch sees it in its market."""

    branch_id = branch_column()
    name = Varchar(length=100)
    institution_type = Varchar(length=16, default=InstitutionType.bank, choices=InstitutionType)
    website = Varchar(length=200, default="")
    note = Text(default="")
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class CompetitorProduct(Table, tablename="marketing_competitor_product"):
    """A product a competitor sells, in one of the archive's product categories."""

    branch_id = branch_column()
    competitor = ForeignKey(Competitor, on_delete=OnDelete.restrict, index=True)
    name = Varchar(length=100)
    product_category = Varchar(length=16, choices=RateCategory)
    term_months = Integer(null=True, default=None)
    note = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


class Rate(Table, tablename="marketing_rate"):
    """A published rate (% a year) from a date on: of a competitor's product, or of one of
    our products (the archive's product code). Rows are never changed: the history of a
    product's rates is its rows by ``effective_from``."""

    branch_id = branch_column()
    competitor_product = ForeignKey(
        CompetitorProduct, null=True, default=None, on_delete=OnDelete.restrict, index=True
    )
    product_code = Varchar(length=32, null=True, default=None, index=True)
    rate = Numeric(digits=(9, 4))
    effective_from = Date()
    source = Text(default="")
    """Where the rate was seen (the competitor's website, a branch's notice board ...)."""
    created_at = Timestamptz(default=TimestamptzNow())


class CompetitorDeal(Table, tablename="marketing_competitor_deal"):
    """A deal won or lost against a competitor: entered by staff or taken from sales (the
    ``marketing_competitor_deals`` hook)."""

    branch_id = branch_column()
    competitor = ForeignKey(
        Competitor, null=True, default=None, on_delete=OnDelete.restrict, index=True
    )
    competitor_name = Varchar(length=100)
    outcome = Varchar(length=8, choices=DealOutcome)
    product_category = Varchar(length=16, null=True, default=None, choices=RateCategory)
    amount = Numeric(digits=(18, 2), null=True, default=None)
    reason = Text(default="")
    customer = Integer(null=True, default=None, index=True)
    closed_on = Date()
    source = Varchar(length=16, default="staff")
    """``staff`` or the plugin that reported it (``sales``)."""
    source_ref = Varchar(length=64, default="")
    created_at = Timestamptz(default=TimestamptzNow())


TABLES.extend([Competitor, CompetitorProduct, Rate, CompetitorDeal])


class SurveyPurpose(StrEnum):
    research = "research"
    """市场调查: a questionnaire of marketing."""
    satisfaction = "satisfaction"
    """A satisfaction survey (sent after a service ticket, for instance)."""


class QuestionKind(StrEnum):
    single = "single"
    multiple = "multiple"
    scale = "scale"
    text = "text"


class ResponseVia(StrEnum):
    link = "link"
    """The survey's public link: the respondent is unknown."""
    invitation = "invitation"
    """A customer's personal invitation."""
    staff = "staff"
    """Entered by staff (a survey by telephone or at the counter)."""


class Survey(Table, tablename="marketing_survey"):
    """A questionnaire (市场调查, or a satisfaction survey) and its current version."""

    branch_id = branch_column()
    title = Varchar(length=200)
    description = Text(default="")
    purpose = Varchar(length=16, default=SurveyPurpose.research, choices=SurveyPurpose)
    status = Varchar(length=16, default=CampaignStatus.draft, choices=CampaignStatus)
    """``draft``, ``active`` (taking responses) or ``closed``."""
    version = Integer(default=1)
    """The questionnaire's current version; a version with responses is never changed."""
    link_code = Varchar(length=64, null=True, default=None, unique=True)
    """The public link's unguessable code; None: no public link."""
    owner = ForeignKey(BaseUser, null=True, default=None, on_delete=OnDelete.restrict)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class SurveyQuestion(Table, tablename="marketing_survey_question"):
    """A question of one version of a survey."""

    branch_id = branch_column()
    survey = ForeignKey(Survey, on_delete=OnDelete.restrict, index=True)
    version = Integer()
    position = Integer()
    key = Varchar(length=32)
    question_kind = Varchar(length=16, choices=QuestionKind)
    prompt = Text()
    options = JSONB(default=[])
    """Choices: ``[{"value": "a", "label": "…"}]``."""
    scale_min = Integer(null=True, default=None)
    scale_max = Integer(null=True, default=None)
    required = Boolean(default=True)
    show_if = JSONB(null=True, default=None)
    """Skip logic: ``{"question": key, "any_of": [...]}`` or ``{"question": key,
    "at_least": n, "at_most": m}`` over an earlier question; None: always shown."""


class SurveyInvitation(Table, tablename="marketing_survey_invitation"):
    """A customer's personal invitation to answer a survey: its code is the link."""

    branch_id = branch_column()
    survey = ForeignKey(Survey, on_delete=OnDelete.restrict, index=True)
    customer = Integer(index=True)
    code = Varchar(length=64, unique=True)
    channel = Varchar(length=16, null=True, default=None)
    """``sms``, ``email`` or ``wechat`` (sent by the job); None: handed to the caller."""
    status = Varchar(length=16, default=ContactStatus.queued, choices=ContactStatus)
    source_ref = Varchar(length=64, default="")
    """Who asked for it (``service.ticket:42``): one invitation per survey and reference."""
    reason = Text(default="")
    attempts = Integer(default=0)
    provider_ref = Varchar(length=200, null=True, default=None)
    scheduled_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)
    responded_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class SurveyResponse(Table, tablename="marketing_survey_response"):
    """One respondent's answers to one version of a survey."""

    branch_id = branch_column()
    survey = ForeignKey(Survey, on_delete=OnDelete.restrict, index=True)
    version = Integer()
    customer = Integer(null=True, default=None, index=True)
    invitation = ForeignKey(
        SurveyInvitation, null=True, default=None, on_delete=OnDelete.restrict, unique=True
    )
    answers = JSONB(default={})
    via = Varchar(length=16, choices=ResponseVia)
    submitted_at = Timestamptz(default=TimestamptzNow())


TABLES.extend([Survey, SurveyQuestion, SurveyInvitation, SurveyResponse])
