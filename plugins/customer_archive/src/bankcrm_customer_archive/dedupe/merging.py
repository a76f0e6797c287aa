"""Merge (归并) two customers with survivorship rules, and un-merge them exactly.

A merge is requested by one person and carried out only when a second person with
``customer_archive.merge.approve`` approves it (maker-checker). Carrying it out, in one
transaction with its audit rows and the ``customer_archive.customer.merged`` event:

1. both customer rows and every row that points at either of them (declared by every
   plugin through the ``customer_references`` hook) are copied in full into the ledger
   (``customer_archive_merge``);
2. the merged customer is soft-deleted with ``merged_into`` = the survivor;
3. the survivor's fields are chosen field by field (:func:`survivor_values`);
4. the merged customer's rows are re-pointed to the survivor (and to its branch); a row
   whose unique key the survivor already has (a tag both carry, a household both belong
   to) or that would link the survivor to itself is dropped instead; derived rows (search
   keys) are rebuilt; the moved rows' ids are kept in the ledger.

Un-merge puts back, from the ledger, both customer rows and every recorded row exactly as
they were (ids, branches, flags), re-inserts the dropped rows and the search keys, and
refuses when the survivor changed after the merge (restoring it would lose that change).

Survivorship rules (the survivor is the older customer unless the requester chooses):

- identity: the survivor's ID document, unless only the merged customer's is a resident
  ID card (a document whose check digit and birth date were verified), which then wins
  together with the birth date and gender it carries;
- name: the survivor's;
- contact data (phone, e-mail): the most recently updated non-empty value;
- everything else (birth date, gender, occupation, employer, background, ratings,
  relationship manager): the survivor's value, or the merged customer's where the
  survivor has none; ``last_activity_at`` the later, ``created_at`` the earlier;
  ``status`` active if either is; AUM recomputed from the holdings both now share;
- addresses, contacts, channels, holdings, contracts, ratings, tags, relations: the
  union; the more complete primary address (the longer full address) stays primary, other
  primaries of the merged customer are demoted.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import msgspec

from bankcrm import audit, db
from bankcrm.context import require_scope
from bankcrm.plugin_api import PluginHooks
from bankcrm.web.problems import FieldError, Problem, not_found
from bankcrm_customer_archive import events, records
from bankcrm_customer_archive.dedupe.references import CustomerReference
from bankcrm_customer_archive.search import services as search

log = logging.getLogger(__name__)

CUSTOMER = "customer_archive_customer"
ADDRESS = "customer_archive_customer_address"
CANDIDATE = "customer_archive_duplicate_candidate"
MERGE = "customer_archive_merge"
ENTITY_MERGE = "customer_archive.merge"
ENTITY_CANDIDATE = "customer_archive.duplicate_candidate"

OWN_REFERENCES: tuple[CustomerReference, ...] = (
    CustomerReference("customer_archive_customer_address", demote="is_primary"),
    CustomerReference("customer_archive_customer_contact", demote="is_primary"),
    CustomerReference("customer_archive_holding"),
    CustomerReference("customer_archive_customer_tag", unique_with=("tag",)),
    CustomerReference("customer_archive_search_key", derived=True),
    CustomerReference(
        "customer_archive_contact_channel",
        unique_with=("kind", "value"),
        demote="is_primary",
        demote_within=("kind",),
    ),
    CustomerReference("customer_archive_relation", unique_with=("related", "kind")),
    CustomerReference("customer_archive_relation", column="related",
                      unique_with=("customer", "kind")),
    # A household is a group of its own: its branch stays when its head is merged.
    CustomerReference("customer_archive_household", column="head", moves_branch=False),
    CustomerReference("customer_archive_household_member", unique_with=()),
    CustomerReference("customer_archive_balance_snapshot"),
    CustomerReference("customer_archive_aum_snapshot", unique_with=("snapshot_on",)),
    # Documents carry their contract's branch, so they follow it to the survivor's.
    CustomerReference(
        "customer_archive_contract",
        followers=(("customer_archive_contract_document", "contract"),),
    ),
    CustomerReference("customer_archive_rating"),
)  # fmt: skip
"""customer_archive's own tables that point at a customer (its ``customer_references``)."""

