"""The customers themselves: their records, addresses, contacts and holdings, and the
archive's key figures. Other plugins reach these through the
facade :mod:`bankcrm_customer_archive.services`.

Every function runs under the bound :class:`~bankcrm.context.Scope`: row-level security
decides what exists, so a customer of another branch is simply "not found". Each write
runs in one transaction together with its audit row (before/after, personal data masked);
each detail view, 360 view, export and reveal of a customer is audited as well.

Reads are hand-written SQL, one statement per request where possible: they are the hot
paths (detail, 360, search), and every statement outside a transaction costs a pool
checkout with the scope round trip on top of the query itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import asyncpg
import msgspec
from msgspec import UNSET

from bankcrm import audit, db, pii, staff
from bankcrm.web.problems import FieldError, Problem, invalid, not_found
from bankcrm_customer_archive import events, names
from bankcrm_customer_archive.dedupe.merging import merged_problem
from bankcrm_customer_archive.records import (
    ADDRESS,
    CONTACT,
    CORPORATE_ONLY,
    CUSTOMER,
    CUSTOMER_TAG,
    DETAIL_SQL,
    ENTITY_ADDRESS,
    ENTITY_CONTACT,
    ENTITY_CUSTOMER,
    ENTITY_HOLDING,
    HOLDING,
    INDIVIDUAL_ONLY,
    PRODUCT,
    TAG,
    VIEW_DETAIL_SQL,
    audit_diff,
    branch_in_scope,
    customer_detail,
    customer_snapshot,
    live_customer,
    mask_account,
    mask_email,
    mask_phone,
    mask_street,
    request_id,
    write_search_keys,
)
from bankcrm_customer_archive.schemas import (
    AddressIn,
    AddressOut,
    AddressPatch,
    ContactIn,
    ContactOut,
    ContactPatch,
    CustomerDetail,
    CustomerIn,
    CustomerPatch,
    HoldingIn,
    HoldingOut,
    HoldingPatch,
    RevealedAddress,
    RevealedContact,
    RevealedHolding,
    RevealedPii,
)
from bankcrm_customer_archive.search import services as search
from bankcrm_customer_archive.validation import (
    Problems,
    check_amount,
    check_identity,
    check_not_future,
    check_person,
    check_phone,
)

__all__ = [
    "add_address",
    "add_contact",
    "add_holding",
    "create_customer",
    "delete_address",
    "delete_contact",
    "delete_customer",
    "delete_holding",
    "get_customer",
    "kpis",
    "list_addresses",
    "list_contacts",
    "list_holdings",
    "reveal_customer",
    "update_address",
    "update_contact",
    "update_customer",
    "update_holding",
]

# --- customers: reads -------------------------------------------------------------------------


async def get_customer(customer_id: int, *, audit_view: bool = True) -> CustomerDetail:
    """A customer with addresses, contacts and tags; the view is audited by default."""
    if audit_view:
        row = await db.fetchrow(VIEW_DETAIL_SQL, customer_id, '{"screen": "detail"}', request_id())
    else:
        row = await db.fetchrow(DETAIL_SQL, customer_id)
    if row is None:
        # A merged customer answers 404 (type .../merged) naming the survivor.
        raise await merged_problem(customer_id) or not_found(f"customer {customer_id}")
    return customer_detail(row)


# --- customers: writes ------------------------------------------------------------------------


async def _check_relationship_manager(
    problems: Problems, user_id: int | None, branch_id: int
) -> None:
    if user_id is None:
        return
    if (problem := await staff.reference_problem(user_id, branch_id)) is not None:
        problems.add("body.relationship_manager_id", problem)


async def _tag_ids(problems: Problems, branch_id: int, tag_names: Sequence[str]) -> list[int]:
    if not tag_names:
        return []
    rows = await db.fetch(
        f"SELECT id, name, kind FROM {TAG} WHERE branch_id = $1 AND name = ANY($2::text[])",
        branch_id,
        list(tag_names),
    )
    found = {r["name"]: r["id"] for r in rows if r["kind"] == "manual"}
    ruled = sorted(r["name"] for r in rows if r["kind"] != "manual")
    missing = [n for n in tag_names if n not in found and n not in ruled]
    if missing:
        problems.add("body.tags", f"no such tag in the customer's branch: {', '.join(missing)}")
    if ruled:
        problems.add("body.tags", f"set by their rules only: {', '.join(ruled)}")
    return sorted(set(found.values()))


async def _refuse_duplicate_identity(
    branch_id: int, id_hash: str, except_id: int | None = None
) -> None:
    existing = await db.fetchval(
        f"SELECT id FROM {CUSTOMER} WHERE branch_id = $1 AND id_number_hash = $2"
        " AND deleted_at IS NULL AND id IS DISTINCT FROM $3",
        branch_id,
        id_hash,
        except_id,
    )
    if existing is not None:
        raise Problem(
            409,
            f"customer {existing} of this branch has the same identity document",
            [FieldError("body.id_number", f"already used by customer {existing}")],
            "duplicate",
        )


def _address_values(data: AddressIn) -> dict[str, Any]:
    return {
        "kind": data.kind, "province": data.province.strip(), "city": data.city.strip(),
        "district": data.district.strip(), "street": data.street.strip(),
        "postcode": data.postcode, "is_primary": data.is_primary,
    }  # fmt: skip


def _contact_values(problems: Problems, data: ContactIn, prefix: str) -> dict[str, Any]:
    return {
        "name": data.name.strip(), "title": data.title.strip(),
        "phone": check_phone(problems, f"{prefix}phone", data.phone),
        "email": data.email, "is_primary": data.is_primary,
    }  # fmt: skip


def _check_background(problems: Problems, kind: str, values: dict[str, Any]) -> None:
    """Background fields of the other kind of customer are refused, field by field;
    the registered capital is normalised to cents in ``values``."""
    wrong, other = (CORPORATE_ONLY, "an individual") if kind == "individual" else (
        INDIVIDUAL_ONLY, "a corporate")  # fmt: skip
    for name in wrong:
        if values.get(name) is not None:
            problems.add(f"body.{name}", f"not applicable to {other} customer")
    if values.get("established_on") is not None:
        check_not_future(problems, "body.established_on", values["established_on"])
    if values.get("registered_capital") is not None:
        values["registered_capital"] = check_amount(
            problems, "body.registered_capital", values["registered_capital"]
        )


def _one_primary(children: list[dict[str, Any]]) -> None:
    """Exactly one primary among new children: the first marked one, else the first."""
    primary = next((c for c in children if c["is_primary"]), children[0] if children else None)
    for child in children:
        child["is_primary"] = child is primary


async def create_customer(data: CustomerIn) -> CustomerDetail:
    """Create a customer with optional addresses, contacts and tags, audited."""
    branch_id = branch_in_scope(data.branch_id, "body.branch_id")
    problems = Problems()
    name = data.name.strip()
    if not name:
        problems.add("body.name", "must not be blank")
    identity = check_identity(problems, data.kind, data.id_type, data.id_number)
    if data.kind == "corporate" and (data.gender or data.birth_date):
        problems.add("body.gender", "a corporate customer has no gender or birth date")
    background = {name: getattr(data, name) for name in (*INDIVIDUAL_ONLY, *CORPORATE_ONLY)}
    _check_background(problems, data.kind, background)
    birth_date, gender = check_person(problems, identity, data.birth_date, data.gender)
    phone = check_phone(problems, "body.phone", data.phone)
    contacts = [
        _contact_values(problems, c, f"body.contacts[{i}].") for i, c in enumerate(data.contacts)
    ]
    addresses = [_address_values(a) for a in data.addresses]
    for children in (addresses, contacts):
        _one_primary(children)
    await _check_relationship_manager(problems, data.relationship_manager_id, branch_id)
    tag_ids = await _tag_ids(problems, branch_id, data.tags)
    problems.raise_if_any()
    assert identity is not None
    pinyin, initials = names.pinyin_keys(name, individual=data.kind == "individual")
    id_hash = pii.lookup_hash(identity.number)
    async with db.transaction():
        await _refuse_duplicate_identity(branch_id, id_hash)
        row = await db.fetchrow(
            f"INSERT INTO {CUSTOMER} (branch_id, kind, name, name_pinyin, name_initials, gender,"
            " birth_date, id_type, id_number_encrypted, id_number_hash, id_number_masked,"
            " phone, email, occupation, employer, industry, relationship_manager, status,"
            " education, income_band, marital_status, company_size, registered_capital,"
            " established_on, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8,"
            " $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24,"
            " now(), now()) RETURNING *",
            branch_id,
            data.kind,
            name,
            pinyin,
            initials,
            gender,
            birth_date,
            data.id_type,
            pii.encrypt(identity.number),
            id_hash,
            pii.mask_id_number(identity.number),
            phone,
            data.email,
            data.occupation,
            data.employer,
            data.industry,
            data.relationship_manager_id,
            data.status,
            *background.values(),
        )
        assert row is not None
        customer_id = row["id"]
        await write_search_keys(row)
        if addresses:
            await _insert_children(ADDRESS, branch_id, customer_id, addresses)
        if contacts:
            await _insert_children(CONTACT, branch_id, customer_id, contacts)
        if addresses or row["employer"]:
            await search.refresh_text_keys([customer_id])
        if tag_ids:
            await db.execute_many(
                f"INSERT INTO {CUSTOMER_TAG} (branch_id, customer, tag, created_at)"
                " VALUES ($1, $2, $3, now())",
                [(branch_id, customer_id, t) for t in tag_ids],
            )
        after = customer_snapshot(row)
        after["addresses"] = [_address_snapshot(a) for a in addresses]
        after["contacts"] = [_contact_snapshot(c) for c in contacts]
        after["tags"] = sorted(data.tags)
        await audit.record(
            audit.Action.CREATE, ENTITY_CUSTOMER, customer_id, branch_id=branch_id, after=after
        )
        await events.emit(
            events.CUSTOMER_CREATED, customer_id=customer_id, branch_id=branch_id, kind=data.kind
        )
        return customer_detail(await _fetch_detail(customer_id))


async def _fetch_detail(customer_id: int) -> asyncpg.Record:
    row = await db.fetchrow(DETAIL_SQL, customer_id)
    if row is None:
        raise not_found(f"customer {customer_id}")
    return row


async def _insert_children(
    table: str, branch_id: int, customer_id: int, rows: Sequence[Mapping[str, Any]]
) -> None:
    columns = list(rows[0])
    placeholders = ", ".join(f"${i + 3}" for i in range(len(columns)))
    await db.execute_many(
        f"INSERT INTO {table} (branch_id, customer, {', '.join(columns)}, created_at,"
        f" updated_at) VALUES ($1, $2, {placeholders}, now(), now())",
        [(branch_id, customer_id, *(r[c] for c in columns)) for r in rows],
    )


async def _locked_customer(customer_id: int) -> asyncpg.Record:
    row = await db.fetchrow(
        f"SELECT * FROM {CUSTOMER} WHERE id = $1 AND deleted_at IS NULL FOR UPDATE", customer_id
    )
    if row is None:
        raise not_found(f"customer {customer_id}")
    return row


async def update_customer(customer_id: int, data: CustomerPatch) -> CustomerDetail:
    """Change some fields of a customer (PATCH semantics), audited with before/after."""
    async with db.transaction():
        row = await _locked_customer(customer_id)
        problems = Problems()
        values: dict[str, Any] = {}
        if data.name is not UNSET:
            name = data.name.strip()
            if not name:
                problems.add("body.name", "must not be blank")
            values["name"] = name
            values["name_pinyin"], values["name_initials"] = names.pinyin_keys(
                name, individual=row["kind"] == "individual"
            )
        identity_touched = data.id_type is not UNSET or data.id_number is not UNSET
        person_touched = data.birth_date is not UNSET or data.gender is not UNSET
        if identity_touched or (person_touched and row["id_type"] == "resident_id"):
            id_type = row["id_type"] if data.id_type is UNSET else data.id_type
            number = (
                pii.decrypt(row["id_number_encrypted"])
                if data.id_number is UNSET
                else data.id_number
            )
            identity = check_identity(problems, row["kind"], id_type, number)
            birth_date = row["birth_date"] if data.birth_date is UNSET else data.birth_date
            gender = row["gender"] if data.gender is UNSET else data.gender
            if identity is not None and identity.birth_date is not None:
                # A new resident ID brings its own birth date and gender unless given.
                birth_date = None if data.birth_date is UNSET else data.birth_date
                gender = None if data.gender is UNSET else data.gender
            values["birth_date"], values["gender"] = check_person(
                problems, identity, birth_date, gender
            )
            if identity is not None and identity_touched:
                values["id_type"] = id_type
                values["id_number_encrypted"] = pii.encrypt(identity.number)
                values["id_number_hash"] = pii.lookup_hash(identity.number)
                values["id_number_masked"] = pii.mask_id_number(identity.number)
        else:
            if data.birth_date is not UNSET:
                values["birth_date"] = check_person(problems, None, data.birth_date, None)[0]
            if data.gender is not UNSET:
                values["gender"] = data.gender
        if row["kind"] == "corporate" and (values.get("gender") or values.get("birth_date")):
            problems.add("body.gender", "a corporate customer has no gender or birth date")
        if data.phone is not UNSET:
            values["phone"] = check_phone(problems, "body.phone", data.phone)
        for name in ("email", "occupation", "employer", "industry", "status",
                     *INDIVIDUAL_ONLY, *CORPORATE_ONLY):  # fmt: skip
            value = getattr(data, name)
            if value is not UNSET:
                values[name] = value
        _check_background(problems, row["kind"], values)
        if data.relationship_manager_id is not UNSET:
            await _check_relationship_manager(
                problems, data.relationship_manager_id, row["branch_id"]
            )
            values["relationship_manager"] = data.relationship_manager_id
        problems.raise_if_any()
        if values.get("id_number_hash") == row["id_number_hash"]:
            # The same document re-entered: keep the stored ciphertext.
            for key in ("id_number_encrypted", "id_number_hash", "id_number_masked"):
                values.pop(key)
        if "id_number_hash" in values:
            await _refuse_duplicate_identity(
                row["branch_id"], values["id_number_hash"], customer_id
            )
        changed = {k: v for k, v in values.items() if row[k] != v}
        if changed:
            assignments = ", ".join(f"{k} = ${i + 2}" for i, k in enumerate(changed))
            updated = await db.fetchrow(
                f"UPDATE {CUSTOMER} SET {assignments}, updated_at = now() WHERE id = $1"
                " RETURNING *",
                customer_id,
                *changed.values(),
            )
            assert updated is not None
            if "name" in changed or "phone" in changed or "employer" in changed:
                # Replacing drops every key of the customer: the text keys are derived anew.
                await write_search_keys(updated, replace=True)
                await search.refresh_text_keys([customer_id])
            before, after = audit_diff(row, updated, customer_snapshot)
            await audit.record(
                audit.Action.UPDATE,
                ENTITY_CUSTOMER,
                customer_id,
                branch_id=row["branch_id"],
                before=before,
                after=after,
            )
            await events.emit(
                events.CUSTOMER_UPDATED,
                customer_id=customer_id,
                branch_id=row["branch_id"],
                fields=sorted(after),
            )
        return customer_detail(await _fetch_detail(customer_id))


async def delete_customer(customer_id: int) -> None:
    """Soft-delete a customer whose accounts are all closed; audited with the last state."""
    async with db.transaction():
        row = await _locked_customer(customer_id)
        open_holdings = await db.fetchval(
            f"SELECT count(*) FROM {HOLDING} WHERE customer = $1 AND status <> 'closed'",
            customer_id,
        )
        if open_holdings:
            raise Problem(
                409,
                f"the customer still has {open_holdings} open account(s); close them first",
                code="open_holdings",
            )
        await db.fetch(
            f"UPDATE {CUSTOMER} SET deleted_at = now(), status = 'closed', updated_at = now()"
            " WHERE id = $1",
            customer_id,
        )
        await audit.record(
            audit.Action.DELETE,
            ENTITY_CUSTOMER,
            customer_id,
            branch_id=row["branch_id"],
            before=customer_snapshot(row),
            after={"deleted": True},
        )
        await events.emit(
            events.CUSTOMER_DELETED, customer_id=customer_id, branch_id=row["branch_id"]
        )


REVEALABLE = ("id_number", "phone", "email", "addresses", "contacts", "holdings")
_REVEAL_AUDIT = {
    "addresses": ["addresses.street"],
    "contacts": ["contacts.phone", "contacts.email"],
    "holdings": ["holdings.account_no"],
}


async def reveal_customer(
    customer_id: int, reason: str, fields: Sequence[str] | None = None
) -> RevealedPii:
    """The customer's personal data in clear (``fields`` of :data:`REVEALABLE`, all when
    None), audited as ``reveal`` with the reason and exactly what was shown."""
    wanted = [f for f in REVEALABLE if fields is None or f in fields]
    reason = reason.strip()
    if len(reason) < 2:
        raise invalid("body.reason", "state why you need the clear values")
    async with db.transaction():
        row = await db.fetchrow(
            f"SELECT c.id, c.branch_id, c.id_number_encrypted, c.phone, c.email,"
            f" (SELECT coalesce(json_agg(json_build_object('id', a.id, 'street', a.street)"
            f"   ORDER BY a.id), '[]') FROM {ADDRESS} a WHERE a.customer = c.id) AS addresses,"
            f" (SELECT coalesce(json_agg(json_build_object('id', k.id, 'phone', k.phone,"
            f"   'email', k.email) ORDER BY k.id), '[]') FROM {CONTACT} k"
            "   WHERE k.customer = c.id) AS contacts,"
            f" (SELECT coalesce(json_agg(json_build_object('id', h.id, 'account_no',"
            f"   h.account_no) ORDER BY h.id), '[]') FROM {HOLDING} h"
            "   WHERE h.customer = c.id) AS holdings"
            f" FROM {CUSTOMER} c WHERE c.id = $1 AND c.deleted_at IS NULL",
            customer_id,
        )
        if row is None:
            raise not_found(f"customer {customer_id}")
        revealed = RevealedPii(
            customer_id=customer_id,
            id_number=pii.decrypt(row["id_number_encrypted"]) if "id_number" in wanted else None,
            phone=row["phone"] if "phone" in wanted else None,
            email=row["email"] if "email" in wanted else None,
            addresses=msgspec.json.decode(row["addresses"], type=list[RevealedAddress])
            if "addresses" in wanted else [],
            contacts=msgspec.json.decode(row["contacts"], type=list[RevealedContact])
            if "contacts" in wanted else [],
            holdings=msgspec.json.decode(row["holdings"], type=list[RevealedHolding])
            if "holdings" in wanted else [],
            fields=wanted,
        )  # fmt: skip
        await audit.record(
            audit.Action.REVEAL,
            ENTITY_CUSTOMER,
            customer_id,
            branch_id=row["branch_id"],
            after={"fields": [a for f in wanted for a in _REVEAL_AUDIT.get(f, [f])]},
            reason=reason,
        )
    return revealed


# --- child rows: addresses and contacts ------------------------------------------------------


def _address_snapshot(values: Mapping[str, Any]) -> dict[str, Any]:
    snapshot = {k: values[k] for k in ("kind", "province", "city", "district", "postcode",
                                       "is_primary") if k in values}  # fmt: skip
    if "street" in values:
        snapshot["street"] = mask_street(values["street"])
    return snapshot


def _contact_snapshot(values: Mapping[str, Any]) -> dict[str, Any]:
    snapshot = {k: values[k] for k in ("name", "title", "is_primary") if k in values}
    if "phone" in values:
        snapshot["phone"] = mask_phone(values["phone"])
    if "email" in values:
        snapshot["email"] = mask_email(values["email"])
    return snapshot


@dataclass(frozen=True)
class _Child:
    table: str
    entity: str
    snapshot: Any
    """Row or values -> masked audit dict."""
    field: str
    """What changed, in a ``customer_updated`` event."""

    async def emit(self, row: Mapping[str, Any], change: str, fields: Iterable[str] = ()) -> None:
        if self.table == HOLDING:
            await events.emit(
                events.HOLDING_CHANGED,
                customer_id=row["customer"],
                branch_id=row["branch_id"],
                holding_id=row["id"],
                change=change,
                fields=sorted(fields),
            )
        else:
            await events.emit(
                events.CUSTOMER_UPDATED,
                customer_id=row["customer"],
                branch_id=row["branch_id"],
                fields=[self.field],
            )


_ADDRESS_CHILD = _Child(ADDRESS, ENTITY_ADDRESS, _address_snapshot, "addresses")
_CONTACT_CHILD = _Child(CONTACT, ENTITY_CONTACT, _contact_snapshot, "contacts")


async def _clear_other_primary(child: _Child, customer_id: int, keep_id: int) -> None:
    await db.fetch(
        f"UPDATE {child.table} SET is_primary = false, updated_at = now()"
        " WHERE customer = $1 AND id <> $2 AND is_primary",
        customer_id,
        keep_id,
    )


async def _add_child(child: _Child, customer_id: int, values: dict[str, Any]) -> asyncpg.Record:
    async with db.transaction():
        customer = await live_customer(customer_id)
        columns = list(values)
        placeholders = ", ".join(f"${i + 3}" for i in range(len(columns)))
        row = await db.fetchrow(
            f"INSERT INTO {child.table} (branch_id, customer, {', '.join(columns)}, created_at,"
            f" updated_at) VALUES ($1, $2, {placeholders}, now(), now()) RETURNING *",
            customer["branch_id"],
            customer_id,
            *values.values(),
        )
        assert row is not None
        if values.get("is_primary"):
            await _clear_other_primary(child, customer_id, row["id"])
        await audit.record(
            audit.Action.CREATE,
            child.entity,
            row["id"],
            branch_id=customer["branch_id"],
            after={"customer_id": customer_id, **child.snapshot(dict(row))},
        )
        await child.emit(row, "created", values)
        await _refresh_derived(child, customer_id)
        return row


async def _refresh_derived(child: _Child, customer_id: int) -> None:
    """Keep what search reads in step, in the writing transaction: the AUM after a
    holding change, the address keys after an address change."""
    if child.table == HOLDING:
        await search.refresh_aum([customer_id])
    elif child.table == ADDRESS:
        await search.refresh_text_keys([customer_id])


async def _locked_child(child: _Child, customer_id: int, child_id: int) -> asyncpg.Record:
    row = await db.fetchrow(
        f"SELECT t.* FROM {child.table} t JOIN {CUSTOMER} c ON c.id = t.customer"
        " WHERE t.id = $1 AND t.customer = $2 AND c.deleted_at IS NULL FOR UPDATE OF t",
        child_id,
        customer_id,
    )
    if row is None:
        raise not_found(f"{child.entity.split('.')[-1]} {child_id} of customer {customer_id}")
    return row


async def _update_child(
    child: _Child, customer_id: int, child_id: int, values: dict[str, Any]
) -> asyncpg.Record:
    async with db.transaction():
        row = await _locked_child(child, customer_id, child_id)
        changed = {k: v for k, v in values.items() if row[k] != v}
        if not changed:
            return row
        assignments = ", ".join(f"{k} = ${i + 2}" for i, k in enumerate(changed))
        updated = await db.fetchrow(
            f"UPDATE {child.table} SET {assignments}, updated_at = now() WHERE id = $1 RETURNING *",
            child_id,
            *changed.values(),
        )
        assert updated is not None
        if changed.get("is_primary"):
            await _clear_other_primary(child, customer_id, child_id)
        before, after = audit_diff(row, updated, child.snapshot)
        await audit.record(
            audit.Action.UPDATE,
            child.entity,
            child_id,
            branch_id=row["branch_id"],
            before=before,
            after=after,
        )
        await child.emit(updated, "updated", changed)
        await _refresh_derived(child, customer_id)
        return updated


async def _delete_child(child: _Child, customer_id: int, child_id: int) -> None:
    async with db.transaction():
        row = await _locked_child(child, customer_id, child_id)
        await db.fetch(f"DELETE FROM {child.table} WHERE id = $1", child_id)
        await audit.record(
            audit.Action.DELETE,
            child.entity,
            child_id,
            branch_id=row["branch_id"],
            before={"customer_id": customer_id, **child.snapshot(dict(row))},
        )
        await child.emit(row, "deleted")
        await _refresh_derived(child, customer_id)


def _address_out(row: Mapping[str, Any]) -> AddressOut:
    return AddressOut(
        row["id"], row["customer"], row["kind"], row["province"], row["city"],
        row["district"], mask_street(row["street"]), row["postcode"], row["is_primary"],
    )  # fmt: skip


def _contact_out(row: Mapping[str, Any]) -> ContactOut:
    return ContactOut(
        row["id"], row["customer"], row["name"], row["title"], mask_phone(row["phone"]),
        mask_email(row["email"]), row["is_primary"],
    )  # fmt: skip


async def _children(table: str, customer_id: int) -> list[asyncpg.Record]:
    rows = await db.fetch(
        f"SELECT t.*, c.id AS live FROM {CUSTOMER} c LEFT JOIN {table} t ON t.customer = c.id"
        " WHERE c.id = $1 AND c.deleted_at IS NULL ORDER BY t.is_primary DESC, t.id",
        customer_id,
    )
    if not rows:
        raise not_found(f"customer {customer_id}")
    return [r for r in rows if r["id"] is not None]


async def list_addresses(customer_id: int) -> list[AddressOut]:
    return [_address_out(r) for r in await _children(ADDRESS, customer_id)]


async def add_address(customer_id: int, data: AddressIn) -> AddressOut:
    return _address_out(await _add_child(_ADDRESS_CHILD, customer_id, _address_values(data)))


async def update_address(customer_id: int, address_id: int, data: AddressPatch) -> AddressOut:
    values = {k: v.strip() if isinstance(v, str) else v
              for k, v in msgspec.structs.asdict(data).items() if v is not UNSET}  # fmt: skip
    return _address_out(await _update_child(_ADDRESS_CHILD, customer_id, address_id, values))


async def delete_address(customer_id: int, address_id: int) -> None:
    await _delete_child(_ADDRESS_CHILD, customer_id, address_id)


async def list_contacts(customer_id: int) -> list[ContactOut]:
    return [_contact_out(r) for r in await _children(CONTACT, customer_id)]


async def add_contact(customer_id: int, data: ContactIn) -> ContactOut:
    problems = Problems()
    values = _contact_values(problems, data, "body.")
    problems.raise_if_any()
    return _contact_out(await _add_child(_CONTACT_CHILD, customer_id, values))


async def update_contact(customer_id: int, contact_id: int, data: ContactPatch) -> ContactOut:
    problems = Problems()
    values = {k: v.strip() if isinstance(v, str) else v
              for k, v in msgspec.structs.asdict(data).items() if v is not UNSET}  # fmt: skip
    if "phone" in values:
        values["phone"] = check_phone(problems, "body.phone", values["phone"])
    problems.raise_if_any()
    return _contact_out(await _update_child(_CONTACT_CHILD, customer_id, contact_id, values))


async def delete_contact(customer_id: int, contact_id: int) -> None:
    await _delete_child(_CONTACT_CHILD, customer_id, contact_id)


# --- holdings -------------------------------------------------------------------------------


def _holding_snapshot(values: Mapping[str, Any]) -> dict[str, Any]:
    snapshot = {k: values[k] for k in ("product", "balance", "currency", "opened_on", "status")
                if k in values}  # fmt: skip
    if "account_no" in values:
        snapshot["account_no"] = mask_account(values["account_no"])
    return snapshot


_HOLDING_CHILD = _Child(HOLDING, ENTITY_HOLDING, _holding_snapshot, "holdings")

_HOLDING_COLUMNS = """h.id, h.customer, h.product, p.code, p.name AS product_name, p.category,
  p.balance_type, h.account_no, h.balance, h.currency, h.opened_on, h.status, h.updated_at"""


def _holding_out(row: Mapping[str, Any]) -> HoldingOut:
    return HoldingOut(
        row["id"], row["customer"], row["product"], row["code"], row["product_name"],
        row["category"], row["balance_type"], mask_account(row["account_no"]), row["balance"],
        row["currency"], row["opened_on"], row["status"], row["updated_at"],
    )  # fmt: skip


async def _holding(holding_id: int) -> HoldingOut:
    row = await db.fetchrow(
        f"SELECT {_HOLDING_COLUMNS} FROM {HOLDING} h JOIN {PRODUCT} p ON p.id = h.product"
        " WHERE h.id = $1",
        holding_id,
    )
    assert row is not None
    return _holding_out(row)


async def list_holdings(customer_id: int) -> list[HoldingOut]:
    rows = await db.fetch(
        f"SELECT {_HOLDING_COLUMNS}, c.id AS live FROM {CUSTOMER} c"
        f" LEFT JOIN {HOLDING} h ON h.customer = c.id LEFT JOIN {PRODUCT} p ON p.id = h.product"
        " WHERE c.id = $1 AND c.deleted_at IS NULL ORDER BY h.id",
        customer_id,
    )
    if not rows:
        raise not_found(f"customer {customer_id}")
    return [_holding_out(r) for r in rows if r["id"] is not None]


def _unique_account() -> Problem:
    return Problem(
        409,
        "another account already has this number",
        [FieldError("body.account_no", "already in use")],
        "duplicate",
    )


async def add_holding(customer_id: int, data: HoldingIn) -> HoldingOut:
    problems = Problems()
    balance = check_amount(problems, "body.balance", data.balance)
    check_not_future(problems, "body.opened_on", data.opened_on)
    customer = await live_customer(customer_id)
    product = await db.fetchrow(
        f"SELECT id, segment, active FROM {PRODUCT} WHERE code = $1", data.product_code
    )
    if product is None or not product["active"]:
        problems.add("body.product_code", "no active product has this code")
    elif product["segment"] != customer["kind"]:
        problems.add("body.product_code", f"the product is for {product['segment']} customers")
    problems.raise_if_any()
    assert product is not None
    values = {
        "product": product["id"], "account_no": data.account_no, "balance": balance,
        "currency": data.currency, "opened_on": data.opened_on or date.today(),
        "status": data.status,
    }  # fmt: skip
    try:
        row = await _add_child(_HOLDING_CHILD, customer_id, values)
    except asyncpg.UniqueViolationError as exc:
        raise _unique_account() from exc
    return await _holding(row["id"])


async def update_holding(customer_id: int, holding_id: int, data: HoldingPatch) -> HoldingOut:
    problems = Problems()
    values = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not UNSET}
    if "balance" in values:
        values["balance"] = check_amount(problems, "body.balance", values["balance"])
    if "opened_on" in values:
        check_not_future(problems, "body.opened_on", values["opened_on"])
    problems.raise_if_any()
    await _update_child(_HOLDING_CHILD, customer_id, holding_id, values)
    return await _holding(holding_id)


async def delete_holding(customer_id: int, holding_id: int) -> None:
    """Remove a holding recorded in error (the audit trail keeps its last state)."""
    await _delete_child(_HOLDING_CHILD, customer_id, holding_id)


# --- KPIs -----------------------------------------------------------------------------------

KPI_SQL = f"""SELECT
  (SELECT count(*) FROM {CUSTOMER} WHERE deleted_at IS NULL) AS customers,
  (SELECT coalesce(sum(h.balance), 0) FROM {HOLDING} h
     JOIN {PRODUCT} p ON p.id = h.product JOIN {CUSTOMER} c ON c.id = h.customer
   WHERE p.balance_type = 'asset' AND h.status <> 'closed' AND h.currency = 'CNY'
     AND c.deleted_at IS NULL) AS aum"""


async def kpis() -> dict[str, Any]:
    """The metrics declared in ``register_metrics``, over the branches in scope."""
    row = await db.fetchrow(KPI_SQL)
    assert row is not None
    return {"customer_archive.customers": row["customers"], "customer_archive.aum": row["aum"]}


async def customer_count() -> int:
    """The KPI ``customer_archive.customers`` over the branches in scope."""
    return int((await kpis())["customer_archive.customers"])


async def aum_total() -> Decimal:
    """The KPI ``customer_archive.aum`` over the branches in scope, in CNY."""
    return Decimal((await kpis())["customer_archive.aum"] or 0)
