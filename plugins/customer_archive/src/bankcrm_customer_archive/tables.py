"""Customer archive tables: all branch-scoped except the product catalogue.

Child rows (addresses, contacts, holdings, tag links) carry the branch of their customer,
so row-level security filters them on their own without a join; :mod:`.services` sets it
from the customer row. Foreign keys restrict deletion: customers are soft-deleted.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from piccolo.apps.user.tables import BaseUser
from piccolo.columns import (
    BigInt,
    Boolean,
    Bytea,
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

from bankcrm.tables import branch_column, global_table


class CustomerKind(StrEnum):
    individual = "individual"
    corporate = "corporate"


class IdType(StrEnum):
    resident_id = "resident_id"
    """PRC resident identity card (GB 11643-1999)."""
    passport = "passport"
    uscc = "uscc"
    """Unified social credit code of an organisation (GB 32100-2015)."""


class Gender(StrEnum):
    male = "M"
    female = "F"


class CustomerStatus(StrEnum):
    active = "active"
    dormant = "dormant"
    closed = "closed"


class AddressKind(StrEnum):
    home = "home"
    office = "office"
    registered = "registered"
    mailing = "mailing"


class ProductCategory(StrEnum):
    deposit = "deposit"
    loan = "loan"
    card = "card"
    wealth = "wealth"


class Segment(StrEnum):
    individual = "individual"
    corporate = "corporate"


class BalanceType(StrEnum):
    asset = "asset"
    """The customer's money with the bank (deposits, wealth, debit cards): counts to AUM."""
    credit = "credit"
    """What the customer owes (loans, credit cards)."""


class HoldingStatus(StrEnum):
    active = "active"
    frozen = "frozen"
    closed = "closed"


class Education(StrEnum):
    """最高学历 (highest education)."""

    primary = "primary"
    secondary = "secondary"
    vocational = "vocational"
    bachelor = "bachelor"
    master = "master"
    doctorate = "doctorate"


class IncomeBand(StrEnum):
    """年收入区间, CNY per year."""

    lt_100k = "lt_100k"
    from_100k_to_300k = "100k_300k"
    from_300k_to_1m = "300k_1m"
    from_1m_to_5m = "1m_5m"
    gt_5m = "gt_5m"


class MaritalStatus(StrEnum):
    """婚姻状况."""

    single = "single"
    married = "married"
    divorced = "divorced"
    widowed = "widowed"


class CompanySize(StrEnum):
    """企业规模 (划型标准 of the Ministry of Industry and Information Technology)."""

    micro = "micro"
    small = "small"
    medium = "medium"
    large = "large"


class CreditGrade(StrEnum):
    """信用等级, best first."""

    AAA = "AAA"
    AA = "AA"
    A = "A"
    BBB = "BBB"
    BB = "BB"
    B = "B"
    CCC = "CCC"
    CC = "CC"
    C = "C"
    D = "D"


class RiskTolerance(StrEnum):
    """风险承受能力 from the suitability questionnaire: C1 conservative .. C5 aggressive."""

    C1 = "C1"
    C2 = "C2"
    C3 = "C3"
    C4 = "C4"
    C5 = "C5"


class ValueTier(StrEnum):
    """客户价值分层: 私行 / 财富 / 富裕 / 大众."""

    private = "private"
    wealth = "wealth"
    affluent = "affluent"
    mass = "mass"


class ChannelKind(StrEnum):
    """联系渠道."""

    mobile = "mobile"
    phone = "phone"
    email = "email"
    wechat = "wechat"
    fax = "fax"


class RelationKind(StrEnum):
    """客户关系: a row reads "``related`` is the ``customer``'s <kind>"."""

    spouse = "spouse"
    parent = "parent"
    child = "child"
    sibling = "sibling"
    family = "family"
    guarantor = "guarantor"
    shareholder = "shareholder"
    legal_representative = "legal_representative"
    actual_controller = "actual_controller"


class HouseholdRole(StrEnum):
    head = "head"
    member = "member"


class ContractKind(StrEnum):
    """合同类型."""

    loan = "loan"
    deposit = "deposit"
    wealth = "wealth"
    custody = "custody"
    service = "service"
    guarantee = "guarantee"


class ContractStatus(StrEnum):
    draft = "draft"
    active = "active"
    expired = "expired"
    terminated = "terminated"