CONTACT_FIELDS = ("phone", "email")
IDENTITY_FIELDS = ("id_type", "id_number_encrypted", "id_number_hash", "id_number_masked")
# Kept from the survivor, filled from the merged customer when the survivor has none.
FILL_FIELDS = (
    "birth_date", "gender", "occupation", "employer", "industry", "relationship_manager",
    "education", "income_band", "marital_status", "company_size", "registered_capital",
    "established_on", "credit_grade", "risk_tolerance", "value_tier",
)  # fmt: skip


class MergeOut(msgspec.Struct, kw_only=True):
    id: int
    branch_id: int
    candidate_id: int | None
    survivor_id: int
    merged_id: int
    status: str
    note: str
    requested_by: int | None
    requested_at: Any
    decided_by: int | None
    decided_at: Any
    unmerged_by: int | None
    unmerged_at: Any
    repointed: dict[str, int]
    """Rows moved to the survivor, per table."""
    dropped: dict[str, int]
    """Rows of the merged customer removed as duplicates or derived data, per table."""
    followed: dict[str, int]
    """Dependent rows (contract documents) moved to the survivor's branch with their
    re-pointed parents, per table."""


def _merge_out(row: Mapping[str, Any]) -> MergeOut:
    def counts(value: Any) -> dict[str, int]:
        decoded = json.loads(value) if isinstance(value, str) else (value or {})
        return {table: len(ids) for table, ids in decoded.items() if ids}

    return MergeOut(
        id=row["id"], branch_id=row["branch_id"], candidate_id=row["candidate"],
        survivor_id=row["survivor"], merged_id=row["merged"], status=row["status"],
        note=row["note"], requested_by=row["requested_by"], requested_at=row["requested_at"],
        decided_by=row["decided_by"], decided_at=row["decided_at"],
        unmerged_by=row["unmerged_by"], unmerged_at=row["unmerged_at"],
        repointed=counts(row["repointed"]), dropped=counts(row["dropped"]),
        followed=counts(row["followed"]),
    )  # fmt: skip


def references(registry: PluginHooks | None) -> list[CustomerReference]:
    """Every plugin's declarations (customer_archive's own first), checked."""
    found: list[CustomerReference] = list(OWN_REFERENCES)
    if registry is None:
        return found
    for plugin, answer in registry.call_each("customer_references"):
        if plugin == "customer_archive":
            continue
        for item in answer or ():
            if not isinstance(item, CustomerReference):
                raise TypeError(f"customer_references of {plugin} answered {item!r}")
            found.append(item)
    return found


async def _existing(refs: Sequence[CustomerReference]) -> list[CustomerReference]:
    """The declarations whose table exists (a plugin's migration may not have run), with
    only the followers whose table exists."""
    names = {r.table for r in refs} | {table for r in refs for table, _ in r.followers}
    tables = await db.fetch(
        "SELECT table_name::text AS name FROM information_schema.tables"
        " WHERE table_schema = current_schema() AND table_name = ANY($1::text[])",
        sorted(names),
    )
    present = {t["name"] for t in tables}
    return [
        dataclasses.replace(r, followers=tuple(f for f in r.followers if f[0] in present))
        for r in refs
        if r.table in present
    ]


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def _row_json(table: str, row_id: int) -> dict[str, Any] | None:
    value = await db.fetchval(f"SELECT to_jsonb(t) FROM {table} t WHERE t.id = $1", row_id)
    return None if value is None else dict(json.loads(value))


def _lowest_common_branch(tree: Any, left: int, right: int) -> int | None:
    if left == right:
        return left
    above_right = set(tree.ancestors(right))
    return next((b for b in tree.ancestors(left) if b in above_right), None)


