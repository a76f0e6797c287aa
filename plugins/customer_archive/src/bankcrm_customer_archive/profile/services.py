"""The customer profile (客户档案) beyond the basic data: contact channels, relations
between customers, households, balance and AUM snapshots, contracts with their documents,
and ratings with their history.

Like :mod:`.services`, every function runs under the bound scope: row-level security
decides which customers exist, so a customer of another branch is "not found" here too,
and a relation or household member may only name a customer the actor can see. Child
rows carry the branch of their own customer. Every change is audited (personal data
masked) in the transaction that makes it; a document download is audited as a view.

Public for other plugins: :func:`record_rating` (one customer), :func:`record_ratings`
(many, set-based, for jobs), :func:`take_snapshots` and :func:`aum_history`.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
import unicodedata
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import asyncpg
import msgspec
from msgspec import UNSET

from bankcrm import audit, branches, db
from bankcrm.context import Scope, require_scope
from bankcrm.web.problems import FieldError, Problem, invalid, not_found
from bankcrm_customer_archive import events
from bankcrm_customer_archive.access import CONTRACT_READ, HOLDING_READ
from bankcrm_customer_archive.profile.schemas import (
    AumHistory,
    AumPoint,
    BalancePoint,
    ChannelIn,
    ChannelOut,
    ChannelPatch,
    ContractIn,
    ContractOut,
    ContractPatch,
    DocumentOut,
    HouseholdIn,
    HouseholdMemberOut,
    HouseholdOut,
    HouseholdPatch,
    RatingIn,
    RatingOut,
    RelationIn,
    RelationOut,
    RelationPatch,
    SnapshotRun,
)
from bankcrm_customer_archive.records import (
    CUSTOMER,
    ENTITY_CUSTOMER,
    HOLDING,
    PRODUCT,
    mask_email,
    mask_phone,
)
from bankcrm_customer_archive.sections import Section
from bankcrm_customer_archive.settings import CustomerArchiveSettings
from bankcrm_customer_archive.tables import (
    CreditGrade,
    RatingKind,
    RatingSource,
    RiskTolerance,
    ValueTier,
)
from bankcrm_customer_archive.validation import (
    Problems,
    check_amount,
    check_not_future,
    normalise_phone,
)

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "PANELS_360_COLUMNS",
    "add_channel",
    "add_household_member",
    "add_relation",
    "aum_history",
    "aum_trend_dates",
    "balance_history",
    "create_contract",
    "create_household",
    "delete_channel",
    "delete_contract",
    "delete_document",
    "delete_household",
    "delete_relation",
    "get_contract",
    "get_household",
    "list_channels",
    "list_contracts",
    "list_documents",
    "list_ratings",
    "list_relations",
    "profile_sections",
    "read_document",
    "record_rating",
    "record_ratings",
    "remove_household_member",
    "take_snapshots",
    "update_channel",
    "update_contract",
    "update_household",
    "update_relation",
    "upload_document",
]

log = logging.getLogger(__name__)

CHANNEL = "customer_archive_contact_channel"
RELATION = "customer_archive_relation"
HOUSEHOLD = "customer_archive_household"
MEMBER = "customer_archive_household_member"
BALANCE_SNAPSHOT = "customer_archive_balance_snapshot"
AUM_SNAPSHOT = "customer_archive_aum_snapshot"
CONTRACT = "customer_archive_contract"
DOCUMENT = "customer_archive_contract_document"
RATING = "customer_archive_rating"

# Entities as the admin's audit names them too (<plugin>.<table without prefix>).
ENTITY_CHANNEL = "customer_archive.contact_channel"
ENTITY_RELATION = "customer_archive.relation"
ENTITY_HOUSEHOLD = "customer_archive.household"
ENTITY_MEMBER = "customer_archive.household_member"
ENTITY_SNAPSHOT = "customer_archive.aum_snapshot"
ENTITY_CONTRACT = "customer_archive.contract"
ENTITY_DOCUMENT = "customer_archive.contract_document"
ENTITY_RATING = "customer_archive.rating"

CHINA = timezone(timedelta(hours=8))
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
"""Largest contract document accepted (20 MiB)."""
AUM_HISTORY_MAX_DAYS = 3 * 366


def business_date() -> date:
    """Today in Beijing time: the bank's business date, whatever the server's zone."""
    return datetime.now(CHINA).date()


async def _live_customer(customer_id: int, *, lock: bool = False) -> asyncpg.Record:
    row = await db.fetchrow(
        f"SELECT id, branch_id, kind, name, credit_grade, risk_tolerance, value_tier"
        f" FROM {CUSTOMER} WHERE id = $1 AND deleted_at IS NULL" + (" FOR UPDATE" if lock else ""),
        customer_id,
    )
    if row is None:
        raise not_found(f"customer {customer_id}")
    return row


async def _visible_customer(customer_id: int, field_name: str) -> asyncpg.Record:
    """A customer named in a body: one the actor cannot see is refused like a typo."""
    row = await db.fetchrow(
        f"SELECT id, branch_id, kind, name FROM {CUSTOMER} WHERE id = $1 AND deleted_at IS NULL",
        customer_id,
    )
    if row is None:
        raise invalid(field_name, "no such customer visible to you")
    return row


def _changes(row: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if row[k] != v}


async def _update_row(table: str, row_id: int, changed: Mapping[str, Any]) -> asyncpg.Record:
    assignments = ", ".join(f"{k} = ${i + 2}" for i, k in enumerate(changed))
    updated = await db.fetchrow(
        f"UPDATE {table} SET {assignments}, updated_at = now() WHERE id = $1 RETURNING *",
        row_id,
        *changed.values(),
    )
    assert updated is not None
    return updated


async def _customer_updated(customer_id: int, branch_id: int, field_name: str) -> None:
    await events.emit(
        events.CUSTOMER_UPDATED, customer_id=customer_id, branch_id=branch_id, fields=[field_name]
    )


# --- contact channels --------------------------------------------------------------------------

_WECHAT = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{5,19}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_NUMBER_KINDS = frozenset({"mobile", "phone", "fax"})


def _channel_value(problems: Problems, kind: str, raw: str, name: str) -> str:
    value = raw.strip()
    if kind in _NUMBER_KINDS:
        number = normalise_phone(value)
        if number is None:
            problems.add(name, "not a mainland mobile or landline number")
            return value
        if kind == "mobile" and "-" in number:
            problems.add(name, "a landline number is not a mobile number")
        return number
    if kind == "email":
        if not _EMAIL.match(value):
            problems.add(name, "not an e-mail address")
        return value.lower()
    if not _WECHAT.match(value):
        problems.add(name, "a WeChat ID is 6 to 20 letters, digits, _ or -, starting with a letter")
    return value


def _mask_channel(kind: str, value: str) -> str:
    if kind in _NUMBER_KINDS:
        return mask_phone(value) or ""
    if kind == "email":
        return mask_email(value) or ""
    return value


def _channel_snapshot(row: Mapping[str, Any]) -> dict[str, Any]:
    snapshot = {k: row[k] for k in ("kind", "label", "is_primary") if k in row}
    if "value" in row:
        snapshot["value"] = _mask_channel(row["kind"], row["value"])
    return snapshot


def _channel_out(row: Mapping[str, Any]) -> ChannelOut:
    return ChannelOut(
        row["id"], row["customer"], row["kind"], _mask_channel(row["kind"], row["value"]),
        row["label"], row["is_primary"],
    )  # fmt: skip


def _duplicate_channel() -> Problem:
    return Problem(
        409,
        "the customer already has this channel",
        [FieldError("body.value", "already recorded for this customer")],
        "duplicate",
    )


async def list_channels(customer_id: int) -> list[ChannelOut]:
    await _live_customer(customer_id)
    rows = await db.fetch(
        f"SELECT * FROM {CHANNEL} WHERE customer = $1 ORDER BY kind, is_primary DESC, id",
        customer_id,
    )
    return [_channel_out(r) for r in rows]


async def _clear_primary(customer_id: int, kind: str, keep_id: int) -> None:
    await db.fetch(
        f"UPDATE {CHANNEL} SET is_primary = false, updated_at = now()"
        " WHERE customer = $1 AND kind = $2 AND id <> $3 AND is_primary",
        customer_id,
        kind,
        keep_id,
    )


async def add_channel(customer_id: int, data: ChannelIn) -> ChannelOut:
    problems = Problems()
    value = _channel_value(problems, data.kind, data.value, "body.value")
    problems.raise_if_any()
    try:
        async with db.transaction():
            customer = await _live_customer(customer_id, lock=True)
            row = await db.fetchrow(
                f"INSERT INTO {CHANNEL} (branch_id, customer, kind, value, label, is_primary,"
                " created_at, updated_at) VALUES ($1, $2, $3, $4, $5, false, now(), now())"
                " RETURNING *",
                customer["branch_id"], customer_id, data.kind, value, data.label.strip(),
            )  # fmt: skip
            assert row is not None
            if data.is_primary:
                # Clear first: the partial unique index allows one primary per kind.
                await _clear_primary(customer_id, data.kind, row["id"])
                row = await db.fetchrow(
                    f"UPDATE {CHANNEL} SET is_primary = true WHERE id = $1 RETURNING *", row["id"]
                )
                assert row is not None
            await audit.record(
                audit.Action.CREATE, ENTITY_CHANNEL, row["id"], branch_id=customer["branch_id"],
                after={"customer_id": customer_id, **_channel_snapshot(row)},
            )  # fmt: skip
            await _customer_updated(customer_id, customer["branch_id"], "channels")
    except asyncpg.UniqueViolationError as exc:
        raise _duplicate_channel() from exc
    return _channel_out(row)


async def _locked_channel(customer_id: int, channel_id: int) -> asyncpg.Record:
    await _live_customer(customer_id, lock=True)
    row = await db.fetchrow(
        f"SELECT * FROM {CHANNEL} WHERE id = $1 AND customer = $2 FOR UPDATE",
        channel_id,
        customer_id,
    )
    if row is None:
        raise not_found(f"channel {channel_id} of customer {customer_id}")
    return row


async def update_channel(customer_id: int, channel_id: int, data: ChannelPatch) -> ChannelOut:
    try:
        async with db.transaction():
            row = await _locked_channel(customer_id, channel_id)
            problems = Problems()
            values: dict[str, Any] = {}
            if data.value is not UNSET:
                values["value"] = _channel_value(problems, row["kind"], data.value, "body.value")
            if data.label is not UNSET:
                values["label"] = data.label.strip()
            if data.is_primary is not UNSET:
                values["is_primary"] = data.is_primary
            problems.raise_if_any()
            changed = _changes(row, values)
            if not changed:
                return _channel_out(row)
            if changed.get("is_primary"):
                await _clear_primary(customer_id, row["kind"], channel_id)
            updated = await _update_row(CHANNEL, channel_id, changed)
            old, new = _channel_snapshot(row), _channel_snapshot(updated)
            await audit.record(
                audit.Action.UPDATE, ENTITY_CHANNEL, channel_id, branch_id=row["branch_id"],
                before={k: old[k] for k in changed}, after={k: new[k] for k in changed},
            )  # fmt: skip
            await _customer_updated(customer_id, row["branch_id"], "channels")
    except asyncpg.UniqueViolationError as exc:
        raise _duplicate_channel() from exc
    return _channel_out(updated)


async def delete_channel(customer_id: int, channel_id: int) -> None:
    async with db.transaction():
        row = await _locked_channel(customer_id, channel_id)
        await db.fetch(f"DELETE FROM {CHANNEL} WHERE id = $1", channel_id)
        await audit.record(
            audit.Action.DELETE, ENTITY_CHANNEL, channel_id, branch_id=row["branch_id"],
            before={"customer_id": customer_id, **_channel_snapshot(row)},
        )  # fmt: skip
        await _customer_updated(customer_id, row["branch_id"], "channels")


# --- relations --------------------------------------------------------------------------------

INVERSE = {
    "spouse": "spouse",
    "sibling": "sibling",
    "family": "family",
    "parent": "child",
    "child": "parent",
}
"""Kinds stored in both directions, and the kind the mirror row carries."""
FAMILY_KINDS = frozenset(INVERSE)
CORPORATE_KINDS = frozenset({"shareholder", "legal_representative", "actual_controller"})
"""Relations of a company: the related customer is its shareholder, legal representative
or actual controller."""

_RELATION_SELECT = f"""SELECT r.id, r.customer, r.related, r.kind, r.share_ratio, r.note,
  r.created_at, o.name AS other_name, CASE WHEN r.customer = $1 THEN 'outgoing'
  ELSE 'incoming' END AS direction
