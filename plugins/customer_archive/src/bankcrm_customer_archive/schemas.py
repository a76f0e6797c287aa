"""Request and response shapes (msgspec): what the REST API and other plugins exchange.

Responses never carry personal data in clear: ID numbers, phones, e-mail addresses,
streets and account numbers are masked; :class:`RevealedPii` is the one exception, served
only by the audited reveal.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from msgspec import UNSET, Meta, Struct, UnsetType

Kind = Literal["individual", "corporate"]
IdTypeName = Literal["resident_id", "passport", "uscc"]
GenderCode = Literal["M", "F"]
CustomerStatusName = Literal["active", "dormant", "closed"]
AddressKindName = Literal["home", "office", "registered", "mailing"]
CategoryName = Literal["deposit", "loan", "card", "wealth"]
SegmentName = Literal["individual", "corporate"]
BalanceTypeName = Literal["asset", "credit"]
HoldingStatusName = Literal["active", "frozen", "closed"]
EducationName = Literal["primary", "secondary", "vocational", "bachelor", "master", "doctorate"]
IncomeBandName = Literal["lt_100k", "100k_300k", "300k_1m", "1m_5m", "gt_5m"]
MaritalStatusName = Literal["single", "married", "divorced", "widowed"]
CompanySizeName = Literal["micro", "small", "medium", "large"]

Name = Annotated[str, Meta(min_length=1, max_length=200)]
ShortText = Annotated[str, Meta(max_length=100)]
Region = Annotated[str, Meta(min_length=1, max_length=50)]
Street = Annotated[str, Meta(min_length=1, max_length=200)]
Postcode = Annotated[str, Meta(pattern=r"^(\d{6})?$")]
PhoneText = Annotated[str, Meta(max_length=32)]
Email = Annotated[str, Meta(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
IdNumber = Annotated[str, Meta(min_length=1, max_length=32)]
AccountNo = Annotated[str, Meta(pattern=r"^\d{10,32}$")]
Currency = Annotated[str, Meta(pattern=r"^[A-Z]{3}$")]
ProductCode = Annotated[str, Meta(pattern=r"^[A-Z0-9][A-Z0-9-]{0,31}$")]
TagName = Annotated[str, Meta(min_length=1, max_length=32)]
Color = Annotated[str, Meta(pattern=r"^#[0-9a-fA-F]{6}$")]
Id = Annotated[int, Meta(ge=1, le=2**31 - 1)]


class _In(Struct, forbid_unknown_fields=True, kw_only=True):
    """Unknown fields are refused, so a misspelt field is an error, not silently lost."""


# --- inputs ---------------------------------------------------------------------------------


class AddressIn(_In):
    kind: AddressKindName
    province: Region
    city: Region
    street: Street
    district: Annotated[str, Meta(max_length=50)] = ""
    postcode: Postcode = ""
    is_primary: bool = False


class AddressPatch(_In):
    kind: AddressKindName | UnsetType = UNSET
    province: Region | UnsetType = UNSET
    city: Region | UnsetType = UNSET
    district: Annotated[str, Meta(max_length=50)] | UnsetType = UNSET
    street: Street | UnsetType = UNSET
    postcode: Postcode | UnsetType = UNSET
    is_primary: bool | UnsetType = UNSET


class ContactIn(_In):
    name: Annotated[str, Meta(min_length=1, max_length=100)]
    title: ShortText = ""
    phone: PhoneText | None = None
    email: Email | None = None
    is_primary: bool = False


class ContactPatch(_In):
    name: Annotated[str, Meta(min_length=1, max_length=100)] | UnsetType = UNSET
    title: ShortText | UnsetType = UNSET
    phone: PhoneText | UnsetType | None = UNSET
    email: Email | UnsetType | None = UNSET
    is_primary: bool | UnsetType = UNSET


class CustomerIn(_In):
    kind: Kind
    name: Name
    id_type: IdTypeName
    id_number: IdNumber
    branch_id: Id | None = None
    """Defaults to the actor's home branch; must be within the actor's scope."""
    phone: PhoneText | None = None
    email: Email | None = None
    gender: GenderCode | None = None
    birth_date: date | None = None
    occupation: ShortText | None = None
    employer: Annotated[str, Meta(max_length=200)] | None = None
    industry: ShortText | None = None
    relationship_manager_id: Id | None = None
    status: CustomerStatusName = "active"
    education: EducationName | None = None
    """Individuals only, like ``income_band`` and ``marital_status``."""
    income_band: IncomeBandName | None = None
    marital_status: MaritalStatusName | None = None
    company_size: CompanySizeName | None = None
    """Companies only, like ``registered_capital`` (CNY) and ``established_on``."""
    registered_capital: Decimal | None = None
    established_on: date | None = None
    addresses: Annotated[list[AddressIn], Meta(max_length=10)] = []
    contacts: Annotated[list[ContactIn], Meta(max_length=20)] = []
    tags: Annotated[list[TagName], Meta(max_length=50)] = []
    """Names of tags of the customer's branch."""