async def _two_live(first: int, second: int, *, lock: bool) -> dict[int, asyncpg.Record]:
    rows = await db.fetch(
        f"SELECT * FROM {CUSTOMER} WHERE id = ANY($1::int[]) AND deleted_at IS NULL"
        + (" ORDER BY id FOR UPDATE" if lock else ""),
        [first, second],
    )
    found = {r["id"]: r for r in rows}
    for customer_id in (first, second):
        if customer_id not in found:
            raise not_found(f"customer {customer_id}")
    return found


# --- requests and decisions --------------------------------------------------------------


async def request_merge(
    survivor_id: int, merged_id: int, *, note: str = "", candidate_id: int | None = None
) -> MergeOut:
    """Ask for ``merged_id`` to be merged into ``survivor_id`` (a second person approves)."""
    from bankcrm import branches

    if survivor_id == merged_id:
        raise Problem(422, "a customer cannot be merged into itself",
                      [FieldError("body.survivor_id", "must differ from the other customer")],
                      "invalid")  # fmt: skip
    scope = require_scope()
    async with db.transaction():
        customers = await _two_live(survivor_id, merged_id, lock=True)
        if customers[survivor_id]["kind"] != customers[merged_id]["kind"]:
            raise Problem(409, "an individual and a company cannot be merged", code="kind")
        tree = await branches.snapshot()
        branch_id = _lowest_common_branch(
            tree, customers[survivor_id]["branch_id"], customers[merged_id]["branch_id"]
        )
        if branch_id is None or branch_id not in scope.branch_ids:
            raise Problem(403, "the two customers' branches are not both in your scope",
                          code="forbidden")  # fmt: skip
        try:
            row = await db.fetchrow(
                f"INSERT INTO {MERGE} (branch_id, candidate, survivor, merged, status, note,"
                " requested_by, requested_at) VALUES ($1, $2, $3, $4, 'requested', $5, $6,"
                " now()) RETURNING *",
                branch_id, candidate_id, survivor_id, merged_id, note.strip(), scope.user_id,
            )  # fmt: skip
        except asyncpg.UniqueViolationError as exc:
            raise Problem(409, f"customer {merged_id} already has a merge requested or done",
                          code="pending_merge") from exc  # fmt: skip
        assert row is not None
        await audit.record(
            audit.Action.CREATE, ENTITY_MERGE, row["id"], branch_id=branch_id,
            after={"status": "requested", "survivor_id": survivor_id, "merged_id": merged_id,
                   "candidate_id": candidate_id, "note": note.strip()},
        )  # fmt: skip
    return _merge_out(row)


async def _locked_merge(merge_id: int, status: str) -> asyncpg.Record:
    row = await db.fetchrow(f"SELECT * FROM {MERGE} WHERE id = $1 FOR UPDATE", merge_id)
    if row is None:
        raise not_found(f"merge {merge_id}")
    if row["status"] != status:
        raise Problem(409, f"merge {merge_id} is {row['status']}, not {status}", code="state")
    return row


def _refuse_own_request(row: Mapping[str, Any]) -> None:
    scope = require_scope()
    if scope.user_id is None or row["requested_by"] == scope.user_id:
        raise Problem(
            403,
            "a merge is approved or rejected by someone other than who requested it",
            code="maker_checker",
        )


async def reject_merge(merge_id: int, note: str = "") -> MergeOut:
    scope = require_scope()
    async with db.transaction():
        row = await _locked_merge(merge_id, "requested")
        _refuse_own_request(row)
        updated = await db.fetchrow(
            f"UPDATE {MERGE} SET status = 'rejected', decided_by = $2, decided_at = now(),"
            " note = CASE WHEN $3 = '' THEN note ELSE note || E'\\n' || $3 END"
            " WHERE id = $1 RETURNING *",
            merge_id, scope.user_id, note.strip(),
        )  # fmt: skip
        assert updated is not None
        await audit.record(audit.Action.UPDATE, ENTITY_MERGE, merge_id,
                           branch_id=row["branch_id"], before={"status": "requested"},
                           after={"status": "rejected"}, reason=note.strip())  # fmt: skip
    return _merge_out(updated)