class RatingKind(StrEnum):
    """评级种类; each is also a column of the customer holding the current value."""

    credit_grade = "credit_grade"
    risk_tolerance = "risk_tolerance"
    value_tier = "value_tier"


class RatingSource(StrEnum):
    manual = "manual"
    job = "job"
    import_ = "import"


class Customer(Table, tablename="customer_archive_customer"):
    branch_id = branch_column()
    kind = Varchar(length=16, choices=CustomerKind)
    name = Varchar(length=200)
    name_pinyin = Varchar(length=800, default="")
    """Lower-case pinyin without tones or spaces (``wangxiuying``)."""
    name_initials = Varchar(length=200, default="")
    """First letters of the pinyin syllables (``wxy``)."""
    gender = Varchar(length=1, null=True, default=None, choices=Gender)
    birth_date = Date(null=True, default=None)
    id_type = Varchar(length=16, choices=IdType)
    id_number_encrypted = Text(secret=True)
    """AES-GCM ciphertext (:func:`bankcrm.pii.encrypt`); never returned unless revealed."""
    id_number_hash = Varchar(length=64)
    """Keyed hash (:func:`bankcrm.pii.lookup_hash`) for exact search; indexed together with
    the branch by the search migration."""
    id_number_masked = Varchar(length=32)
    phone = Varchar(length=32, null=True, default=None, index=True)
    """Stored in clear for exact and last-digits search; masked in every response."""
    email = Varchar(length=254, null=True, default=None)
    occupation = Varchar(length=100, null=True, default=None)
    employer = Varchar(length=200, null=True, default=None)
    industry = Varchar(length=100, null=True, default=None)
    relationship_manager = ForeignKey(
        BaseUser, null=True, default=None, on_delete=OnDelete.restrict, index=True
    )
    status = Varchar(length=16, choices=CustomerStatus, default=CustomerStatus.active)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    deleted_at = Timestamptz(null=True, default=None)
    """Soft delete: set instead of deleting, so history and audit references stay intact."""
    # Background (individuals).
    education = Varchar(length=16, null=True, default=None, choices=Education)
    income_band = Varchar(length=16, null=True, default=None, choices=IncomeBand)
    marital_status = Varchar(length=16, null=True, default=None, choices=MaritalStatus)
    # Background (companies).
    company_size = Varchar(length=16, null=True, default=None, choices=CompanySize)
    registered_capital = Numeric(digits=(18, 2), null=True, default=None)
    """注册资本, CNY."""
    established_on = Date(null=True, default=None)
    """成立日期."""
    # Current ratings, denormalised from customer_archive_rating (written only through
    # profile.record_rating, which appends the history row in the same transaction).
    credit_grade = Varchar(length=3, null=True, default=None, choices=CreditGrade)
    risk_tolerance = Varchar(length=2, null=True, default=None, choices=RiskTolerance)
    value_tier = Varchar(length=16, null=True, default=None, choices=ValueTier)
    last_activity_at = Timestamptz(null=True, default=None)
    """Last contact or transaction of the customer, maintained by the plugins that see it."""
    aum_cents = BigInt(default=0)
    """AUM in fen (CNY/100): open asset holdings in CNY, kept in step by every holding write
    (:func:`bankcrm_customer_archive.search.services.refresh_aum`). An integer because numeric
    comparisons are not leakproof, so under RLS only this can use an index for ranges."""
    import_batch_id = Integer(null=True, default=None, index=True)
    """The import batch that created the customer (customer_archive_import_batch)."""
    merged_into = Integer(null=True, default=None, index=True)
    """Set when the customer was merged (归并) into another (then also soft-deleted): the
    survivor's id, so the old id still resolves (see bankcrm_customer_archive.dedupe)."""


class CustomerAddress(Table, tablename="customer_archive_customer_address"):
    branch_id = branch_column()
    customer = ForeignKey(Customer, on_delete=OnDelete.restrict, index=True)
    kind = Varchar(length=16, choices=AddressKind)
    province = Varchar(length=50)
    city = Varchar(length=50)
    district = Varchar(length=50, default="")
    street = Varchar(length=200)
    postcode = Varchar(length=6, default="")
    is_primary = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class CustomerContact(Table, tablename="customer_archive_customer_contact"):
    branch_id = branch_column()
    customer = ForeignKey(Customer, on_delete=OnDelete.restrict, index=True)
    name = Varchar(length=100)
    title = Varchar(length=100, default="")
    phone = Varchar(length=32, null=True, default=None, index=True)
    email = Varchar(length=254, null=True, default=None)
    is_primary = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


