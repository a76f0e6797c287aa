"""Request and response shapes of the customer profile (:mod:`.profile`): contact channels,
relations, households, balance and AUM snapshots, contracts with their documents, ratings.

Phone-like channel values are masked in every response, as the customer's own phone is.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from msgspec import UNSET, Meta, Struct, UnsetType

from bankcrm_customer_archive.schemas import Currency, Id

ChannelKindName = Literal["mobile", "phone", "email", "wechat", "fax"]
RelationKindName = Literal[
    "spouse", "parent", "child", "sibling", "family", "guarantor", "shareholder",
    "legal_representative", "actual_controller",
]  # fmt: skip
ContractKindName = Literal["loan", "deposit", "wealth", "custody", "service", "guarantee"]
ContractStatusName = Literal["draft", "active", "expired", "terminated"]
RatingKindName = Literal["credit_grade", "risk_tolerance", "value_tier"]
RatingSourceName = Literal["manual", "job", "import"]

ChannelValue = Annotated[str, Meta(min_length=1, max_length=254)]
Label = Annotated[str, Meta(max_length=50)]
Note = Annotated[str, Meta(max_length=200)]
HouseholdName = Annotated[str, Meta(min_length=1, max_length=100)]
ContractNumber = Annotated[str, Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_/\-]{0,63}$")]
ContractTitle = Annotated[str, Meta(max_length=200)]
RatingValue = Annotated[str, Meta(min_length=1, max_length=16)]
RatingNote = Annotated[str, Meta(max_length=500)]


class _In(Struct, forbid_unknown_fields=True, kw_only=True):
    """Unknown fields are refused, so a misspelt field is an error, not silently lost."""


# --- contact channels -------------------------------------------------------------------------


class ChannelIn(_In):
    kind: ChannelKindName
    value: ChannelValue
    """Mobile, phone and fax numbers are checked and normalised like the customer's phone;
    e-mail addresses must look like one; WeChat IDs are 6 to 20 letters, digits, _ or -."""
    label: Label = ""
    is_primary: bool = False
    """At most one primary per kind: marking one clears the others of that kind."""


class ChannelPatch(_In):
    value: ChannelValue | UnsetType = UNSET
    label: Label | UnsetType = UNSET
    is_primary: bool | UnsetType = UNSET


class ChannelOut(Struct):
    id: int
    customer_id: int
    kind: str
    value: str
    """Masked for mobile, phone, fax and e-mail."""
    label: str
    is_primary: bool


# --- relations --------------------------------------------------------------------------------


class RelationIn(_In):
    """``related_id`` is this customer's ``kind``: e.g. kind=guarantor names the guarantor."""

    kind: RelationKindName
    related_id: Id
    share_ratio: float | None = None
    """Shareholders only: percent of the shares, more than 0 and at most 100 (at most four
    decimal places)."""
    note: Note = ""


class RelationPatch(_In):
    share_ratio: float | UnsetType | None = UNSET
    note: Note | UnsetType = UNSET


class RelationOut(Struct):
    id: int
    customer_id: int
    related_id: int
    related_name: str
    kind: str
    direction: Literal["outgoing", "incoming"]
    """``outgoing``: the related customer is this customer's ``kind``; ``incoming``: this
    customer is the related customer's ``kind`` (a one-way relation seen from its target)."""
    share_ratio: Decimal | None
    note: str
    created_at: datetime


# --- households -------------------------------------------------------------------------------


class HouseholdIn(_In):
    name: HouseholdName
    head_id: Id
    customer_ids: Annotated[list[Id], Meta(max_length=30)] = []
    """Further members besides the head."""


class HouseholdPatch(_In):
    name: HouseholdName | UnsetType = UNSET
    head_id: Id | UnsetType = UNSET
    """Must already be a member."""


class HouseholdMemberIn(_In):
    customer_id: Id


class HouseholdMemberOut(Struct):
    customer_id: int
    name: str
    kind: str
    role: str


class HouseholdOut(Struct):
    id: int
    branch_id: int
    name: str
    head_id: int
    members: list[HouseholdMemberOut]
    """Members visible to you (a member of a branch outside your scope is left out)."""
    created_at: datetime
    updated_at: datetime


# --- snapshots --------------------------------------------------------------------------------


class AumPoint(Struct):
    snapshot_on: date
    aum: Decimal


class AumHistory(Struct):
    customer_id: int
    currency: str
    """Always CNY: foreign-currency holdings are converted at the branch's configured rates."""
    points: list[AumPoint]
    """Oldest first."""


class BalancePoint(Struct):
    snapshot_on: date
    balance: Decimal
    currency: str


class SnapshotRun(Struct):
    snapshot_on: date
    holdings: int
    """Balance snapshots written or changed by this run (0 on a repeated run)."""
    customers: int
    """AUM snapshots written or changed by this run."""


# --- contracts ------------------------------------------------------------------------------


class ContractIn(_In):
    kind: ContractKindName
    number: ContractNumber
    """Unique within the customer's branch."""
    title: ContractTitle = ""
    signed_on: date | None = None
    start_on: date | None = None
    end_on: date | None = None
    status: ContractStatusName = "draft"
    amount: Decimal | None = None
    currency: Currency = "CNY"


class ContractPatch(_In):
    """Kind and number identify a contract and stay fixed."""

    title: ContractTitle | UnsetType = UNSET
    signed_on: date | UnsetType | None = UNSET
    start_on: date | UnsetType | None = UNSET
    end_on: date | UnsetType | None = UNSET
    status: ContractStatusName | UnsetType = UNSET
    """draft -> active or terminated; active -> expired or terminated; no way back."""
    amount: Decimal | UnsetType | None = UNSET
    currency: Currency | UnsetType = UNSET


class DocumentOut(Struct):
    id: int
    contract_id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: int | None
    uploaded_at: datetime


class ContractOut(Struct):
    id: int
    branch_id: int
    customer_id: int
    kind: str
    number: str
    title: str
    signed_on: date | None
    start_on: date | None
    end_on: date | None
    status: str
    amount: Decimal | None
    currency: str
    created_at: datetime
    updated_at: datetime
    documents: list[DocumentOut] = []


# --- ratings --------------------------------------------------------------------------------


class RatingIn(_In):
    kind: RatingKindName
    value: RatingValue
    """credit_grade: AAA AA A BBB BB B CCC CC C D; risk_tolerance: C1..C5;
    value_tier: private wealth affluent mass."""
    note: RatingNote = ""


class RatingOut(Struct):
    id: int
    customer_id: int
    kind: str
    value: str
    previous: str | None
    """The customer's value of this kind before this rating."""
    source: str
    rated_by: int | None
    rated_by_name: str | None
    rated_at: datetime
    note: str