async def get_merge(merge_id: int) -> MergeOut:
    row = await db.fetchrow(f"SELECT * FROM {MERGE} WHERE id = $1", merge_id)
    if row is None:
        raise not_found(f"merge {merge_id}")
    return _merge_out(row)


async def list_merges(status: str | None, limit: int, after_id: int | None) -> list[MergeOut]:
    rows = await db.fetch(
        f"SELECT * FROM {MERGE} WHERE ($1::text IS NULL OR status = $1)"
        " AND ($2::int IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
        status, after_id, limit,
    )  # fmt: skip
    return [_merge_out(r) for r in rows]


# --- survivorship ------------------------------------------------------------------------


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def survivor_values(survivor: Mapping[str, Any], merged: Mapping[str, Any]) -> dict[str, Any]:
    """The survivor's changed fields after applying the rules of the module doc."""
    values: dict[str, Any] = {}
    if survivor["id_type"] != "resident_id" and merged["id_type"] == "resident_id":
        for name in (*IDENTITY_FIELDS, "birth_date", "gender"):
            values[name] = merged[name]
    newer, older = (
        (merged, survivor) if merged["updated_at"] > survivor["updated_at"] else (survivor, merged)
    )
    for name in CONTACT_FIELDS:
        values[name] = older[name] if _empty(newer[name]) else newer[name]
    for name in FILL_FIELDS:
        if name in survivor and name not in values and _empty(survivor[name]):
            values[name] = merged[name]
    if "last_activity_at" in survivor:
        stamps = [s for s in (survivor["last_activity_at"], merged["last_activity_at"]) if s]
        values["last_activity_at"] = max(stamps) if stamps else None
    values["created_at"] = min(survivor["created_at"], merged["created_at"])
    if merged["status"] == "active":
        values["status"] = "active"
    return {k: v for k, v in values.items() if survivor[k] != v}


# --- carrying a merge out ----------------------------------------------------------------


@dataclass
class _Ledger:
    rows_before: dict[str, dict[int, dict[str, Any]]]
    repointed: dict[str, list[int]]
    dropped: dict[str, list[int]]
    followed: dict[str, list[dict[str, int]]]


async def _snapshot_rows(
    refs: Sequence[CustomerReference], ids: Sequence[int], ledger: _Ledger
) -> None:
    for ref in refs:
        rows = await db.fetch(
            f"SELECT t.id, to_jsonb(t) AS row FROM {ref.table} t"
            f" WHERE t.{_ident(ref.column)} = ANY($1::int[])",
            list(ids),
        )
        kept = ledger.rows_before.setdefault(ref.table, {})
        for r in rows:
            kept[r["id"]] = json.loads(r["row"])


async def _has_branch(table: str) -> bool:
    return bool(
        await db.fetchval(
            "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema()"
            " AND table_name = $1 AND column_name = 'branch_id'",
            table,
        )
    )