@global_table("the product catalogue is the bank's shelf, the same for every branch")
class Product(Table, tablename="customer_archive_product"):
    code = Varchar(length=32, unique=True)
    name = Varchar(length=100)
    name_en = Varchar(length=200, default="")
    category = Varchar(length=16, choices=ProductCategory)
    segment = Varchar(length=16, choices=Segment, default=Segment.individual)
    balance_type = Varchar(length=16, choices=BalanceType, default=BalanceType.asset)
    currency = Varchar(length=3, default="CNY")
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Holding(Table, tablename="customer_archive_holding"):
    branch_id = branch_column()
    customer = ForeignKey(Customer, on_delete=OnDelete.restrict, index=True)
    product = ForeignKey(Product, on_delete=OnDelete.restrict, index=True)
    account_no = Varchar(length=32, unique=True)
    """The bank's own account or card number: stored in clear (unique, matched by core
    banking), masked in every response, revealed only with a reason."""
    balance = Numeric(digits=(18, 2), default=Decimal("0.00"))
    currency = Varchar(length=3, default="CNY")
    opened_on = Date(null=True, default=None)
    status = Varchar(length=16, choices=HoldingStatus, default=HoldingStatus.active)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class TagKind(StrEnum):
    manual = "manual"
    """Set and removed by staff."""
    rule = "rule"
    """Set and removed by its rule (:mod:`bankcrm_customer_archive.tagging.services`) only."""


class Tag(Table, tablename="customer_archive_tag"):
    """A branch's own tag vocabulary: a customer is tagged only with its branch's tags."""

    branch_id = branch_column()
    name = Varchar(length=32)
    color = Varchar(length=7, default="#1677ff")
    created_at = Timestamptz(default=TimestamptzNow())
    kind = Varchar(length=8, choices=TagKind, default=TagKind.manual)


class CustomerTag(Table, tablename="customer_archive_customer_tag"):
    # Indexed by the unique (customer, tag) and (tag, customer) pairs of the search migration.
    branch_id = branch_column()
    customer = ForeignKey(Customer, on_delete=OnDelete.restrict)
    tag = ForeignKey(Tag, on_delete=OnDelete.restrict)
    created_at = Timestamptz(default=TimestamptzNow())
    """When the link was made (by staff, or by the rule evaluation that first matched)."""
    source = Varchar(length=8, choices=TagKind, default=TagKind.manual)
    """Who made the link: staff (``manual``) or the tag's rule (``rule``)."""


class SearchKey(Table, tablename="customer_archive_search_key"):
    """Derived rows that make customers findable by name, pinyin, initials and phone
    digits under row-level security (see :mod:`bankcrm_customer_archive.names`).
    Rewritten by the services whenever a customer's name or phone changes."""

    # Declared like every scoped table (row-level security keys on it), but migration
    # 2026-11-25T02:00 drops its foreign key and its own index in the database: derived
    # rows carry their customer's branch, and writing them dominated imports.
    branch_id = branch_column()
    customer = ForeignKey(Customer, on_delete=OnDelete.restrict, index=True)
    key = Varchar(length=400)