FROM {RELATION} r JOIN {CUSTOMER} o
  ON o.id = CASE WHEN r.customer = $1 THEN r.related ELSE r.customer END"""


def _relation_out(row: Mapping[str, Any]) -> RelationOut:
    outgoing = row["direction"] == "outgoing"
    return RelationOut(
        id=row["id"],
        customer_id=row["customer"] if outgoing else row["related"],
        related_id=row["related"] if outgoing else row["customer"],
        related_name=row["other_name"],
        kind=row["kind"],
        direction=row["direction"],
        share_ratio=row["share_ratio"],
        note=row["note"],
        created_at=row["created_at"],
    )


def _relation_snapshot(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "customer_id": row["customer"], "related_id": row["related"], "kind": row["kind"],
        "share_ratio": row["share_ratio"], "note": row["note"],
    }  # fmt: skip


def _check_share_ratio(problems: Problems, kind: str, number: float | None) -> Decimal | None:
    if number is None:
        return None
    ratio = Decimal(repr(number))  # the shortest decimal that reads back as the number
    if kind != "shareholder":
        problems.add("body.share_ratio", "only a shareholder has a share ratio")
        return None
    if not ratio.is_finite() or not Decimal(0) < ratio <= Decimal(100):
        problems.add("body.share_ratio", "a percentage above 0 and at most 100")
        return None
    if ratio != ratio.quantize(Decimal("0.0001")):
        problems.add("body.share_ratio", "at most four decimal places")
        return None
    return ratio.quantize(Decimal("0.0001"))


async def list_relations(customer_id: int) -> list[RelationOut]:
    """The customer's relations (outgoing), then one-way relations naming it (incoming)."""
    await _live_customer(customer_id)
    rows = await db.fetch(
        f"{_RELATION_SELECT} WHERE (r.customer = $1 OR (r.related = $1 AND NOT r.kind = ANY($2)))"
        " AND o.deleted_at IS NULL ORDER BY direction DESC, r.kind, r.id",
        customer_id,
        list(FAMILY_KINDS),
    )
    return [_relation_out(r) for r in rows]