async def _repoint(
    refs: Sequence[CustomerReference], survivor: Mapping[str, Any], merged_id: int, ledger: _Ledger
) -> None:
    survivor_id = survivor["id"]
    by_table: dict[str, list[CustomerReference]] = {}
    for ref in refs:
        by_table.setdefault(ref.table, []).append(ref)
    for ref in refs:
        column = _ident(ref.column)
        dropped = ledger.dropped.setdefault(ref.table, [])
        if ref.derived:
            rows = await db.fetch(
                f"DELETE FROM {ref.table} WHERE {column} = $1 RETURNING id", merged_id
            )
            dropped.extend(r["id"] for r in rows)
            continue
        # A row linking the two customers would link the survivor to itself.
        for other in by_table[ref.table]:
            if other.column != ref.column:
                rows = await db.fetch(
                    f"DELETE FROM {ref.table} WHERE {column} = $1"
                    f" AND {_ident(other.column)} IN ($1, $2) RETURNING id",
                    merged_id, survivor_id,
                )  # fmt: skip
                dropped.extend(r["id"] for r in rows)
        if ref.unique_with is not None:
            same = "".join(f" AND s.{_ident(c)} = m.{_ident(c)}" for c in ref.unique_with)
            rows = await db.fetch(
                f"DELETE FROM {ref.table} m WHERE m.{column} = $1 AND EXISTS (SELECT 1 FROM"
                f" {ref.table} s WHERE s.{column} = $2{same}) RETURNING m.id",
                merged_id, survivor_id,
            )  # fmt: skip
            dropped.extend(r["id"] for r in rows)
        if ref.demote is not None:
            await _demote(ref, survivor_id, merged_id)
        moves_branch = ref.moves_branch and await _has_branch(ref.table)
        try:
            rows = await db.fetch(
                f"UPDATE {ref.table} SET {column} = $2"
                + (", branch_id = $3" if moves_branch else "")
                + f" WHERE {column} = $1 RETURNING id",
                *((merged_id, survivor_id, survivor["branch_id"]) if moves_branch
                  else (merged_id, survivor_id)),
            )  # fmt: skip
        except asyncpg.UniqueViolationError as exc:
            # A contract number the survivor's branch already uses, for example.
            raise Problem(
                409,
                f"a row of {ref.table} of customer {merged_id} clashes with one in the"
                f" survivor's branch ({exc.constraint_name}); change one of them first",
                code="merge_conflict",
            ) from exc
        moved = [r["id"] for r in rows]
        ledger.repointed.setdefault(ref.table, []).extend(moved)
        if moves_branch and moved:
            for table, parent in ref.followers:
                await _follow(table, parent, moved, survivor["branch_id"], ledger)


async def _follow(
    table: str, parent: str, parent_ids: Sequence[int], branch_id: int, ledger: _Ledger
) -> None:
    """Move the rows of ``table`` that belong to the re-pointed ``parent_ids`` to
    ``branch_id``, recording every one of them with the branch it had."""
    rows = await db.fetch(
        f"SELECT id, branch_id FROM {table} WHERE {_ident(parent)} = ANY($1::bigint[])"
        " ORDER BY id FOR UPDATE",
        list(parent_ids),
    )
    if not rows:
        return
    ledger.followed.setdefault(table, []).extend(
        {"id": r["id"], "branch_id": r["branch_id"]} for r in rows
    )
    await db.fetch(
        f"UPDATE {table} SET branch_id = $2 WHERE id = ANY($1::bigint[])",
        [r["id"] for r in rows],
        branch_id,
    )


async def _demote(ref: CustomerReference, survivor_id: int, merged_id: int) -> None:
    """One flagged row (a primary address, contact, channel per kind) after the merge."""
    assert ref.demote is not None
    column, flag = _ident(ref.column), _ident(ref.demote)
    same = "".join(f" AND s.{_ident(c)} = m.{_ident(c)}" for c in ref.demote_within)
    if ref.table == ADDRESS:
        # The more complete primary address stays primary, whoever had it.
        rows = await db.fetch(
            f"SELECT id, customer, length(province || city || district || street) AS size"
            f" FROM {ADDRESS} WHERE customer IN ($1, $2) AND is_primary",
            survivor_id, merged_id,
        )  # fmt: skip
        if len(rows) > 1:
            best = max(rows, key=lambda r: (r["size"], r["customer"] == survivor_id))
            await db.fetch(
                f"UPDATE {ADDRESS} SET is_primary = false WHERE customer IN ($1, $2)"
                " AND is_primary AND id <> $3",
                survivor_id, merged_id, best["id"],
            )  # fmt: skip
        return
    await db.fetch(
        f"UPDATE {ref.table} m SET {flag} = false WHERE m.{column} = $1 AND m.{flag}"
        f" AND EXISTS (SELECT 1 FROM {ref.table} s WHERE s.{column} = $2 AND s.{flag}{same})",
        merged_id, survivor_id,
    )  # fmt: skip


