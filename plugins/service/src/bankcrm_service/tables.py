"""The plugin's tables: each carries ``branch_id``, so row-level security scopes it.

A ticket points at the customer archive's customer by id (a plain integer, as sales'
rows do: the archive's services check it, and a merge moves it through
``customer_references``).

After changing a table, add a migration with
``piccolo migrations new service --auto``;
``tests/test_migrations.py`` fails while the tables and the migrations disagree.
"""

from __future__ import annotations

from enum import StrEnum

from piccolo.columns import (
    Array,
    Boolean,
    Date,
    DoublePrecision,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from bankcrm.tables import branch_column


class TicketStatus(StrEnum):
    new = "new"
    in_progress = "in_progress"
    waiting_customer = "waiting_customer"
    resolved = "resolved"
    closed = "closed"


class TicketKind(StrEnum):
    complaint = "complaint"
    inquiry = "inquiry"
    suggestion = "suggestion"
    report = "report"
    care = "care"
    bill = "bill"


class TicketChannel(StrEnum):
    counter = "counter"
    phone = "phone"
    web = "web"
    app = "app"
    wechat = "wechat"
    email = "email"


class TicketPriority(StrEnum):
    low = "low"
    normal = "normal"
    high = "high"
    urgent = "urgent"


class CustomerTier(StrEnum):
    """The archive's value tiers (客户价值分层), as an SLA policy names them."""

    private = "private"
    wealth = "wealth"
    affluent = "affluent"
    mass = "mass"


class Ticket(Table, tablename="service_ticket"):
    """A complaint, inquiry, suggestion, report (申告), care request or bill question."""

    branch_id = branch_column()
    customer = Integer(null=True, default=None, index=True)
    kind = Varchar(length=16, default=TicketKind.inquiry, choices=TicketKind)
    channel = Varchar(length=16, default=TicketChannel.counter, choices=TicketChannel)
    priority = Varchar(length=16, default=TicketPriority.normal, choices=TicketPriority)
    product_code = Varchar(length=32, null=True, default=None)
    title = Varchar(length=200)
    body = Text(default="")
    status = Varchar(length=16, default=TicketStatus.new, choices=TicketStatus)
    repeat_of = Integer(null=True, default=None)
    """The customer's previous complaint within 90 days, when this one repeats it."""
    created_by = Varchar(length=100, default="")
    assignee = Integer(null=True, default=None)
    """The staff user working the ticket (told before and at an SLA breach)."""
    resolved_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    sla_policy = Integer(null=True, default=None)
    """The SLA policy that set the due time (None: the built-in default)."""
    sla_hours = Integer(null=True, default=None)
    """Business hours to resolve, from the policy."""
    sla_warn_at = Timestamptz(null=True, default=None)
    sla_due_at = Timestamptz(null=True, default=None)
    sla_paused_at = Timestamptz(null=True, default=None)
    """Set while the clock stands (waiting on the customer, resolved, closed)."""
    sla_paused_seconds = Integer(default=0)
    """Business time the clock stood so far; it pushes the due time out."""
    sla_breached_at = Timestamptz(null=True, default=None)


class TicketEvent(Table, tablename="service_ticket_event"):
    """Every change of a ticket's status, with who and why: the ticket's history."""

    branch_id = branch_column()
    ticket = Integer(index=True)
    from_status = Varchar(length=16, null=True, default=None)
    to_status = Varchar(length=16)
    note = Varchar(length=1000, default="")
    actor = Varchar(length=100)
    at = Timestamptz(default=TimestamptzNow())


class SlaPolicy(Table, tablename="service_sla_policy"):
    """Business hours to resolve a ticket of a kind, priority and customer tier (each
    empty = any), for the branch and its sub-branches; the most specific policy of the
    nearest branch applies."""

    branch_id = branch_column()
    name = Varchar(length=100)
    kind = Varchar(length=16, null=True, default=None, choices=TicketKind)
    priority = Varchar(length=16, null=True, default=None, choices=TicketPriority)
    value_tier = Varchar(length=16, null=True, default=None, choices=CustomerTier)
    resolve_hours = Integer()
    warn_percent = Integer(default=80)
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class SlaStep(Table, tablename="service_sla_step"):
    """A warning before or an escalation at a ticket's SLA breach: once per ticket."""

    branch_id = branch_column()
    ticket = Integer(index=True)
    step = Varchar(length=16)
    due_at = Timestamptz()
    notified = Array(base_column=Integer(), default=list)
    at = Timestamptz(default=TimestamptzNow())


class ArticleStatus(StrEnum):
    draft = "draft"
    published = "published"


class FaqCategory(Table, tablename="service_faq_category"):
    """A category of FAQ articles (常见问题分类)."""

    branch_id = branch_column()
    name = Varchar(length=100)
    name_en = Varchar(length=100, default="")
    position = Integer(default=0)


class FaqArticle(Table, tablename="service_faq_article"):
    """A question with its standard answer (常见问题); only published articles answer. Each
    change is kept as a version in ``service_faq_version``."""

    branch_id = branch_column()
    category = Integer(null=True, default=None)
    question = Varchar(length=300)
    answer = Text()
    keywords = Varchar(length=500, default="")
    """Other wordings customers use (matched like the question)."""
    status = Varchar(length=16, default=ArticleStatus.draft, choices=ArticleStatus)
    public = Boolean(default=True)
    """Whether the public self-service may answer with it (else staff only)."""
    version = Integer(default=1)
    published_at = Timestamptz(null=True, default=None)
    updated_by = Varchar(length=100, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class FaqVersion(Table, tablename="service_faq_version"):
    """An article as it was after each change: version, content, status, who and when."""

    branch_id = branch_column()
    article = Integer(index=True)
    version = Integer()
    category = Integer(null=True, default=None)
    question = Varchar(length=300)
    answer = Text()
    keywords = Varchar(length=500, default="")
    status = Varchar(length=16, choices=ArticleStatus)
    public = Boolean(default=True)
    actor = Varchar(length=100)
    at = Timestamptz(default=TimestamptzNow())


class TriageState(StrEnum):
    auto = "auto"
    queued = "queued"
    confirmed = "confirmed"
    corrected = "corrected"


class TriageRecord(Table, tablename="service_triage"):
    """The model's reading of a new ticket's kind; a low-confidence one (or one that
    disagrees with the kind registered) waits in the manual triage queue until staff
    confirm or correct it. Corrections are kept as labelled examples."""

    branch_id = branch_column()
    ticket = Integer(unique=True)
    predicted_kind = Varchar(length=16, choices=TicketKind)
    confidence = DoublePrecision()
    model = Varchar(length=64)
    state = Varchar(length=16, default=TriageState.queued, choices=TriageState)
    registered_kind = Varchar(length=16, choices=TicketKind)
    final_kind = Varchar(length=16, null=True, default=None, choices=TicketKind)
    final_priority = Varchar(length=16, null=True, default=None, choices=TicketPriority)
    note = Varchar(length=1000, default="")
    reviewed_by = Varchar(length=100, null=True, default=None)
    reviewed_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class CareKind(StrEnum):
    birthday = "birthday"
    maturity = "maturity"
    visit = "visit"


class CareStatus(StrEnum):
    open = "open"
    done = "done"
    skipped = "skipped"


class VisitPlan(Table, tablename="service_visit_plan"):
    """走访计划: every customer of a value tier in the branch (and its sub-branches) gets a
    visit task once every ``every_months`` months."""

    branch_id = branch_column()
    name = Varchar(length=100)
    value_tier = Varchar(length=16, choices=CustomerTier)
    every_months = Integer(default=1)
    assignee = Integer(null=True, default=None)
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class CareTask(Table, tablename="service_care_task"):
    """客户关怀任务: a birthday greeting, a maturity call or a planned visit, due on a
    business day. ``occasion_key`` names what the task is for (kind, customer, day), so
    the daily job creates each task once however often it runs."""

    branch_id = branch_column()
    customer = Integer(index=True)
    kind = Varchar(length=16, choices=CareKind)
    occasion_on = Date()
    due_on = Date(index=True)
    occasion_key = Varchar(length=100, unique=True)
    visit_plan = Integer(null=True, default=None)
    assignee = Integer(null=True, default=None)
    status = Varchar(length=16, default=CareStatus.open, choices=CareStatus)
    result = Varchar(length=1000, default="")
    done_by = Varchar(length=100, null=True, default=None)
    done_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


TABLES: list[type[Table]] = [
    Ticket, TicketEvent, SlaPolicy, SlaStep, FaqCategory, FaqArticle, FaqVersion,
    TriageRecord, VisitPlan, CareTask,
]  # fmt: skip