class CustomerPatch(_In):
    """Kind and branch are fixed once a customer exists."""

    name: Name | UnsetType = UNSET
    id_type: IdTypeName | UnsetType = UNSET
    id_number: IdNumber | UnsetType = UNSET
    phone: PhoneText | UnsetType | None = UNSET
    email: Email | UnsetType | None = UNSET
    gender: GenderCode | UnsetType | None = UNSET
    birth_date: date | UnsetType | None = UNSET
    occupation: ShortText | UnsetType | None = UNSET
    employer: Annotated[str, Meta(max_length=200)] | UnsetType | None = UNSET
    industry: ShortText | UnsetType | None = UNSET
    relationship_manager_id: Id | UnsetType | None = UNSET
    status: CustomerStatusName | UnsetType = UNSET
    education: EducationName | UnsetType | None = UNSET
    income_band: IncomeBandName | UnsetType | None = UNSET
    marital_status: MaritalStatusName | UnsetType | None = UNSET
    company_size: CompanySizeName | UnsetType | None = UNSET
    registered_capital: Decimal | UnsetType | None = UNSET
    established_on: date | UnsetType | None = UNSET
    # Ratings are not patched here: POST /customers/{id}/ratings keeps their history.


class HoldingIn(_In):
    product_code: ProductCode
    account_no: AccountNo
    balance: Decimal = Decimal("0.00")
    currency: Currency = "CNY"
    opened_on: date | None = None
    status: HoldingStatusName = "active"


class HoldingPatch(_In):
    balance: Decimal | UnsetType = UNSET
    currency: Currency | UnsetType = UNSET
    opened_on: date | UnsetType | None = UNSET
    status: HoldingStatusName | UnsetType = UNSET


class ProductIn(_In):
    code: ProductCode
    name: Annotated[str, Meta(min_length=1, max_length=100)]
    category: CategoryName
    name_en: Annotated[str, Meta(max_length=200)] = ""
    segment: SegmentName = "individual"
    balance_type: BalanceTypeName = "asset"
    currency: Currency = "CNY"
    active: bool = True


class ProductPatch(_In):
    """The code and category identify a product and stay fixed."""

    name: Annotated[str, Meta(min_length=1, max_length=100)] | UnsetType = UNSET
    name_en: Annotated[str, Meta(max_length=200)] | UnsetType = UNSET
    segment: SegmentName | UnsetType = UNSET
    balance_type: BalanceTypeName | UnsetType = UNSET
    currency: Currency | UnsetType = UNSET
    active: bool | UnsetType = UNSET


class TagIn(_In):
    name: TagName
    color: Color = "#1677ff"
    branch_id: Id | None = None
    """Defaults to the actor's home branch; must be within the actor's scope."""


class TagPatch(_In):
    name: TagName | UnsetType = UNSET
    color: Color | UnsetType = UNSET


class CustomerTagIn(_In):
    tag_id: Id


RevealField = Literal["id_number", "phone", "email", "addresses", "contacts", "holdings"]


class RevealIn(_In):
    reason: Annotated[str, Meta(min_length=2, max_length=500)]
    """Why the clear values are needed; kept in the audit trail."""
    fields: Annotated[list[RevealField], Meta(min_length=1, max_length=6)] | None = None
    """Only these (the audit names them); omitted: all of them."""


# --- outputs --------------------------------------------------------------------------------


class AddressOut(Struct):
    id: int
    customer_id: int
    kind: str
    province: str
    city: str
    district: str
    street: str
    """Masked: the first characters only."""
    postcode: str
    is_primary: bool


