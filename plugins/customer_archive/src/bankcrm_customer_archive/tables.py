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
    Boolean,
    Date,
    ForeignKey,
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


class Tag(Table, tablename="customer_archive_tag"):
    """A branch's own tag vocabulary: a customer is tagged only with its branch's tags."""

    branch_id = branch_column()
    name = Varchar(length=32)
    color = Varchar(length=7, default="#1677ff")
    created_at = Timestamptz(default=TimestamptzNow())


class CustomerTag(Table, tablename="customer_archive_customer_tag"):
    # Indexed by the unique (customer, tag) and (tag, customer) pairs of the search migration.
    branch_id = branch_column()
    customer = ForeignKey(Customer, on_delete=OnDelete.restrict)
    tag = ForeignKey(Tag, on_delete=OnDelete.restrict)
    created_at = Timestamptz(default=TimestamptzNow())


class SearchKey(Table, tablename="customer_archive_search_key"):
    """Derived rows that make customers findable by name, pinyin, initials and phone
    digits under row-level security (see :mod:`bankcrm_customer_archive.names`).
    Rewritten by the services whenever a customer's name or phone changes."""

    branch_id = branch_column()
    customer = ForeignKey(Customer, on_delete=OnDelete.restrict, index=True)
    key = Varchar(length=400)


TABLES: list[type[Table]] = [
    Customer,
    CustomerAddress,
    CustomerContact,
    Product,
    Holding,
    Tag,
    CustomerTag,
    SearchKey,
]