class ContactChannel(Table, tablename="customer_archive_contact_channel"):
    """联系渠道: several per customer; at most one primary per kind (partial unique index)."""

    branch_id = branch_column()
    customer = ForeignKey(Customer, on_delete=OnDelete.restrict, index=True)
    kind = Varchar(length=16, choices=ChannelKind)
    value = Varchar(length=254)
    """Phone numbers are masked in every response, like the customer's phone."""
    label = Varchar(length=50, default="")
    is_primary = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Relation(Table, tablename="customer_archive_relation"):
    """客户关系: ``related`` is the ``customer``'s ``kind`` (e.g. kind=spouse).

    Symmetric kinds (spouse, sibling, family) and the parent/child pair are stored in both
    directions, each row with the branch of its own ``customer``.
    """

    branch_id = branch_column()
    customer = ForeignKey(Customer, on_delete=OnDelete.restrict, index=True)
    related = ForeignKey(Customer, on_delete=OnDelete.restrict, index=True)
    kind = Varchar(length=24, choices=RelationKind)
    share_ratio = Numeric(digits=(7, 4), null=True, default=None)
    """持股比例 in percent (0 < ratio <= 100), shareholders only."""
    note = Varchar(length=200, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Household(Table, tablename="customer_archive_household"):
    """家庭/户: a group of customers with a head; carries the head's branch."""

    branch_id = branch_column()
    name = Varchar(length=100)
    head = ForeignKey(Customer, on_delete=OnDelete.restrict, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class HouseholdMember(Table, tablename="customer_archive_household_member"):
    """A customer belongs to at most one household (unique index on ``customer``)."""

    branch_id = branch_column()
    household = ForeignKey(Household, on_delete=OnDelete.restrict, index=True)
    customer = ForeignKey(Customer, on_delete=OnDelete.restrict)
    role = Varchar(length=16, choices=HouseholdRole, default=HouseholdRole.member)
    created_at = Timestamptz(default=TimestamptzNow())


class BalanceSnapshot(Table, tablename="customer_archive_balance_snapshot"):
    """余额快照: one row per holding per day (unique), in the holding's currency."""

    branch_id = branch_column()
    holding = ForeignKey(Holding, on_delete=OnDelete.restrict)
    customer = ForeignKey(Customer, on_delete=OnDelete.restrict, index=True)
    snapshot_on = Date()
    balance = Numeric(digits=(18, 2), default=Decimal("0.00"))
    currency = Varchar(length=3, default="CNY")
    created_at = Timestamptz(default=TimestamptzNow())


class AumSnapshot(Table, tablename="customer_archive_aum_snapshot"):
    """资产管理规模 (AUM) per customer per day (unique), in CNY, asset holdings only."""

    branch_id = branch_column()
    customer = ForeignKey(Customer, on_delete=OnDelete.restrict)
    snapshot_on = Date()
    aum = Numeric(digits=(18, 2), default=Decimal("0.00"))
    created_at = Timestamptz(default=TimestamptzNow())


class Contract(Table, tablename="customer_archive_contract"):
    """合同: number unique within a branch."""

    branch_id = branch_column()
    customer = ForeignKey(Customer, on_delete=OnDelete.restrict, index=True)
    kind = Varchar(length=16, choices=ContractKind)
    number = Varchar(length=64)
    title = Varchar(length=200, default="")
    signed_on = Date(null=True, default=None)
    start_on = Date(null=True, default=None)
    end_on = Date(null=True, default=None)
    status = Varchar(length=16, choices=ContractStatus, default=ContractStatus.draft)
    amount = Numeric(digits=(18, 2), null=True, default=None)
    currency = Varchar(length=3, default="CNY")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class ContractDocument(Table, tablename="customer_archive_contract_document"):
    """合同附件, stored in the database so row-level security scopes the bytes too; served
    only through the scoped download route (never the admin, never a static mount)."""

    branch_id = branch_column()
    contract = ForeignKey(Contract, on_delete=OnDelete.restrict, index=True)
    filename = Varchar(length=255)
    content_type = Varchar(length=100)
    size = Integer()
    sha256 = Varchar(length=64)
    content = Bytea(secret=True)
    uploaded_by = ForeignKey(BaseUser, null=True, default=None, on_delete=OnDelete.restrict)
    uploaded_at = Timestamptz(default=TimestamptzNow())


class Rating(Table, tablename="customer_archive_rating"):
    """评级历史: append-only; the newest row of each kind is copied onto the customer."""

    branch_id = branch_column()
    customer = ForeignKey(Customer, on_delete=OnDelete.restrict)
    kind = Varchar(length=16, choices=RatingKind)
    value = Varchar(length=16)
    rated_by = ForeignKey(BaseUser, null=True, default=None, on_delete=OnDelete.restrict)
    """Null when a job or an import set the value."""
    source = Varchar(length=16, choices=RatingSource, default=RatingSource.manual)
    rated_at = Timestamptz(default=TimestamptzNow())
    note = Varchar(length=500, default="")


TABLES: list[type[Table]] = [
    Customer,
    CustomerAddress,
    CustomerContact,
    Product,
    Holding,
    Tag,
    CustomerTag,
    SearchKey,
    ContactChannel,
    Relation,
    Household,
    HouseholdMember,
    BalanceSnapshot,
    AumSnapshot,
    Contract,
    ContractDocument,
    Rating,
]