class ContactOut(Struct):
    id: int
    customer_id: int
    name: str
    title: str
    phone: str | None
    """Masked."""
    email: str | None
    """Masked."""
    is_primary: bool


class TagOut(Struct):
    id: int
    branch_id: int
    name: str
    color: str
    kind: str = "manual"
    """``manual`` (set by staff) or ``rule`` (set by its rule, see ``/tag-rules``)."""


class CustomerSummary(Struct):
    id: int
    branch_id: int
    kind: str
    name: str
    name_pinyin: str
    gender: str | None
    id_type: str
    id_number: str
    """Masked."""
    phone: str | None
    """Masked."""
    status: str
    relationship_manager_id: int | None
    tags: list[str]
    created_at: datetime
    value_tier: str | None = None
    credit_grade: str | None = None
    risk_tolerance: str | None = None
    aum: Decimal = Decimal("0.00")
    """Assets under management: open asset holdings in CNY."""
    kind_label: str | None = None
    """Labels of the enumerated fields in the request's language (Accept-Language)."""
    gender_label: str | None = None
    id_type_label: str | None = None
    status_label: str | None = None
    value_tier_label: str | None = None
    risk_tolerance_label: str | None = None


class CustomerDetail(Struct):
    id: int
    branch_id: int
    kind: str
    name: str
    name_pinyin: str
    name_initials: str
    gender: str | None
    birth_date: date | None
    id_type: str
    id_number: str
    """Masked."""
    phone: str | None
    """Masked."""
    email: str | None
    """Masked."""
    occupation: str | None
    employer: str | None
    industry: str | None
    relationship_manager_id: int | None
    relationship_manager: str | None
    """The relationship manager's user name."""
    status: str
    tags: list[TagOut]
    addresses: list[AddressOut]
    contacts: list[ContactOut]
    created_at: datetime
    updated_at: datetime
    education: str | None = None
    income_band: str | None = None
    marital_status: str | None = None
    company_size: str | None = None
    registered_capital: Decimal | None = None
    established_on: date | None = None
    credit_grade: str | None = None
    risk_tolerance: str | None = None
    value_tier: str | None = None
    last_activity_at: datetime | None = None
    kind_label: str | None = None
    """Labels of the enumerated fields in the request's language (Accept-Language)."""
    gender_label: str | None = None
    id_type_label: str | None = None
    status_label: str | None = None
    value_tier_label: str | None = None
    risk_tolerance_label: str | None = None
    education_label: str | None = None
    income_band_label: str | None = None
    marital_status_label: str | None = None
    company_size_label: str | None = None


class ProductOut(Struct):
    id: int
    code: str
    name: str
    name_en: str
    category: str
    segment: str
    balance_type: str
    currency: str
    active: bool


class HoldingOut(Struct):
    id: int
    customer_id: int
    product_id: int
    product_code: str
    product_name: str
    category: str
    balance_type: str
    account_no: str
    """Masked."""
    balance: Decimal
    currency: str
    opened_on: date | None
    status: str
    updated_at: datetime


class RevealedAddress(Struct):
    id: int
    street: str


class RevealedContact(Struct):
    id: int
    phone: str | None
    email: str | None


class RevealedHolding(Struct):
    id: int
    account_no: str


class RevealedPii(Struct):
    """Clear values of one customer's personal data; each reveal is audited."""

    customer_id: int
    id_number: str | None = None
    """Null (as every part below) when not asked for."""
    phone: str | None = None
    email: str | None = None
    addresses: list[RevealedAddress] = []
    contacts: list[RevealedContact] = []
    holdings: list[RevealedHolding] = []
    fields: list[str] = []
    """What was revealed (and audited)."""


class SectionOut(Struct):
    key: str
    plugin: str
    title: str
    title_en: str
    data: dict[str, Any]
    labels: dict[str, dict[str, str]] = {}
    """Labels of the data's keys, ``{"zh": …, "en": …}``, as the plugin declared them."""
    actions: list[dict[str, str]] = []
    """``{"title", "title_en", "url"}``: what the viewer may do from this section."""


class Customer360(Struct):
    customer_id: int
    branch_id: int
    sections: list[SectionOut]
