"""The customer record as every feature of the archive reads, masks and audits it.

Shared by the customers' own services, the 360 view, duplicate merging and the import:
the table and audit entity names, the masking of personal data, the detail statement and
its decoding, the audit snapshot and diff of a customer, and the writing of its search
keys. Nothing here changes data by itself but :func:`write_search_keys`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import asyncpg
import msgspec

from bankcrm import db, pii
from bankcrm.context import require_scope
from bankcrm.labels import labels_of
from bankcrm.web.problems import invalid, not_found
from bankcrm_customer_archive import names
from bankcrm_customer_archive.manifest import MANIFEST
from bankcrm_customer_archive.schemas import (
    AddressOut,
    ContactOut,
    CustomerDetail,
    HoldingOut,
    TagOut,
)

CUSTOMER = "customer_archive_customer"
ADDRESS = "customer_archive_customer_address"
CONTACT = "customer_archive_customer_contact"
PRODUCT = "customer_archive_product"
HOLDING = "customer_archive_holding"
TAG = "customer_archive_tag"
CUSTOMER_TAG = "customer_archive_customer_tag"
SEARCH_KEY = "customer_archive_search_key"

PLUGIN = MANIFEST.name

ENTITY_CUSTOMER = "customer_archive.customer"
ENTITY_ADDRESS = "customer_archive.customer_address"
ENTITY_CONTACT = "customer_archive.customer_contact"
ENTITY_HOLDING = "customer_archive.holding"
ENTITY_PRODUCT = "customer_archive.product"
ENTITY_TAG = "customer_archive.tag"
ENTITY_CUSTOMER_TAG = "customer_archive.customer_tag"


# --- masking ----------------------------------------------------------------------------------


def mask_phone(value: str | None) -> str | None:
    return pii.mask(value, 3, 4)


def mask_email(value: str | None) -> str | None:
    if not value:
        return value
    local, _, domain = value.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_street(value: str) -> str:
    """Keep the road name's first characters: enough to recognise, not to find the door."""
    return value[:3] + "****" if len(value) > 3 else "****"


def mask_account(value: str) -> str:
    masked = pii.mask_account(value)
    assert masked is not None
    return masked


def masked_address(address: AddressOut) -> AddressOut:
    address.street = mask_street(address.street)
    return address


def masked_contact(contact: ContactOut) -> ContactOut:
    contact.phone = mask_phone(contact.phone)
    contact.email = mask_email(contact.email)
    return contact


def masked_holding(holding: HoldingOut) -> HoldingOut:
    holding.account_no = mask_account(holding.account_no)
    return holding


# --- SQL shared by the reads ----------------------------------------------------------------

TAGS_JSON = f"""(SELECT coalesce(json_agg(json_build_object(
    'id', t.id, 'branch_id', t.branch_id, 'name', t.name, 'color', t.color, 'kind', t.kind)
    ORDER BY t.name), '[]')
  FROM {CUSTOMER_TAG} ct JOIN {TAG} t ON t.id = ct.tag WHERE ct.customer = c.id)"""

ADDRESSES_JSON = f"""(SELECT coalesce(json_agg(json_build_object(
    'id', a.id, 'customer_id', a.customer, 'kind', a.kind, 'province', a.province,
    'city', a.city, 'district', a.district, 'street', a.street, 'postcode', a.postcode,
    'is_primary', a.is_primary) ORDER BY a.is_primary DESC, a.id), '[]')
  FROM {ADDRESS} a WHERE a.customer = c.id)"""

CONTACTS_JSON = f"""(SELECT coalesce(json_agg(json_build_object(
    'id', k.id, 'customer_id', k.customer, 'name', k.name, 'title', k.title,
    'phone', k.phone, 'email', k.email, 'is_primary', k.is_primary)
    ORDER BY k.is_primary DESC, k.id), '[]')
  FROM {CONTACT} k WHERE k.customer = c.id)"""