async def approve_merge(merge_id: int, registry: PluginHooks | None) -> MergeOut:
    """Carry out a requested merge (by someone other than the requester), audited."""
    scope = require_scope()
    async with db.transaction():
        request = await _locked_merge(merge_id, "requested")
        _refuse_own_request(request)
        survivor_id, merged_id = request["survivor"], request["merged"]
        customers = await _two_live(survivor_id, merged_id, lock=True)
        survivor, merged = dict(customers[survivor_id]), dict(customers[merged_id])
        survivor_before = await _row_json(CUSTOMER, survivor_id)
        merged_before = await _row_json(CUSTOMER, merged_id)
        refs = await _existing(references(registry))
        ledger = _Ledger({}, {}, {}, {})
        await _snapshot_rows(refs, [survivor_id, merged_id], ledger)

        # The merged customer goes first: its identity may move to the survivor, and
        # one live customer per document and branch is a unique rule.
        await db.fetch(
            f"UPDATE {CUSTOMER} SET deleted_at = now(), merged_into = $2, updated_at = now()"
            " WHERE id = $1",
            merged_id, survivor_id,
        )  # fmt: skip
        changed = survivor_values(survivor, merged)
        await _repoint(refs, survivor, merged_id, ledger)
        if changed:
            assignments = ", ".join(f"{_ident(k)} = ${i + 2}" for i, k in enumerate(changed))
            await db.fetch(
                f"UPDATE {CUSTOMER} SET {assignments}, updated_at = now() WHERE id = $1",
                survivor_id, *changed.values(),
            )  # fmt: skip
        updated = await db.fetchrow(f"SELECT * FROM {CUSTOMER} WHERE id = $1", survivor_id)
        assert updated is not None
        await records.write_search_keys(updated, replace=True)
        await search.refresh_text_keys([survivor_id])
        await search.refresh_aum([survivor_id])
        survivor_after = await _row_json(CUSTOMER, survivor_id)

        rows_before = {t: list(rows.values()) for t, rows in ledger.rows_before.items() if rows}
        result = await db.fetchrow(
            f"UPDATE {MERGE} SET status = 'merged', decided_by = $2, decided_at = now(),"
            " survivor_before = $3::jsonb, merged_before = $4::jsonb, survivor_after = $5::jsonb,"
            " rows_before = $6::jsonb, repointed = $7::jsonb, dropped = $8::jsonb,"
            " followed = $9::jsonb WHERE id = $1 RETURNING *",
            merge_id, scope.user_id, db.jsonb(survivor_before), db.jsonb(merged_before),
            db.jsonb(survivor_after), db.jsonb(rows_before),
            db.jsonb({t: ids for t, ids in ledger.repointed.items() if ids}),
            db.jsonb({t: ids for t, ids in ledger.dropped.items() if ids}),
            db.jsonb(ledger.followed),
        )  # fmt: skip
        assert result is not None
        if request["candidate"] is not None:
            await db.fetch(
                f"UPDATE {CANDIDATE} SET status = 'merged', decided_by = $2, decided_at = now()"
                " WHERE id = $1",
                request["candidate"], scope.user_id,
            )  # fmt: skip
        reason = f"merge {merge_id}"
        before, after = records.audit_diff(survivor, dict(updated), records.customer_snapshot)
        await audit.record(
            audit.Action.UPDATE,
            records.ENTITY_CUSTOMER,
            survivor_id,
            branch_id=survivor["branch_id"],
            before=before,
            after={**after, "merged_from": merged_id},
            reason=reason,
        )
        await audit.record(
            audit.Action.DELETE,
            records.ENTITY_CUSTOMER,
            merged_id,
            branch_id=merged["branch_id"],
            before=records.customer_snapshot(merged),
            after={"merged_into": survivor_id},
            reason=reason,
        )
        out = _merge_out(result)
        await audit.record(
            audit.Action.UPDATE,
            ENTITY_MERGE,
            merge_id,
            branch_id=request["branch_id"],
            before={"status": "requested"},
            after={
                "status": "merged",
                "repointed": out.repointed,
                "dropped": out.dropped,
                "followed": out.followed,
            },
        )
        await events.emit(events.CUSTOMER_MERGED, survivor_id=survivor_id, merged_id=merged_id,
                          merge_id=merge_id, branch_id=survivor["branch_id"])  # fmt: skip
    return out