async def add_relation(customer_id: int, data: RelationIn) -> RelationOut:
    """Relate two customers the actor can see; symmetric kinds get their mirror row."""
    problems = Problems()
    ratio = _check_share_ratio(problems, data.kind, data.share_ratio)
    if data.related_id == customer_id:
        problems.add("body.related_id", "a customer cannot be related to itself")
    problems.raise_if_any()
    try:
        async with db.transaction():
            customer = await _live_customer(customer_id, lock=True)
            related = await _visible_customer(data.related_id, "body.related_id")
            if data.kind in CORPORATE_KINDS and customer["kind"] != "corporate":
                problems.add("body.kind", f"only a company has a {data.kind}")
            if data.kind in FAMILY_KINDS and "corporate" in (customer["kind"], related["kind"]):
                problems.add("body.kind", "family relations are between individuals")
            if data.kind == "legal_representative" and related["kind"] != "individual":
                problems.add("body.related_id", "a legal representative is a person")
            problems.raise_if_any()
            row = await db.fetchrow(
                f"INSERT INTO {RELATION} (branch_id, customer, related, kind, share_ratio, note,"
                " created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, now(), now())"
                " RETURNING *",
                customer["branch_id"], customer_id, data.related_id, data.kind, ratio,
                data.note.strip(),
            )  # fmt: skip
            assert row is not None
            await audit.record(
                audit.Action.CREATE, ENTITY_RELATION, row["id"], branch_id=customer["branch_id"],
                after=_relation_snapshot(row),
            )  # fmt: skip
            mirror_kind = INVERSE.get(data.kind)
            if mirror_kind is not None:
                mirror = await db.fetchrow(
                    f"INSERT INTO {RELATION} (branch_id, customer, related, kind, note,"
                    " created_at, updated_at) VALUES ($1, $2, $3, $4, $5, now(), now())"
                    " RETURNING *",
                    related["branch_id"], data.related_id, customer_id, mirror_kind,
                    data.note.strip(),
                )  # fmt: skip
                assert mirror is not None
                await audit.record(
                    audit.Action.CREATE, ENTITY_RELATION, mirror["id"],
                    branch_id=related["branch_id"], after=_relation_snapshot(mirror),
                )  # fmt: skip
                await _customer_updated(data.related_id, related["branch_id"], "relations")
            await _customer_updated(customer_id, customer["branch_id"], "relations")
    except asyncpg.UniqueViolationError as exc:
        raise Problem(
            409,
            "the customers are already related this way",
            [FieldError("body.related_id", "relation already recorded")],
            "duplicate",
        ) from exc
    created = await db.fetchrow(f"{_RELATION_SELECT} WHERE r.id = $2", customer_id, row["id"])
    assert created is not None
    return _relation_out(created)


async def _locked_relation(customer_id: int, relation_id: int) -> asyncpg.Record:
    await _live_customer(customer_id, lock=True)
    row = await db.fetchrow(
        f"SELECT * FROM {RELATION} WHERE id = $1 AND customer = $2 FOR UPDATE",
        relation_id,
        customer_id,
    )
    if row is None:
        raise not_found(f"relation {relation_id} of customer {customer_id}")
    return row


async def _mirror_of(row: Mapping[str, Any]) -> asyncpg.Record | None:
    mirror_kind = INVERSE.get(row["kind"])
    if mirror_kind is None:
        return None
    return await db.fetchrow(
        f"SELECT * FROM {RELATION} WHERE customer = $1 AND related = $2 AND kind = $3 FOR UPDATE",
        row["related"],
        row["customer"],
        mirror_kind,
    )


async def update_relation(customer_id: int, relation_id: int, data: RelationPatch) -> RelationOut:
    async with db.transaction():
        row = await _locked_relation(customer_id, relation_id)
        problems = Problems()
        values: dict[str, Any] = {}
        if data.share_ratio is not UNSET:
            values["share_ratio"] = _check_share_ratio(problems, row["kind"], data.share_ratio)
        if data.note is not UNSET:
            values["note"] = data.note.strip()
        problems.raise_if_any()
        changed = _changes(row, values)
        if changed:
            await _update_row(RELATION, relation_id, changed)
            await audit.record(
                audit.Action.UPDATE, ENTITY_RELATION, relation_id, branch_id=row["branch_id"],
                before={k: row[k] for k in changed}, after=changed,
            )  # fmt: skip
            mirror = await _mirror_of(row)
            if mirror is not None and "note" in changed and mirror["note"] != changed["note"]:
                await _update_row(RELATION, mirror["id"], {"note": changed["note"]})
                await audit.record(
                    audit.Action.UPDATE, ENTITY_RELATION, mirror["id"],
                    branch_id=mirror["branch_id"], before={"note": mirror["note"]},
                    after={"note": changed["note"]},
                )  # fmt: skip
            await _customer_updated(customer_id, row["branch_id"], "relations")
    updated = await db.fetchrow(f"{_RELATION_SELECT} WHERE r.id = $2", customer_id, relation_id)
    assert updated is not None
    return _relation_out(updated)


async def delete_relation(customer_id: int, relation_id: int) -> None:
    """Remove a relation and, for symmetric kinds, its mirror row."""
    async with db.transaction():
        row = await _locked_relation(customer_id, relation_id)
        mirror = await _mirror_of(row)
        for gone in (row, mirror):
            if gone is None:
                continue
            await db.fetch(f"DELETE FROM {RELATION} WHERE id = $1", gone["id"])
            await audit.record(
                audit.Action.DELETE, ENTITY_RELATION, gone["id"], branch_id=gone["branch_id"],
                before=_relation_snapshot(gone),
            )  # fmt: skip
            await _customer_updated(gone["customer"], gone["branch_id"], "relations")


# --- households -------------------------------------------------------------------------------