HOLDINGS_JSON = f"""(SELECT coalesce(json_agg(json_build_object(
    'id', h.id, 'customer_id', h.customer, 'product_id', p.id, 'product_code', p.code,
    'product_name', p.name, 'category', p.category, 'balance_type', p.balance_type,
    'account_no', h.account_no, 'balance', h.balance, 'currency', h.currency,
    'opened_on', h.opened_on, 'status', h.status, 'updated_at', h.updated_at)
    ORDER BY h.id), '[]')
  FROM {HOLDING} h JOIN {PRODUCT} p ON p.id = h.product WHERE h.customer = c.id)"""

DETAIL_COLUMNS = f"""c.id, c.branch_id, c.kind, c.name, c.name_pinyin, c.name_initials,
  c.gender, c.birth_date, c.id_type, c.id_number_masked, c.phone, c.email, c.occupation,
  c.employer, c.industry, c.relationship_manager, u.username AS relationship_manager_name,
  c.status, c.created_at, c.updated_at, c.education, c.income_band, c.marital_status,
  c.company_size, c.registered_capital, c.established_on, c.credit_grade, c.risk_tolerance,
  c.value_tier, c.last_activity_at,
  {TAGS_JSON} AS tags, {ADDRESSES_JSON} AS addresses, {CONTACTS_JSON} AS contacts"""

DETAIL_SQL = f"""SELECT {DETAIL_COLUMNS}
FROM {CUSTOMER} c LEFT JOIN piccolo_user u ON u.id = c.relationship_manager
WHERE c.id = $1 AND c.deleted_at IS NULL"""

# A view is audited in the statement that reads: one round trip, and the audit row exists
# exactly when the customer was visible. The append function is the one audit.record
# calls (same arguments: branch, action, entity, id, before, after, reason, request id).
VIEW_AUDIT = f"""v AS MATERIALIZED (
  SELECT bankcrm_audit_append(c.branch_id, 'view', '{ENTITY_CUSTOMER}', c.id::text,
                              NULL, $2::jsonb, '', $3) AS audit_id FROM c)"""

VIEW_DETAIL_SQL = f"""WITH c AS MATERIALIZED (
  SELECT * FROM {CUSTOMER} WHERE id = $1 AND deleted_at IS NULL),
{VIEW_AUDIT}
SELECT {DETAIL_COLUMNS}
FROM c CROSS JOIN v LEFT JOIN piccolo_user u ON u.id = c.relationship_manager"""

# The 360 view's statement (these columns, the holdings and every panel) is
# view_360.VIEW_360_SQL.

PROFILE_DETAIL_FIELDS = (
    "education", "income_band", "marital_status", "company_size", "registered_capital",
    "established_on", "credit_grade", "risk_tolerance", "value_tier", "last_activity_at",
)  # fmt: skip
INDIVIDUAL_ONLY = ("education", "income_band", "marital_status")
CORPORATE_ONLY = ("company_size", "registered_capital", "established_on")

ADDRESS_LIST = list[AddressOut]
CONTACT_LIST = list[ContactOut]
TAG_LIST = list[TagOut]
HOLDING_LIST = list[HoldingOut]


def request_id() -> str:
    return require_scope().request_id


DETAIL_LABELLED = (
    "kind", "gender", "id_type", "status", "value_tier", "risk_tolerance", "education",
    "income_band", "marital_status", "company_size",
)  # fmt: skip
"""Enumerated fields a customer's detail also gives by label (``<field>_label``)."""