# --- un-merge ----------------------------------------------------------------------------


async def _restore_rows(table: str, rows: list[dict[str, Any]], insert_ids: set[int]) -> int:
    """Put ``rows`` back as they were: update those that exist, insert ``insert_ids``."""
    if not rows:
        return 0
    columns = [c for c in rows[0] if c != "id"]
    targets = ", ".join(_ident(c) for c in columns)
    sources = ", ".join(f"r.{_ident(c)}" for c in columns)
    payload = db.jsonb(rows)
    updated = await db.fetch(
        f"UPDATE {table} t SET ({targets}) = ({sources})"
        f" FROM jsonb_populate_recordset(NULL::{table}, $1::jsonb) r WHERE t.id = r.id"
        " RETURNING t.id",
        payload,
    )
    inserted = await db.fetch(
        f"INSERT INTO {table} SELECT r.* FROM jsonb_populate_recordset(NULL::{table},"
        " $1::jsonb) r WHERE r.id = ANY($2::bigint[])"
        f" AND NOT EXISTS (SELECT 1 FROM {table} t WHERE t.id = r.id) RETURNING id",
        payload,
        sorted(insert_ids),
    )
    return len(updated) + len(inserted)


async def _restore_followers(
    refs: Sequence[CustomerReference],
    repointed: Mapping[str, list[int]],
    followed: Mapping[str, list[dict[str, int]]],
) -> None:
    """Give the recorded dependent rows their branches back, and let those added since the
    merge (a document attached to a moved contract) follow their restored parent."""
    for table, rows in followed.items():
        await db.fetch(
            f"UPDATE {table} t SET branch_id = r.branch_id"
            " FROM jsonb_to_recordset($1::jsonb) AS r(id bigint, branch_id bigint)"
            " WHERE t.id = r.id AND t.branch_id IS DISTINCT FROM r.branch_id",
            db.jsonb(rows),
        )
    for ref in refs:
        parent_ids = repointed.get(ref.table, [])
        if not (ref.moves_branch and parent_ids):
            continue
        for table, parent in ref.followers:
            recorded = [r["id"] for r in followed.get(table, [])]
            await db.fetch(
                f"UPDATE {table} t SET branch_id = p.branch_id FROM {ref.table} p"
                f" WHERE p.id = t.{_ident(parent)} AND p.id = ANY($1::bigint[])"
                " AND t.id <> ALL($2::bigint[]) AND t.branch_id IS DISTINCT FROM p.branch_id",
                parent_ids,
                recorded,
            )