async def _household_out(household_id: int) -> HouseholdOut:
    row = await db.fetchrow(
        f"SELECT h.*, (SELECT coalesce(json_agg(json_build_object('customer_id', c.id,"
        f" 'name', c.name, 'kind', c.kind, 'role', m.role) ORDER BY m.role <> 'head', m.id),"
        f" '[]') FROM {MEMBER} m JOIN {CUSTOMER} c ON c.id = m.customer"
        f" WHERE m.household = h.id) AS members FROM {HOUSEHOLD} h WHERE h.id = $1",
        household_id,
    )
    if row is None:
        raise not_found(f"household {household_id}")
    return HouseholdOut(
        id=row["id"],
        branch_id=row["branch_id"],
        name=row["name"],
        head_id=row["head"],
        members=msgspec.json.decode(row["members"], type=list[HouseholdMemberOut]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def get_household(household_id: int) -> HouseholdOut:
    return await _household_out(household_id)


async def household_of(customer_id: int) -> HouseholdOut | None:
    """The household the customer belongs to, if it is visible."""
    await _live_customer(customer_id)
    household_id = await db.fetchval(
        f"SELECT m.household FROM {MEMBER} m JOIN {HOUSEHOLD} h ON h.id = m.household"
        " WHERE m.customer = $1",
        customer_id,
    )
    return None if household_id is None else await _household_out(household_id)


def _already_in_household(field_name: str) -> Problem:
    return Problem(
        409,
        "a customer belongs to one household at most",
        [FieldError(field_name, "already a member of a household")],
        "duplicate",
    )


async def _insert_member(
    household_id: int, customer: Mapping[str, Any], role: str, field_name: str
) -> None:
    """Add a member inside the caller's transaction (a refusal rolls all of it back)."""
    if customer["kind"] != "individual":
        raise invalid(field_name, "a household is made of individual customers")
    try:
        member_id = await db.fetchval(
            f"INSERT INTO {MEMBER} (branch_id, household, customer, role, created_at)"
            " VALUES ($1, $2, $3, $4, now()) RETURNING id",
            customer["branch_id"], household_id, customer["id"], role,
        )  # fmt: skip
    except asyncpg.UniqueViolationError as exc:
        raise _already_in_household(field_name) from exc
    await audit.record(
        audit.Action.CREATE, ENTITY_MEMBER, member_id, branch_id=customer["branch_id"],
        after={"household_id": household_id, "customer_id": customer["id"], "role": role},
    )  # fmt: skip
    await _customer_updated(customer["id"], customer["branch_id"], "household")


async def create_household(data: HouseholdIn) -> HouseholdOut:
    """A household in the head's branch with the head and the given members."""
    if data.head_id in data.customer_ids or len(set(data.customer_ids)) != len(data.customer_ids):
        raise invalid("body.customer_ids", "each member once, the head not again")
    async with db.transaction():
        head = await _visible_customer(data.head_id, "body.head_id")
        members = [
            await _visible_customer(member_id, f"body.customer_ids[{index}]")
            for index, member_id in enumerate(data.customer_ids)
        ]
        row = await db.fetchrow(
            f"INSERT INTO {HOUSEHOLD} (branch_id, name, head, created_at, updated_at)"
            " VALUES ($1, $2, $3, now(), now()) RETURNING *",
            head["branch_id"], data.name.strip(), data.head_id,
        )  # fmt: skip
        assert row is not None
        await audit.record(
            audit.Action.CREATE, ENTITY_HOUSEHOLD, row["id"], branch_id=head["branch_id"],
            after={"name": row["name"], "head_id": data.head_id,
                   "member_ids": list(data.customer_ids)},
        )  # fmt: skip
        await _insert_member(row["id"], head, "head", "body.head_id")
        for index, member in enumerate(members):
            await _insert_member(row["id"], member, "member", f"body.customer_ids[{index}]")
        return await _household_out(row["id"])


async def _locked_household(household_id: int) -> asyncpg.Record:
    row = await db.fetchrow(f"SELECT * FROM {HOUSEHOLD} WHERE id = $1 FOR UPDATE", household_id)
    if row is None:
        raise not_found(f"household {household_id}")
    return row


async def update_household(household_id: int, data: HouseholdPatch) -> HouseholdOut:
    async with db.transaction():
        row = await _locked_household(household_id)
        values: dict[str, Any] = {}
        if data.name is not UNSET:
            values["name"] = data.name.strip()
        if data.head_id is not UNSET and data.head_id != row["head"]:
            is_member = await db.fetchval(
                f"SELECT id FROM {MEMBER} WHERE household = $1 AND customer = $2",
                household_id,
                data.head_id,
            )
            if is_member is None:
                raise invalid("body.head_id", "the new head must already be a member you can see")
            await db.fetch(
                f"UPDATE {MEMBER} SET role = CASE WHEN customer = $2 THEN 'head' ELSE 'member'"
                " END WHERE household = $1 AND customer IN ($2, $3)",
                household_id,
                data.head_id,
                row["head"],
            )
            values["head"] = data.head_id
        changed = _changes(row, values)
        if changed:
            await _update_row(HOUSEHOLD, household_id, changed)
            rename = {"head": "head_id"}
            await audit.record(
                audit.Action.UPDATE, ENTITY_HOUSEHOLD, household_id, branch_id=row["branch_id"],
                before={rename.get(k, k): row[k] for k in changed},
                after={rename.get(k, k): v for k, v in changed.items()},
            )  # fmt: skip
        return await _household_out(household_id)


async def add_household_member(household_id: int, customer_id: int) -> HouseholdOut:
    async with db.transaction():
        await _locked_household(household_id)
        customer = await _visible_customer(customer_id, "body.customer_id")
        await _insert_member(household_id, customer, "member", "body.customer_id")
        return await _household_out(household_id)


async def remove_household_member(household_id: int, customer_id: int) -> None:
    """Remove a member; the head stays until another member is made head."""
    async with db.transaction():
        household = await _locked_household(household_id)
        if household["head"] == customer_id:
            raise Problem(
                409, "make another member the head before removing this one", code="household_head"
            )
        member = await db.fetchrow(
            f"DELETE FROM {MEMBER} WHERE household = $1 AND customer = $2 RETURNING *",
            household_id,
            customer_id,
        )
        if member is None:
            raise not_found(f"member {customer_id} of household {household_id}")
        await audit.record(
            audit.Action.DELETE, ENTITY_MEMBER, member["id"], branch_id=member["branch_id"],
            before={"household_id": household_id, "customer_id": customer_id,
                    "role": member["role"]},
        )  # fmt: skip
        await _customer_updated(customer_id, member["branch_id"], "household")


async def delete_household(household_id: int) -> None:
    """Dissolve a household; every member must be visible to the actor."""
    async with db.transaction():
        row = await _locked_household(household_id)
        members = await db.fetch(
            f"DELETE FROM {MEMBER} WHERE household = $1 RETURNING *", household_id
        )
        try:
            await db.fetch(f"DELETE FROM {HOUSEHOLD} WHERE id = $1", household_id)
        except asyncpg.ForeignKeyViolationError as exc:
            # A member row of a branch outside the actor's scope still points here.
            raise Problem(
                409,
                "the household has members outside your branches; ask their branch to remove them",
                code="household_members_elsewhere",
            ) from exc
        await audit.record(
            audit.Action.DELETE, ENTITY_HOUSEHOLD, household_id, branch_id=row["branch_id"],
            before={"name": row["name"], "head_id": row["head"],
                    "member_ids": sorted(m["customer"] for m in members)},
        )  # fmt: skip


# --- snapshots ------------------------------------------------------------------------------


def _rates(settings: CustomerArchiveSettings) -> dict[str, str]:
    rates = {code: str(rate) for code, rate in settings.aum_fx_rates.items()}
    rates["CNY"] = "1"
    return rates


_BALANCE_UPSERT = f"""INSERT INTO {BALANCE_SNAPSHOT}
  (branch_id, holding, customer, snapshot_on, balance, currency, created_at)
SELECT h.branch_id, h.id, h.customer, $1, h.balance, h.currency, now()
FROM {HOLDING} h JOIN {CUSTOMER} c ON c.id = h.customer
WHERE h.status <> 'closed' AND c.deleted_at IS NULL AND h.branch_id = ANY($2::bigint[])
ON CONFLICT (holding, snapshot_on) DO UPDATE
  SET balance = EXCLUDED.balance, currency = EXCLUDED.currency
  WHERE ({BALANCE_SNAPSHOT}.balance, {BALANCE_SNAPSHOT}.currency)
    IS DISTINCT FROM (EXCLUDED.balance, EXCLUDED.currency)
RETURNING branch_id"""

# Asset holdings only; foreign currency at the branch's rate (holdings in a currency
# without a rate are left out and logged).
_AUM_UPSERT = f"""INSERT INTO {AUM_SNAPSHOT} (branch_id, customer, snapshot_on, aum, created_at)
SELECT c.branch_id, c.id, $1, round(coalesce(sum(h.balance * r.rate), 0), 2), now()
FROM {CUSTOMER} c
LEFT JOIN ({HOLDING} h JOIN {PRODUCT} p ON p.id = h.product AND p.balance_type = 'asset'
           JOIN (SELECT key AS currency, value::numeric AS rate FROM jsonb_each_text($3::jsonb)) r
             ON r.currency = h.currency)
  ON h.customer = c.id AND h.status <> 'closed'
WHERE c.deleted_at IS NULL AND c.branch_id = ANY($2::bigint[])
GROUP BY c.branch_id, c.id
ON CONFLICT (customer, snapshot_on) DO UPDATE SET aum = EXCLUDED.aum
  WHERE {AUM_SNAPSHOT}.aum IS DISTINCT FROM EXCLUDED.aum
RETURNING branch_id"""


async def take_snapshots(on: date | None = None) -> SnapshotRun:
    """Balance snapshots of every open holding and the AUM of every customer in scope for
    ``on`` (default: today, Beijing time), as upserts: a second run the same day changes
    only what changed since, so a re-delivered job changes nothing. Audited per branch
    when something was written. Call inside a transaction for all-or-nothing."""
    day = on or business_date()
    scope = require_scope()
    tree = await branches.snapshot()
    by_rates: dict[str, list[int]] = {}
    for branch_id in sorted(scope.branch_ids):
        if branch_id not in tree.nodes:
            continue
        settings = await branches.plugin_settings(
            "customer_archive", branch_id, CustomerArchiveSettings
        )
        by_rates.setdefault(json.dumps(_rates(settings), sort_keys=True), []).append(branch_id)
    holdings: dict[int, int] = {}
    customers: dict[int, int] = {}
    async with db.transaction():
        for rates, branch_ids in by_rates.items():
            for row in await db.fetch(_BALANCE_UPSERT, day, branch_ids):
                holdings[row["branch_id"]] = holdings.get(row["branch_id"], 0) + 1
            for row in await db.fetch(_AUM_UPSERT, day, branch_ids, rates):
                customers[row["branch_id"]] = customers.get(row["branch_id"], 0) + 1
            unpriced = await db.fetchval(
                f"SELECT array_agg(DISTINCT h.currency) FROM {HOLDING} h"
                " WHERE h.branch_id = ANY($1::bigint[]) AND h.status <> 'closed'"
                " AND NOT (jsonb_exists($2::jsonb, h.currency))",
                branch_ids,
                rates,
            )
            if unpriced:
                log.warning(
                    "holdings left out of AUM: no exchange rate",
                    extra={"currencies": unpriced, "branches": branch_ids},
                )
        for branch_id in sorted(set(holdings) | set(customers)):
            await audit.record(
                audit.Action.CREATE, ENTITY_SNAPSHOT, day.isoformat(), branch_id=branch_id,
                after={"snapshot_on": day, "holdings": holdings.get(branch_id, 0),
                       "customers": customers.get(branch_id, 0)},
            )  # fmt: skip
    return SnapshotRun(day, sum(holdings.values()), sum(customers.values()))


async def aum_history(
    customer_id: int, date_from: date | None = None, date_to: date | None = None
) -> AumHistory:
    """Daily AUM (CNY) of a customer between two dates (default: the last 90 days)."""
    date_to = date_to or business_date()
    date_from = date_from or date_to - timedelta(days=89)
    if date_from > date_to:
        raise invalid("query.date_from", "must not lie after date_to")
    if (date_to - date_from).days > AUM_HISTORY_MAX_DAYS:
        raise invalid("query.date_from", f"at most {AUM_HISTORY_MAX_DAYS} days at once")
    await _live_customer(customer_id)
    rows = await db.fetch(
        f"SELECT snapshot_on, aum FROM {AUM_SNAPSHOT} WHERE customer = $1"
        " AND snapshot_on BETWEEN $2 AND $3 ORDER BY snapshot_on",
        customer_id,
        date_from,
        date_to,
    )
    return AumHistory(customer_id, "CNY", [AumPoint(r["snapshot_on"], r["aum"]) for r in rows])


async def balance_history(
    holding_id: int, date_from: date | None = None, date_to: date | None = None
) -> list[BalancePoint]:
    date_to = date_to or business_date()
    date_from = date_from or date_to - timedelta(days=89)
    if date_from > date_to:
        raise invalid("query.date_from", "must not lie after date_to")
    if (date_to - date_from).days > AUM_HISTORY_MAX_DAYS:
        raise invalid("query.date_from", f"at most {AUM_HISTORY_MAX_DAYS} days at once")
    holding = await db.fetchval(
        f"SELECT h.id FROM {HOLDING} h JOIN {CUSTOMER} c ON c.id = h.customer"
        " WHERE h.id = $1 AND c.deleted_at IS NULL",
        holding_id,
    )
    if holding is None:
        raise not_found(f"holding {holding_id}")
    rows = await db.fetch(
        f"SELECT snapshot_on, balance, currency FROM {BALANCE_SNAPSHOT} WHERE holding = $1"
        " AND snapshot_on BETWEEN $2 AND $3 ORDER BY snapshot_on",
        holding_id,
        date_from,
        date_to,
    )
    return [BalancePoint(r["snapshot_on"], r["balance"], r["currency"]) for r in rows]


# --- contracts ------------------------------------------------------------------------------

_CONTRACT_FIELDS = (
    "kind", "number", "title", "signed_on", "start_on", "end_on", "status", "amount", "currency",
)  # fmt: skip
NEXT_STATUS = {
    "draft": frozenset({"draft", "active", "terminated"}),
    "active": frozenset({"active", "expired", "terminated"}),
    "expired": frozenset({"expired"}),
    "terminated": frozenset({"terminated"}),
}


def _document_out(row: Mapping[str, Any]) -> DocumentOut:
    return DocumentOut(
        row["id"], row["contract"], row["filename"], row["content_type"], row["size"],
        row["sha256"], row["uploaded_by"], row["uploaded_at"],
    )  # fmt: skip


def _contract_out(row: Mapping[str, Any], documents: list[DocumentOut]) -> ContractOut:
    return ContractOut(
        id=row["id"], branch_id=row["branch_id"], customer_id=row["customer"],
        kind=row["kind"], number=row["number"], title=row["title"],
        signed_on=row["signed_on"], start_on=row["start_on"], end_on=row["end_on"],
        status=row["status"], amount=row["amount"], currency=row["currency"],
        created_at=row["created_at"], updated_at=row["updated_at"], documents=documents,
    )  # fmt: skip


def _contract_snapshot(row: Mapping[str, Any]) -> dict[str, Any]:
    return {name: row[name] for name in _CONTRACT_FIELDS if name in row}


def _check_contract(problems: Problems, values: dict[str, Any]) -> None:
    check_not_future(problems, "body.signed_on", values.get("signed_on"))
    start, end = values.get("start_on"), values.get("end_on")
    if start is not None and end is not None and end < start:
        problems.add("body.end_on", "must not lie before start_on")
    if values.get("amount") is not None:
        values["amount"] = check_amount(problems, "body.amount", values["amount"])
    if values.get("status") == "active" and values.get("signed_on") is None:
        problems.add("body.signed_on", "an active contract has been signed")


def _duplicate_number() -> Problem:
    return Problem(
        409,
        "the branch already has a contract with this number",
        [FieldError("body.number", "already used in this branch")],
        "duplicate",
    )


_DOCUMENT_COLUMNS = "id, contract, filename, content_type, size, sha256, uploaded_by, uploaded_at"


async def _documents(contract_ids: list[int]) -> dict[int, list[DocumentOut]]:
    rows = await db.fetch(
        f"SELECT {_DOCUMENT_COLUMNS} FROM {DOCUMENT} WHERE contract = ANY($1::bigint[])"
        " ORDER BY id",
        contract_ids,
    )
    found: dict[int, list[DocumentOut]] = {}
    for row in rows:
        found.setdefault(row["contract"], []).append(_document_out(row))
    return found


async def list_contracts(customer_id: int) -> list[ContractOut]:
    await _live_customer(customer_id)
    rows = await db.fetch(
        f"SELECT * FROM {CONTRACT} WHERE customer = $1"
        " ORDER BY signed_on DESC NULLS FIRST, id DESC",
        customer_id,
    )
    documents = await _documents([r["id"] for r in rows])
    return [_contract_out(r, documents.get(r["id"], [])) for r in rows]


async def _contract_row(contract_id: int, *, lock: bool = False) -> asyncpg.Record:
    row = await db.fetchrow(
        f"SELECT t.* FROM {CONTRACT} t JOIN {CUSTOMER} c ON c.id = t.customer"
        " WHERE t.id = $1 AND c.deleted_at IS NULL" + (" FOR UPDATE OF t" if lock else ""),
        contract_id,
    )
    if row is None:
        raise not_found(f"contract {contract_id}")
    return row


async def get_contract(contract_id: int) -> ContractOut:
    row = await _contract_row(contract_id)
    documents = await _documents([contract_id])
    return _contract_out(row, documents.get(contract_id, []))


async def create_contract(customer_id: int, data: ContractIn) -> ContractOut:
    values = {name: getattr(data, name) for name in _CONTRACT_FIELDS}
    values["title"] = data.title.strip()
    problems = Problems()
    _check_contract(problems, values)
    problems.raise_if_any()
    try:
        async with db.transaction():
            customer = await _live_customer(customer_id)
            placeholders = ", ".join(f"${i + 3}" for i in range(len(values)))
            row = await db.fetchrow(
                f"INSERT INTO {CONTRACT} (branch_id, customer, {', '.join(values)}, created_at,"
                f" updated_at) VALUES ($1, $2, {placeholders}, now(), now()) RETURNING *",
                customer["branch_id"],
                customer_id,
                *values.values(),
            )
            assert row is not None
            await audit.record(
                audit.Action.CREATE, ENTITY_CONTRACT, row["id"], branch_id=customer["branch_id"],
                after={"customer_id": customer_id, **_contract_snapshot(row)},
            )  # fmt: skip
            await _customer_updated(customer_id, customer["branch_id"], "contracts")
    except asyncpg.UniqueViolationError as exc:
        raise _duplicate_number() from exc
    return _contract_out(row, [])


async def update_contract(contract_id: int, data: ContractPatch) -> ContractOut:
    async with db.transaction():
        row = await _contract_row(contract_id, lock=True)
        customer_id = row["customer"]
        values = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not UNSET}
        if "title" in values:
            values["title"] = values["title"].strip()
        problems = Problems()
        if "status" in values and values["status"] not in NEXT_STATUS[row["status"]]:
            problems.add(
                "body.status", f"a {row['status']} contract cannot become {values['status']}"
            )
        merged = {**_contract_snapshot(row), **values}
        _check_contract(problems, merged)
        problems.raise_if_any()
        if "amount" in values:
            values["amount"] = merged["amount"]
        changed = _changes(row, values)
        if not changed:
            return await get_contract(contract_id)
        await _update_row(CONTRACT, contract_id, changed)
        await audit.record(
            audit.Action.UPDATE, ENTITY_CONTRACT, contract_id, branch_id=row["branch_id"],
            before={k: row[k] for k in changed}, after=changed,
        )  # fmt: skip
        await _customer_updated(customer_id, row["branch_id"], "contracts")
        return await get_contract(contract_id)


async def delete_contract(contract_id: int) -> None:
    """Delete a draft entered in error, with its documents; signed contracts stay."""
    async with db.transaction():
        row = await _contract_row(contract_id, lock=True)
        customer_id = row["customer"]
        if row["status"] != "draft":
            raise Problem(
                409,
                f"a {row['status']} contract is kept; terminate it instead",
                code="contract_not_draft",
            )
        documents = await db.fetch(
            f"DELETE FROM {DOCUMENT} WHERE contract = $1 RETURNING id, filename, sha256",
            contract_id,
        )
        await db.fetch(f"DELETE FROM {CONTRACT} WHERE id = $1", contract_id)
        await audit.record(
            audit.Action.DELETE, ENTITY_CONTRACT, contract_id, branch_id=row["branch_id"],
            before={"customer_id": customer_id, **_contract_snapshot(row),
                    "documents": [dict(d) for d in documents]},
        )  # fmt: skip
        await _customer_updated(customer_id, row["branch_id"], "contracts")


# --- contract documents ---------------------------------------------------------------------

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ALLOWED_TYPES = (PDF, PNG, JPEG, DOCX, XLSX)
_OOXML_PART = {DOCX: "word/document.xml", XLSX: "xl/workbook.xml"}


def sniff_content_type(content: bytes) -> str | None:
    """What the bytes are, among the allowed types (None: none of them).

    The declared type is not trusted: a renamed executable or HTML page must not be stored
    and later served to a colleague as a "PDF".
    """
    if content.startswith(b"%PDF-"):
        return PDF
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if content.startswith(b"\xff\xd8\xff"):
        return JPEG
    if content.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                entries = set(archive.namelist())
        except (zipfile.BadZipFile, ValueError):
            return None
        for content_type, part in _OOXML_PART.items():
            if part in entries and "[Content_Types].xml" in entries:
                return content_type
    return None


def clean_filename(raw: str) -> str:
    """The last path segment, without control characters, at most 255 characters."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    return name[-255:] or "document"


def _declared(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


async def upload_document(
    contract_id: int, filename: str, content_type: str | None, content: bytes
) -> DocumentOut:
    """Attach a document (PDF, PNG, JPEG, DOCX, XLSX; at most 20 MiB) to a contract."""
    if len(content) > MAX_DOCUMENT_BYTES:
        raise Problem(
            413,
            f"the document is larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MiB",
            [FieldError("body.file", "too large")],
            "too_large",
        )
    if not content:
        raise invalid("body.file", "the file is empty")
    actual = sniff_content_type(content)
    declared = _declared(content_type)
    if actual is None or declared not in (actual, "application/octet-stream", ""):
        raise Problem(
            415,
            "only PDF, PNG, JPEG, DOCX and XLSX documents are accepted, and the declared type"
            " must match the content",
            [FieldError("body.file", f"declared {declared or 'nothing'}, content is"
                                     f" {actual or 'not an accepted type'}")],
            "unsupported_media_type",
        )  # fmt: skip
    name = clean_filename(filename)
    digest = hashlib.sha256(content).hexdigest()
    scope = require_scope()
    async with db.transaction():
        contract = await _contract_row(contract_id, lock=True)
        row = await db.fetchrow(
            f"INSERT INTO {DOCUMENT} (branch_id, contract, filename, content_type, size, sha256,"
            f" content, uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())"
            f" RETURNING {_DOCUMENT_COLUMNS}",
            contract["branch_id"], contract_id, name, actual, len(content), digest, content,
            scope.user_id,
        )  # fmt: skip
        assert row is not None
        await audit.record(
            audit.Action.CREATE, ENTITY_DOCUMENT, row["id"], branch_id=contract["branch_id"],
            after={"customer_id": contract["customer"], "contract_id": contract_id,
                   "filename": name, "content_type": actual, "size": len(content),
                   "sha256": digest},
        )  # fmt: skip
    return _document_out(row)


async def list_documents(contract_id: int) -> list[DocumentOut]:
    await _contract_row(contract_id)
    return (await _documents([contract_id])).get(contract_id, [])


@dataclass(frozen=True)
class DocumentContent:
    filename: str
    content_type: str
    sha256: str
    content: bytes


async def read_document(document_id: int) -> DocumentContent:
    """A document's bytes, read and audited as a view in one transaction."""
    async with db.transaction():
        row = await db.fetchrow(
            f"SELECT d.id, d.branch_id, d.contract, t.customer, d.filename, d.content_type,"
            f" d.sha256, d.content FROM {DOCUMENT} d JOIN {CONTRACT} t ON t.id = d.contract"
            f" JOIN {CUSTOMER} c ON c.id = t.customer WHERE d.id = $1 AND c.deleted_at IS NULL",
            document_id,
        )
        if row is None:
            raise not_found(f"document {document_id}")
        await audit.record(
            audit.Action.VIEW, ENTITY_DOCUMENT, document_id, branch_id=row["branch_id"],
            after={"customer_id": row["customer"], "contract_id": row["contract"],
                   "filename": row["filename"], "sha256": row["sha256"], "screen": "download"},
        )  # fmt: skip
    return DocumentContent(row["filename"], row["content_type"], row["sha256"], row["content"])


async def delete_document(document_id: int) -> None:
    async with db.transaction():
        row = await db.fetchrow(
            f"SELECT d.id, d.branch_id, d.contract, t.customer, d.filename, d.content_type,"
            f" d.size, d.sha256 FROM {DOCUMENT} d JOIN {CONTRACT} t ON t.id = d.contract"
            f" JOIN {CUSTOMER} c ON c.id = t.customer WHERE d.id = $1 AND c.deleted_at IS NULL"
            " FOR UPDATE OF d",
            document_id,
        )
        if row is None:
            raise not_found(f"document {document_id}")
        await db.fetch(f"DELETE FROM {DOCUMENT} WHERE id = $1", document_id)
        await audit.record(
            audit.Action.DELETE, ENTITY_DOCUMENT, document_id, branch_id=row["branch_id"],
            before={"customer_id": row["customer"], "contract_id": row["contract"],
                    "filename": row["filename"], "content_type": row["content_type"],
                    "size": row["size"], "sha256": row["sha256"]},
        )  # fmt: skip


# --- ratings --------------------------------------------------------------------------------

RATING_VALUES: dict[str, frozenset[str]] = {
    RatingKind.credit_grade: frozenset(CreditGrade),
    RatingKind.risk_tolerance: frozenset(RiskTolerance),
    RatingKind.value_tier: frozenset(ValueTier),
}
SOURCES = frozenset(RatingSource)


def _check_rating(kind: str, value: str, source: str) -> None:
    problems = Problems()
    if kind not in RATING_VALUES:
        problems.add("body.kind", f"one of {', '.join(RATING_VALUES)}")
    elif value not in RATING_VALUES[kind]:
        problems.add("body.value", f"a {kind} is one of {', '.join(sorted(RATING_VALUES[kind]))}")
    if source not in SOURCES:
        problems.add("body.source", f"one of {', '.join(sorted(SOURCES))}")
    problems.raise_if_any()


_RATING_SELECT = f"""SELECT r.id, r.customer, r.kind, r.value, r.source, r.rated_by,
  u.username AS rated_by_name, r.rated_at, r.note,
  lag(r.value) OVER (PARTITION BY r.customer, r.kind ORDER BY r.rated_at, r.id) AS previous
FROM {RATING} r LEFT JOIN piccolo_user u ON u.id = r.rated_by"""


def _rating_out(row: Mapping[str, Any]) -> RatingOut:
    return RatingOut(
        row["id"], row["customer"], row["kind"], row["value"], row["previous"], row["source"],
        row["rated_by"], row["rated_by_name"], row["rated_at"], row["note"],
    )  # fmt: skip


async def record_rating(
    customer_id: int, kind: str, value: str, *, source: str, note: str = ""
) -> RatingOut | None:
    """Rate a customer: a history row (who, when, source, note) and the current value on
    the customer, audited, in one transaction (joins the caller's, if any).

    ``rated_by`` is the scope's user (None for jobs). A manual rating is always kept, also
    when it confirms the current value (a periodic review is a fact worth keeping); a job
    or import rating equal to the current value changes nothing and answers None.
    """
    _check_rating(kind, value, source)
    scope = require_scope()
    async with db.transaction():
        customer = await _live_customer(customer_id, lock=True)
        previous = customer[kind]
        if previous == value and source != RatingSource.manual:
            return None
        row = await db.fetchrow(
            f"INSERT INTO {RATING} (branch_id, customer, kind, value, rated_by, source, rated_at,"
            " note) VALUES ($1, $2, $3, $4, $5, $6, now(), $7) RETURNING id, rated_at",
            customer["branch_id"], customer_id, kind, value, scope.user_id, source, note.strip(),
        )  # fmt: skip
        assert row is not None
        if previous != value:
            await db.fetch(
                f"UPDATE {CUSTOMER} SET {kind} = $2, updated_at = now() WHERE id = $1",
                customer_id,
                value,
            )
            await audit.record(
                audit.Action.UPDATE, ENTITY_CUSTOMER, customer_id,
                branch_id=customer["branch_id"], before={kind: previous}, after={kind: value},
            )  # fmt: skip
            await _customer_updated(customer_id, customer["branch_id"], kind)
        await audit.record(
            audit.Action.CREATE, ENTITY_RATING, row["id"], branch_id=customer["branch_id"],
            after={"customer_id": customer_id, "kind": kind, "value": value,
                   "previous": previous, "source": source, "note": note.strip()},
        )  # fmt: skip
    username = None
    if scope.user_id is not None:
        username = await db.fetchval(
            "SELECT username FROM piccolo_user WHERE id = $1", scope.user_id
        )
    return RatingOut(
        row["id"], customer_id, kind, value, previous, source, scope.user_id, username,
        row["rated_at"], note.strip(),
    )  # fmt: skip


async def record_ratings(
    kind: str, values: Mapping[int, str], *, source: str, note: str = ""
) -> int:
    """Set-based :func:`record_rating` for jobs: rate many customers in one statement per
    step; customers whose current value already equals the new one are skipped, as are
    customers not visible. Audited per branch (how many, from what to what). Answers how
    many customers changed."""
    for value in set(values.values()):
        _check_rating(kind, value, source)
    if not values:
        return 0
    scope = require_scope()
    async with db.transaction():
        changed = await db.fetch(
            f"""WITH wanted AS (
                  SELECT * FROM unnest($1::bigint[], $2::text[]) AS w(customer, value)),
                old AS (
                  SELECT c.id, c.branch_id, c.{kind} AS previous, w.value FROM {CUSTOMER} c
                  JOIN wanted w ON w.customer = c.id
                  WHERE c.deleted_at IS NULL AND c.{kind} IS DISTINCT FROM w.value
                  FOR UPDATE OF c),
                updated AS (
                  UPDATE {CUSTOMER} c SET {kind} = old.value, updated_at = now() FROM old
                  WHERE c.id = old.id RETURNING c.id),
                history AS (
                  INSERT INTO {RATING} (branch_id, customer, kind, value, rated_by, source,
                    rated_at, note)
                  SELECT branch_id, id, $3, value, $4, $5, now(), $6 FROM old RETURNING id)
                SELECT old.id, old.branch_id, old.previous, old.value FROM old""",
            list(values),
            list(values.values()),
            kind,
            scope.user_id,
            source,
            note.strip(),
        )
        by_branch: dict[int, list[dict[str, Any]]] = {}
        for row in changed:
            by_branch.setdefault(row["branch_id"], []).append(
                {"customer_id": row["id"], "before": row["previous"], "after": row["value"]}
            )
        for branch_id, changes in sorted(by_branch.items()):
            await audit.record(
                audit.Action.UPDATE, ENTITY_CUSTOMER, f"{kind}:bulk", branch_id=branch_id,
                after={"kind": kind, "source": source, "note": note.strip(), "changes": changes},
            )  # fmt: skip
            for change in changes:
                await _customer_updated(change["customer_id"], branch_id, kind)
    return len(changed)


async def list_ratings(
    customer_id: int, kind: str | None = None, limit: int = 50, before_id: int | None = None
) -> list[RatingOut]:
    """Rating history, newest first (``before_id``: the page after that rating)."""
    await _live_customer(customer_id)
    rows = await db.fetch(
        f"SELECT * FROM ({_RATING_SELECT} WHERE r.customer = $1) h"
        " WHERE ($2::text IS NULL OR h.kind = $2) AND ($3::bigint IS NULL OR h.id < $3)"
        " ORDER BY h.id DESC LIMIT $4",
        customer_id,
        kind,
        before_id,
        limit,
    )
    return [_rating_out(r) for r in rows]


async def rate(customer_id: int, data: RatingIn) -> RatingOut:
    """A manual rating through the API."""
    rating = await record_rating(
        customer_id, data.kind, data.value, source=RatingSource.manual, note=data.note
    )
    assert rating is not None
    return rating


# --- 360 sections -----------------------------------------------------------------------------

BACKGROUND_FIELDS = (
    "occupation", "employer", "industry", "education", "income_band", "marital_status",
    "company_size", "registered_capital", "established_on",
)  # fmt: skip
AUM_TREND_DAYS = 90


RATING_HISTORY_360 = 20
_FAMILY_KINDS_ARRAY = "ARRAY[" + ", ".join(f"'{k}'" for k in sorted(FAMILY_KINDS)) + "]"

PANELS_360_COLUMNS = f"""(SELECT coalesce(json_agg(json_build_object(
    'id', r.id,
    'customer_id', CASE WHEN r.customer = c.id THEN r.customer ELSE r.related END,
    'related_id', CASE WHEN r.customer = c.id THEN r.related ELSE r.customer END,
    'related_name', o.name, 'kind', r.kind,
    'direction', CASE WHEN r.customer = c.id THEN 'outgoing' ELSE 'incoming' END,
    'share_ratio', r.share_ratio, 'note', r.note, 'created_at', r.created_at)
    ORDER BY r.customer = c.id DESC, r.kind, r.id), '[]')
  FROM {RELATION} r JOIN {CUSTOMER} o
    ON o.id = CASE WHEN r.customer = c.id THEN r.related ELSE r.customer END
  WHERE (r.customer = c.id OR (r.related = c.id AND NOT r.kind = ANY({_FAMILY_KINDS_ARRAY})))
    AND o.deleted_at IS NULL) AS relations,
  (SELECT json_build_object('id', h.id, 'branch_id', h.branch_id, 'name', h.name,
      'head_id', h.head, 'created_at', h.created_at, 'updated_at', h.updated_at,
      'members', (SELECT coalesce(json_agg(json_build_object('customer_id', mc.id,
          'name', mc.name, 'kind', mc.kind, 'role', mm.role) ORDER BY mm.role <> 'head', mm.id),
        '[]') FROM {MEMBER} mm JOIN {CUSTOMER} mc ON mc.id = mm.customer
        WHERE mm.household = h.id))
    FROM {MEMBER} m JOIN {HOUSEHOLD} h ON h.id = m.household WHERE m.customer = c.id
    LIMIT 1) AS household,
  (SELECT coalesce(json_agg(json_build_object('id', ch.id, 'customer_id', ch.customer,
      'kind', ch.kind, 'value', ch.value, 'label', ch.label, 'is_primary', ch.is_primary)
      ORDER BY ch.kind, ch.is_primary DESC, ch.id), '[]')
    FROM {CHANNEL} ch WHERE ch.customer = c.id) AS channels,
  (SELECT coalesce(json_agg(json_build_object('id', rh.id, 'customer_id', rh.customer,
      'kind', rh.kind, 'value', rh.value, 'previous', rh.previous, 'source', rh.source,
      'rated_by', rh.rated_by, 'rated_by_name', rh.rated_by_name, 'rated_at', rh.rated_at,
      'note', rh.note) ORDER BY rh.id DESC), '[]')
    FROM (SELECT * FROM ({_RATING_SELECT} WHERE r.customer = c.id) h
          ORDER BY h.id DESC LIMIT {RATING_HISTORY_360}) rh) AS rating_history,
  CASE WHEN $4::boolean THEN (SELECT coalesce(json_agg(json_build_object('id', k.id,
      'branch_id', k.branch_id, 'customer_id', k.customer, 'kind', k.kind,
      'number', k.number, 'title', k.title, 'signed_on', k.signed_on,
      'start_on', k.start_on, 'end_on', k.end_on, 'status', k.status, 'amount', k.amount,
      'currency', k.currency, 'created_at', k.created_at, 'updated_at', k.updated_at,
      'documents', (SELECT coalesce(json_agg(json_build_object('id', d.id,
          'contract_id', d.contract, 'filename', d.filename, 'content_type', d.content_type,
          'size', d.size, 'sha256', d.sha256, 'uploaded_by', d.uploaded_by,
          'uploaded_at', d.uploaded_at) ORDER BY d.id), '[]')
        FROM {DOCUMENT} d WHERE d.contract = k.id))
      ORDER BY k.signed_on DESC NULLS FIRST, k.id DESC), '[]')
    FROM {CONTRACT} k WHERE k.customer = c.id) END AS contracts,
  CASE WHEN $5::boolean THEN (SELECT coalesce(json_agg(json_build_object(
      'snapshot_on', s.snapshot_on, 'aum', s.aum) ORDER BY s.snapshot_on), '[]')
    FROM {AUM_SNAPSHOT} s WHERE s.customer = c.id AND s.snapshot_on BETWEEN $6 AND $7)
    END AS aum_points"""
"""The profile's 360 panels as columns of the 360 statement (:mod:`.view_360`), read
from its customer row ``c``: what :func:`list_relations`, :func:`household_of`,
:func:`list_channels`, :func:`list_ratings`, :func:`list_contracts` and
:func:`aum_history` answer, in one round trip instead of a dozen. Parameters: ``$4``
may read contracts, ``$5`` may read holdings (a panel the actor may not see is not read
at all), ``$6``..``$7`` the AUM trend's dates (:func:`aum_trend_dates`)."""


def aum_trend_dates(today: date | None = None) -> tuple[date, date]:
    """The AUM trend's first and last day: the :data:`AUM_TREND_DAYS` days up to ``today``
    (the business date by default), as :func:`aum_history` reads by default."""
    date_to = today or business_date()
    return date_to - timedelta(days=AUM_TREND_DAYS - 1), date_to


def _decode(value: Any, type_: Any) -> Any:
    return msgspec.json.decode(value, type=type_)


def profile_sections(scope: Scope, detail: Any, row: Mapping[str, Any]) -> list[Section]:
    """The profile's 360 panels: background, relations and household, ratings, and (with
    the permissions to read them) contracts and the AUM trend. ``detail`` is the
    customer's :class:`~.schemas.CustomerDetail` the caller already read (and audited),
    ``row`` the 360 statement's row with the :data:`PANELS_360_COLUMNS`."""
    background = {name: getattr(detail, name) for name in BACKGROUND_FIELDS}
    if detail.kind == "individual":
        for name in ("company_size", "registered_capital", "established_on"):
            background.pop(name)
    else:
        for name in ("education", "income_band", "marital_status"):
            background.pop(name)
    channels = [
        msgspec.structs.replace(c, value=_mask_channel(c.kind, c.value))
        for c in _decode(row["channels"], list[ChannelOut])
    ]
    household = row["household"]
    sections = [
        Section("customer_archive.background", "背景信息", "Background", background),
        Section(
            "customer_archive.relations",
            "关系与家庭",
            "Relations and household",
            {
                "relations": _decode(row["relations"], list[RelationOut]),
                "household": None if household is None else _decode(household, HouseholdOut),
                "channels": channels,
            },
        ),
        Section(
            "customer_archive.ratings",
            "评级",
            "Ratings",
            {
                "current": {
                    "credit_grade": detail.credit_grade,
                    "risk_tolerance": detail.risk_tolerance,
                    "value_tier": detail.value_tier,
                },
                "history": _decode(row["rating_history"], list[RatingOut]),
            },
        ),
    ]
    if scope.has(CONTRACT_READ):
        contracts: list[ContractOut] = _decode(row["contracts"], list[ContractOut])
        sections.append(
            Section(
                "customer_archive.contracts",
                "合同",
                "Contracts",
                {
                    "active": sum(1 for c in contracts if c.status == "active"),
                    "contracts": contracts,
                },
            )
        )
    if scope.has(HOLDING_READ):
        sections.append(
            Section(
                "customer_archive.aum_trend",
                "资产趋势",
                "AUM trend",
                {
                    "currency": "CNY",
                    "days": AUM_TREND_DAYS,
                    "points": _decode(row["aum_points"], list[AumPoint]),
                },
            )
        )
    return sections