def customer_detail(row: Mapping[str, Any]) -> CustomerDetail:
    return CustomerDetail(
        id=row["id"],
        branch_id=row["branch_id"],
        kind=row["kind"],
        name=row["name"],
        name_pinyin=row["name_pinyin"],
        name_initials=row["name_initials"],
        gender=row["gender"],
        birth_date=row["birth_date"],
        id_type=row["id_type"],
        id_number=row["id_number_masked"],
        phone=mask_phone(row["phone"]),
        email=mask_email(row["email"]),
        occupation=row["occupation"],
        employer=row["employer"],
        industry=row["industry"],
        relationship_manager_id=row["relationship_manager"],
        relationship_manager=row["relationship_manager_name"],
        status=row["status"],
        tags=msgspec.json.decode(row["tags"], type=TAG_LIST),
        addresses=[
            masked_address(a) for a in msgspec.json.decode(row["addresses"], type=ADDRESS_LIST)
        ],
        contacts=[
            masked_contact(k) for k in msgspec.json.decode(row["contacts"], type=CONTACT_LIST)
        ],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        **{name: row[name] for name in PROFILE_DETAIL_FIELDS},
        **labels_of(PLUGIN, row, DETAIL_LABELLED),
    )


def customer_snapshot(row: Mapping[str, Any]) -> dict[str, Any]:
    """What the audit trail keeps of a customer: personal data masked."""
    return {
        "branch_id": row["branch_id"],
        "kind": row["kind"],
        "name": row["name"],
        "gender": row["gender"],
        "birth_date": row["birth_date"],
        "id_type": row["id_type"],
        "id_number": row["id_number_masked"],
        "phone": mask_phone(row["phone"]),
        "email": mask_email(row["email"]),
        "occupation": row["occupation"],
        "employer": row["employer"],
        "industry": row["industry"],
        "relationship_manager_id": row["relationship_manager"],
        "status": row["status"],
        **{name: row.get(name) for name in PROFILE_DETAIL_FIELDS if name != "last_activity_at"},
    }


AUDIT_FIELD_OF = {
    "id_number_masked": "id_number",
    "relationship_manager": "relationship_manager_id",
}


def audit_diff(
    before: Mapping[str, Any], after: Mapping[str, Any], snapshot: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Changed fields, compared in clear and recorded masked (``snapshot`` masks)."""
    before, after = dict(before), dict(after)
    changed = {AUDIT_FIELD_OF.get(k, k) for k in after if before.get(k) != after.get(k)}
    old, new = snapshot(before), snapshot(after)
    return ({k: old[k] for k in changed if k in old}, {k: new[k] for k in changed if k in new})


async def write_search_keys(row: Mapping[str, Any], *, replace: bool = False) -> None:
    if replace:
        await db.fetch(f"DELETE FROM {SEARCH_KEY} WHERE customer = $1", row["id"])
    keys = names.search_keys(
        row["name"], individual=row["kind"] == "individual", phone=row["phone"]
    )
    await db.fetch(
        f"INSERT INTO {SEARCH_KEY} (branch_id, customer, key) SELECT $1, $2, unnest($3::text[])",
        row["branch_id"],
        row["id"],
        keys,
    )


# --- 360 ------------------------------------------------------------------------------------


def sum_by_currency(holdings: Iterable[HoldingOut], balance_type: str) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for h in holdings:
        if h.balance_type == balance_type and h.status != "closed":
            totals[h.currency] = totals.get(h.currency, Decimal("0.00")) + h.balance
    return totals


# --- scope and existence, as every write checks them -------------------------------------


def branch_in_scope(branch_id: int | None, field_name: str) -> int:
    """The branch a new row goes to: the one asked for, else the actor's home branch; a
    problem at ``field_name`` when there is none or it is outside the actor's scope."""
    scope = require_scope()
    chosen = branch_id if branch_id is not None else scope.home_branch_id
    if chosen is None:
        raise invalid(field_name, "required: you have no home branch")
    if chosen not in scope.branch_ids:
        raise invalid(field_name, "the branch is outside your scope")
    return chosen


async def live_customer(customer_id: int) -> asyncpg.Record:
    """The customer's id, branch and kind; 404 when it is deleted or not visible."""
    row = await db.fetchrow(
        f"SELECT id, branch_id, kind FROM {CUSTOMER} WHERE id = $1 AND deleted_at IS NULL",
        customer_id,
    )
    if row is None:
        raise not_found(f"customer {customer_id}")
    return row