async def unmerge(merge_id: int, registry: PluginHooks | None, reason: str = "") -> MergeOut:
    """Restore both customers and every recorded row exactly as before the merge."""
    scope = require_scope()
    async with db.transaction():
        request = await _locked_merge(merge_id, "merged")
        survivor_id, merged_id = request["survivor"], request["merged"]
        current = await db.fetchrow(
            f"SELECT c.*, to_jsonb(c) = $2::jsonb AS unchanged FROM {CUSTOMER} c"
            " WHERE c.id = $1 FOR UPDATE",
            survivor_id, request["survivor_after"],
        )  # fmt: skip
        if current is None:
            raise not_found(f"customer {survivor_id}")
        if not current["unchanged"]:
            raise Problem(409, f"customer {survivor_id} changed after the merge; un-merging"
                          " would lose those changes (revert them first)",
                          code="changed_since_merge")  # fmt: skip
        merged_row = await db.fetchrow(
            f"SELECT * FROM {CUSTOMER} WHERE id = $1 FOR UPDATE", merged_id
        )
        assert merged_row is not None
        rows_before: dict[str, list[dict[str, Any]]] = json.loads(request["rows_before"])
        dropped: dict[str, list[int]] = json.loads(request["dropped"])
        refs = await _existing(references(registry))
        derived = {r.table: r for r in refs if r.derived}
        for table, ref in derived.items():
            await db.fetch(
                f"DELETE FROM {table} WHERE {_ident(ref.column)} = ANY($1::int[])",
                [survivor_id, merged_id],
            )
        for table in rows_before:
            if table in derived:
                rows = rows_before[table]
                await _restore_rows(table, rows, {r["id"] for r in rows})
        # Customers before their children: the survivor gives back an identity it took.
        await _restore_rows(CUSTOMER, [json.loads(request["survivor_before"])], set())
        await _restore_rows(CUSTOMER, [json.loads(request["merged_before"])], set())
        for table, rows in rows_before.items():
            if table not in derived:
                await _restore_rows(table, rows, set(dropped.get(table, ())))
        await _restore_followers(refs, json.loads(request["repointed"]),
                                 json.loads(request["followed"]))  # fmt: skip
        result = await db.fetchrow(
            f"UPDATE {MERGE} SET status = 'unmerged', unmerged_by = $2, unmerged_at = now()"
            " WHERE id = $1 RETURNING *",
            merge_id, scope.user_id,
        )  # fmt: skip
        assert result is not None
        if request["candidate"] is not None:
            await db.fetch(
                f"UPDATE {CANDIDATE} SET status = 'open', decided_by = NULL, decided_at = NULL"
                " WHERE id = $1",
                request["candidate"],
            )
        survivor_restored = await db.fetchrow(
            f"SELECT * FROM {CUSTOMER} WHERE id = $1", survivor_id
        )
        assert survivor_restored is not None
        text = f"un-merge {merge_id}" + (f": {reason.strip()}" if reason.strip() else "")
        before, after = records.audit_diff(dict(current), dict(survivor_restored),
                                       records.customer_snapshot)  # fmt: skip
        await audit.record(
            audit.Action.UPDATE,
            records.ENTITY_CUSTOMER,
            survivor_id,
            branch_id=current["branch_id"],
            before=before,
            after=after,
            reason=text,
        )
        await audit.record(
            audit.Action.UPDATE,
            records.ENTITY_CUSTOMER,
            merged_id,
            branch_id=merged_row["branch_id"],
            before={"merged_into": survivor_id, "deleted": True},
            after={"merged_into": None, "deleted": False},
            reason=text,
        )
        await audit.record(
            audit.Action.UPDATE,
            ENTITY_MERGE,
            merge_id,
            branch_id=request["branch_id"],
            before={"status": "merged"},
            after={"status": "unmerged"},
            reason=text,
        )
        await events.emit(events.CUSTOMER_UNMERGED, survivor_id=survivor_id,
                          merged_id=merged_id, merge_id=merge_id,
                          branch_id=current["branch_id"])  # fmt: skip
    return _merge_out(result)


async def merged_problem(customer_id: int) -> Problem | None:
    """The 404 for a customer merged into another, naming the survivor; None otherwise."""
    survivor = await db.fetchval(
        f"SELECT merged_into FROM {CUSTOMER} WHERE id = $1 AND merged_into IS NOT NULL",
        customer_id,
    )
    if survivor is None:
        return None
    return Problem(
        404,
        f"customer {customer_id} was merged into customer {survivor}",
        # The type says merged; the field is the requested key, the message the survivor.
        [FieldError("path.customer_id", f"merged into customer {survivor}")],
        "merged",
    )
