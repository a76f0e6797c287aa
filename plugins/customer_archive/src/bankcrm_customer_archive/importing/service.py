"""Import batches: upload and stage, preview, commit request, maker-checker, sources.

Every function runs under the bound scope; row-level security decides which batches
exist. Staging a file is one transaction (batch row, every COPY, the flags, the audit
row): a file refused half-way, however large, leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping
from typing import Any

import asyncpg

from bankcrm import audit, branches, db, jobs, messages
from bankcrm.context import require_scope
from bankcrm.organisation.directory import staff_directory
from bankcrm.tabular import inspect_file, read_rows
from bankcrm.text import UNSAFE_MESSAGE, has_unsafe_characters, normal_text
from bankcrm.web.pagination import Page, decode_cursor, encode_cursor
from bankcrm.web.problems import FieldError, Problem, invalid, not_found
from bankcrm.web.upload import StoredUpload
from bankcrm_customer_archive.importing import staging
from bankcrm_customer_archive.importing.layout import map_columns
from bankcrm_customer_archive.importing.mapping import ColumnMapping, fields_of
from bankcrm_customer_archive.importing.schemas import (
    BatchOut,
    CellError,
    NotImportedColumn,
    Progress,
    RowProblem,
    SourceIn,
    SourceOut,
)
from bankcrm_customer_archive.importing.validate import (
    Context,
    CustomerValidator,
    HoldingValidator,
    branch_key,
)
from bankcrm_customer_archive.manifest import MANIFEST
from bankcrm_customer_archive.settings import CustomerArchiveSettings

log = logging.getLogger(__name__)

BATCH = "customer_archive_import_batch"
SOURCE = "customer_archive_import_source"
ENTITY_BATCH = "customer_archive.import_batch"
ENTITY_SOURCE = "customer_archive.import_source"
COMMIT_ACTOR = "customer_archive.commit_import"
COMMITTABLE = ("validated", "queued", "committing", "failed")
UNDECIDED = ("validated", "awaiting_approval", "queued", "committing", "failed")


def staging_table(kind: str) -> str:
    return staging.CUSTOMER_STAGING if kind == "customer" else staging.HOLDING_STAGING


async def requires_approval(branch_id: int) -> bool:
    settings = await branches.plugin_settings(MANIFEST.name, branch_id, CustomerArchiveSettings)
    return settings.import_requires_approval


def _json(value: Any, default: Any) -> Any:
    if value is None:
        return default
    return json.loads(value) if isinstance(value, str) else value


async def batch_out(row: Mapping[str, Any]) -> BatchOut:
    return BatchOut(
        id=row["id"], branch_id=row["branch_id"], kind=row["kind"], status=row["status"],
        file_name=row["file_name"], file_format=row["file_format"],
        file_sha256=row["file_sha256"], file_size=row["file_size"], encoding=row["encoding"],
        delimiter=row["delimiter"], mapping=_json(row["mapping"], {}),
        unknown_columns=_json(row["unknown_columns"], []), total_rows=row["total_rows"],
        valid_rows=row["valid_rows"], invalid_rows=row["invalid_rows"],
        duplicate_rows=row["duplicate_rows"], existing_rows=row["existing_rows"],
        committed_rows=row["committed_rows"], warning_rows=row["warning_rows"],
        not_imported_columns=[
            NotImportedColumn(**c) for c in _json(row["not_imported_columns"], [])
        ],
        progress=Progress(row["progress_phase"], row["progress_done"], row["progress_total"],
                          row["progress_at"]),
        requires_approval=await requires_approval(row["branch_id"]),
        uploaded_by=row["uploaded_by"], decided_by=row["decided_by"],
        decision_note=row["decision_note"], error=row["error"], created_at=row["created_at"],
        committed_at=row["committed_at"], source_id=row["source"],
    )  # fmt: skip


def _target_branch(branch_id: int | None) -> int:
    scope = require_scope()
    chosen = branch_id if branch_id is not None else scope.home_branch_id
    if chosen is None:
        raise invalid("body.branch_id", "required: you have no home branch")
    if chosen not in scope.branch_ids:
        raise Problem(
            403,
            f"branch {chosen} is outside your scope: you cannot import into it",
            [FieldError("body.branch_id", "outside your scope")],
            "forbidden",
        )
    return chosen


async def _context(batch_id: int, branch_id: int, kind: str) -> Context:
    scope = require_scope()
    tree = await branches.snapshot()
    allowed = tree.subtree(branch_id) & scope.branch_ids
    codes = {branch_key(tree.nodes[b].code): b for b in allowed}
    names: dict[str, int] = {}
    for b in allowed:
        for name in (tree.nodes[b].name, tree.nodes[b].name_en):
            if name:
                names.setdefault(branch_key(name), b)
    outside: dict[str, str] = {}
    for other, node in tree.nodes.items():
        if other in allowed:
            continue
        why = (
            "the branch is outside your scope"
            if other not in scope.branch_ids
            else "not the import's branch or one of its sub-branches"
        )
        for text in (node.code, node.name, node.name_en):
            if text:
                outside.setdefault(branch_key(text), f"{node.code} {node.name}: {why}")
    products: dict[str, tuple[int, str]] = {}
    if kind == "holding":
        products = {
            row["code"]: (row["id"], row["currency"])
            for row in await db.fetch("SELECT id, code, currency FROM customer_archive_product")
        }
        return Context(batch_id, branch_id, codes, products=products, branch_names=names,
                       outside=outside)  # fmt: skip
    refused: set[int] = set()
    for b in allowed:
        settings = await branches.plugin_settings(MANIFEST.name, b, CustomerArchiveSettings)
        if settings.import_unknown_manager == "error":
            refused.add(b)
    return Context(
        batch_id, branch_id, codes, staff=await staff_directory(), branch_names=names,
        outside=outside, unknown_manager_refused=frozenset(refused),
    )  # fmt: skip


async def _source(branch_id: int, kind: str, name: str) -> asyncpg.Record | None:
    return await db.fetchrow(
        f"SELECT * FROM {SOURCE} WHERE branch_id = $1 AND kind = $2 AND name = $3",
        branch_id,
        kind,
        name,
    )


def _form_mapping(text: str | None) -> dict[str, str]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise invalid("body.mapping", "must be a JSON object {header: field}") from exc
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str | None) for k, v in value.items()
    ):
        raise invalid("body.mapping", "must be a JSON object {header: field}")
    return {k: v or "" for k, v in value.items()}


def _form_branch(text: str | None) -> int | None:
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= 2**31 - 1:
        raise invalid("body.branch_id", "must be a branch id")
    return int(text)


async def upload(stored: StoredUpload) -> BatchOut:
    """Check, validate and stage an uploaded file as a new batch (nothing committed)."""
    fields = stored.fields
    kind = fields.get("kind") or "customer"
    if kind not in ("customer", "holding"):
        raise invalid("body.kind", "must be customer or holding")
    branch_id = _target_branch(_form_branch(fields.get("branch_id")))
    explicit = _form_mapping(fields.get("mapping"))
    source_name = normal_text((fields.get("source") or "").strip()[:100])
    # Form fields pass no body gate: the same text rules, applied here.
    for field_name, text in (("body.source", source_name), ("body.file", stored.file_name)):
        if has_unsafe_characters(text):
            raise invalid(field_name, UNSAFE_MESSAGE)
    save_mapping = fields.get("save_mapping", "").lower() in ("1", "true", "yes")
    if save_mapping and not source_name:
        raise invalid("body.source", "name the source to save its mapping under")
    scope = require_scope()
    existing = await db.fetchrow(
        f"SELECT id, status FROM {BATCH} WHERE branch_id = $1 AND kind = $2"
        " AND file_sha256 = $3 AND status NOT IN ('rejected', 'discarded')",
        branch_id,
        kind,
        stored.sha256,
    )
    if existing is not None:
        raise Problem(
            409,
            f"this file was already uploaded as batch {existing['id']} ({existing['status']}):"
            " importing it again would add nothing",
            [FieldError("body.file", f"same file as batch {existing['id']}")],
            "duplicate_file",
        )
    facts = await asyncio.to_thread(inspect_file, stored.path, stored.file_name)
    rows = await asyncio.to_thread(read_rows, stored.path, facts)
    try:
        source = await _source(branch_id, kind, source_name) if source_name else None
        saved = _json(source["mapping"], {}) if source is not None else None
        mapping, title_lines = map_columns(kind, rows, saved, explicit)
        started = time.monotonic()
        async with db.transaction() as transaction:
            connection = transaction.connection
            batch_id = await connection.fetchval(
                f"INSERT INTO {BATCH} (branch_id, kind, source, file_name, file_sha256,"
                " file_size, file_format, encoding, delimiter, headers, mapping,"
                " unknown_columns, not_imported_columns, status, uploaded_by, created_at)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11::jsonb, $12::jsonb,"
                " $13::jsonb, 'validated', $14, now()) RETURNING id",
                branch_id, kind, source["id"] if source else None, stored.file_name,
                stored.sha256, stored.size, facts.file_format, facts.encoding, facts.delimiter,
                db.jsonb(list(rows.headers)), db.jsonb(mapping.as_dict()),
                db.jsonb(list(mapping.unknown)), db.jsonb(mapping.not_imported()),
                scope.user_id,
            )  # fmt: skip
            context = await _context(batch_id, branch_id, kind)
            table = staging_table(kind)
            validator: CustomerValidator | HoldingValidator
            if kind == "customer":
                validator = CustomerValidator(context, mapping)
            else:
                validator = HoldingValidator(context, mapping)
            total = await staging.copy_rows(connection, table, rows, validator)
            if kind == "customer":
                await staging.flag_customers(connection, batch_id, mapping)
            else:
                await staging.flag_holdings(connection, batch_id, mapping)
            found = await staging.counts(connection, table, batch_id)
            row = await connection.fetchrow(
                f"UPDATE {BATCH} SET total_rows = $2, valid_rows = $3, invalid_rows = $4,"
                " duplicate_rows = $5, existing_rows = $6, progress_total = $3,"
                " validated_seconds = $7, warning_rows = $8 WHERE id = $1 RETURNING *",
                batch_id, total, found["valid"], found["invalid"], found["duplicate"],
                found["existing"], round(time.monotonic() - started, 3), found["warning"],
            )  # fmt: skip
            if save_mapping:
                await _save_source(branch_id, kind, source_name, mapping.as_dict())
            await audit.record(
                audit.Action.CREATE,
                ENTITY_BATCH,
                batch_id,
                branch_id=branch_id,
                after={
                    "kind": kind, "file_name": stored.file_name, "file_sha256": stored.sha256,
                    "rows": total, **found, "unknown_columns": list(mapping.unknown),
                    "title_lines": title_lines,
                },
            )  # fmt: skip
    finally:
        rows.close()
    assert row is not None
    return await batch_out(row)


async def _save_source(branch_id: int, kind: str, name: str, mapping: dict[str, str]) -> int:
    scope = require_scope()
    source_id: int = await db.fetchval(
        f"INSERT INTO {SOURCE} (branch_id, kind, name, mapping, created_by, created_at,"
        " updated_at) VALUES ($1, $2, $3, $4::jsonb, $5, now(), now())"
        " ON CONFLICT (branch_id, kind, name) DO UPDATE SET mapping = EXCLUDED.mapping,"
        " updated_at = now() RETURNING id",
        branch_id,
        kind,
        name,
        db.jsonb(mapping),
        scope.user_id,
    )
    await audit.record(
        audit.Action.UPDATE,
        ENTITY_SOURCE,
        source_id,
        branch_id=branch_id,
        after={"name": name, "kind": kind, "mapping": mapping},
    )
    return source_id


async def get_batch(batch_id: int) -> BatchOut:
    row = await db.fetchrow(f"SELECT * FROM {BATCH} WHERE id = $1", batch_id)
    if row is None:
        raise not_found(f"import batch {batch_id}")
    return await batch_out(row)


async def list_batches(
    limit: int, cursor: str | None, status: str | None = None, branch_id: int | None = None
) -> Page[BatchOut]:
    after = decode_cursor(cursor, (int,))
    rows = await db.fetch(
        f"SELECT * FROM {BATCH} WHERE ($1::bigint IS NULL OR id < $1)"
        " AND ($2::text IS NULL OR status = $2) AND ($3::int IS NULL OR branch_id = $3)"
        " ORDER BY id DESC LIMIT $4",
        after[0] if after else None,
        status,
        branch_id,
        limit + 1,
    )
    items = [await batch_out(r) for r in rows[:limit]]
    next_cursor = encode_cursor([rows[limit - 1]["id"]]) if len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor)


async def list_problems(
    batch_id: int, limit: int, cursor: str | None, language: str = "en"
) -> Page[RowProblem]:
    batch = await get_batch(batch_id)
    after = decode_cursor(cursor, (int,))
    rows = await db.fetch(
        f"SELECT row_no, state, errors FROM {staging_table(batch.kind)} WHERE batch = $1"
        " AND errors IS NOT NULL AND row_no > $2::bigint ORDER BY row_no LIMIT $3",
        batch_id,
        after[0] if after else 0,
        limit + 1,
    )
    items = [
        RowProblem(
            row=r["row_no"],
            state=r["state"],
            errors=[
                CellError(**{**e, "message": messages.translate(e["message"], language)})
                for e in _json(r["errors"], [])
            ],
        )
        for r in rows[:limit]
    ]
    next_cursor = encode_cursor([rows[limit - 1]["row_no"]]) if len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor)


async def _locked_batch(batch_id: int) -> asyncpg.Record:
    row = await db.fetchrow(f"SELECT * FROM {BATCH} WHERE id = $1 FOR UPDATE", batch_id)
    if row is None:
        raise not_found(f"import batch {batch_id}")
    return row


def _conflict(row: Mapping[str, Any], action: str) -> Problem:
    return Problem(
        409,
        f"batch {row['id']} is {row['status']}: it cannot be {action}",
        [FieldError("path.batch_id", f"status {row['status']}")],
        "conflict",
    )


async def _enqueue_commit(batch_id: int) -> None:
    # The commit actor is declared by importing .commit; enqueue by object so the web
    # process need not have the worker's registry.
    from bankcrm_customer_archive.importing.commit import commit_import

    await jobs.enqueue(commit_import, batch_id)


async def request_commit(batch_id: int) -> BatchOut:
    """Commit a validated batch: queue the job, or wait for approval (maker-checker).

    Idempotent: a committed batch is answered as it is; a batch whose job died (queued,
    committing) or failed is queued again (the job itself commits at most once).
    """
    scope = require_scope()
    async with db.transaction():
        row = await _locked_batch(batch_id)
        status = row["status"]
        if status in ("committed", "awaiting_approval"):
            return await batch_out(row)
        if status not in COMMITTABLE:
            raise _conflict(row, "committed")
        if row["valid_rows"] == 0:
            raise Problem(
                422, f"batch {batch_id} has no valid row to commit", code="nothing_to_commit"
            )
        approved = row["decided_by"] is not None and status != "validated"
        needs_approval = await requires_approval(row["branch_id"]) and not approved
        new_status = "awaiting_approval" if needs_approval else "queued"
        updated = await db.fetchrow(
            f"UPDATE {BATCH} SET status = $2, error = '' WHERE id = $1 RETURNING *",
            batch_id,
            new_status,
        )
        if not needs_approval:
            await _enqueue_commit(batch_id)
        await audit.record(
            audit.Action.UPDATE,
            ENTITY_BATCH,
            batch_id,
            branch_id=row["branch_id"],
            before={"status": status},
            after={"status": new_status, "requested_by": scope.actor},
        )
    assert updated is not None
    return await batch_out(updated)


async def decide(batch_id: int, approve: bool, note: str) -> BatchOut:
    """The checker's decision on a batch awaiting approval; never the uploader's own."""
    scope = require_scope()
    async with db.transaction():
        row = await _locked_batch(batch_id)
        if row["status"] != "awaiting_approval":
            raise _conflict(row, "approved or rejected")
        if row["uploaded_by"] is not None and row["uploaded_by"] == scope.user_id:
            raise Problem(
                403,
                "maker-checker: the uploader cannot approve or reject their own import",
                [FieldError("path.batch_id", "your own upload")],
                "own_batch",
            )
        new_status = "queued" if approve else "rejected"
        updated = await db.fetchrow(
            f"UPDATE {BATCH} SET status = $2, decided_by = $3, decision_note = $4"
            " WHERE id = $1 RETURNING *",
            batch_id,
            new_status,
            scope.user_id,
            note,
        )
        if approve:
            await _enqueue_commit(batch_id)
        else:
            await db.fetch(f"DELETE FROM {staging_table(row['kind'])} WHERE batch = $1", batch_id)
        await audit.record(
            audit.Action.UPDATE,
            ENTITY_BATCH,
            batch_id,
            branch_id=row["branch_id"],
            before={"status": row["status"]},
            after={"status": new_status, "decided_by": scope.actor},
            reason=note,
        )
    assert updated is not None
    return await batch_out(updated)


async def discard(batch_id: int) -> None:
    """Drop an uncommitted batch and its staged rows (the file may then be uploaded again)."""
    async with db.transaction():
        row = await _locked_batch(batch_id)
        if row["status"] not in ("validated", "awaiting_approval", "failed"):
            raise _conflict(row, "discarded")
        await db.fetch(f"DELETE FROM {staging_table(row['kind'])} WHERE batch = $1", batch_id)
        await db.fetch(f"UPDATE {BATCH} SET status = 'discarded' WHERE id = $1", batch_id)
        await audit.record(
            audit.Action.DELETE,
            ENTITY_BATCH,
            batch_id,
            branch_id=row["branch_id"],
            before={"status": row["status"]},
            after={"status": "discarded"},
        )


def _source_out(row: Mapping[str, Any]) -> SourceOut:
    return SourceOut(
        id=row["id"], branch_id=row["branch_id"], kind=row["kind"], name=row["name"],
        mapping=_json(row["mapping"], {}), updated_at=row["updated_at"],
    )  # fmt: skip


async def list_sources() -> list[SourceOut]:
    rows = await db.fetch(f"SELECT * FROM {SOURCE} ORDER BY branch_id, kind, name")
    return [_source_out(r) for r in rows]


async def save_source(data: SourceIn) -> SourceOut:
    branch_id = _target_branch(data.branch_id)
    unknown = sorted({f for f in data.mapping.values() if f and f not in fields_of(data.kind)})
    if unknown:
        raise invalid("body.mapping", f"no import field named {', '.join(unknown)}")
    async with db.transaction():
        source_id = await _save_source(branch_id, data.kind, data.name.strip(), data.mapping)
        row = await db.fetchrow(f"SELECT * FROM {SOURCE} WHERE id = $1", source_id)
    assert row is not None
    return _source_out(row)


__all__ = [
    "COMMIT_ACTOR",
    "ColumnMapping",
    "decide",
    "discard",
    "get_batch",
    "list_batches",
    "list_problems",
    "list_sources",
    "request_commit",
    "save_source",
    "upload",
]
