"""The commit job: a batch's valid rows into the archive, all or nothing.

The job body runs in the kernel's job transaction (with the idempotency ledger row); the
whole commit is that one transaction, so a worker killed at any point leaves no customer
of the batch behind and the message (or a new commit request) simply runs it again.
Re-runs and concurrent deliveries are safe: a transaction-level advisory lock on the
batch serialises them, and the batch's ``committed`` status, written in the same
transaction as the rows, makes every later run a no-op. The identity index
(one live customer per ID number and branch) is the last line of defence.

Progress is written on a second pooled connection in short transactions of its own,
so the API, the admin and the CLI see it while the long transaction is open; the commit
transaction does not touch the batch row until its very end, so the two never wait on
each other.

Audit: one row per committed batch (``customer_archive.import_batch``, action
``create``) with the counts and the range of new customer ids; every customer it created
carries ``import_batch_id``. Per-customer audit rows are not written: the chain appends
through one locked head row, and a million appends in one transaction made the commit
hours long (see the benchmark notes in ``benchmarks/import/``).
"""

from __future__ import annotations

import logging
import os
from typing import Any

import asyncpg

from bankcrm import audit, db, jobs
from bankcrm_customer_archive.importing.mapping import FIELD_LABELS
from bankcrm_customer_archive.importing.staging import (
    CUSTOMER_STAGING,
    HOLDING_STAGING,
    flag_existing_customers,
    flag_existing_holdings,
    resolve_holding_customers,
)

log = logging.getLogger(__name__)

BATCH = "customer_archive_import_batch"
ENTITY_BATCH = "customer_archive.import_batch"
DEDUPE_ACTOR = "customer_archive.dedupe_import_batch"
LOCK_CLASS = 0x1B0C  # advisory lock namespace of import batches
RUNNABLE = ("queued", "committing")
# Errors that no retry can cure: the batch is marked failed and nothing is written.
_DATA_ERRORS = (
    asyncpg.UniqueViolationError,
    asyncpg.ForeignKeyViolationError,
    asyncpg.CheckViolationError,
    asyncpg.NotNullViolationError,
    asyncpg.DataError,
)


def commit_chunk_rows() -> int:
    """Rows per statement of the commit (``BANKCRM_IMPORT_COMMIT_CHUNK``): the grain of
    the progress shown; the commit is one transaction whatever its value."""
    return max(1, int(os.environ.get("BANKCRM_IMPORT_COMMIT_CHUNK", "50000")))


async def report_progress(batch_id: int, phase: str, done: int, total: int) -> None:
    """Write progress outside the caller's transaction (visible at once)."""
    async with db.connection() as connection:
        await connection.execute(
            f"UPDATE {BATCH} SET status = 'committing', progress_phase = $2,"
            " progress_done = $3, progress_total = $4, progress_at = now()"
            " WHERE id = $1 AND status IN ('queued', 'committing')",
            batch_id,
            phase,
            done,
            total,
        )


_CUSTOMER_INSERT = f"""
INSERT INTO customer_archive_customer (
  id, branch_id, kind, name, name_pinyin, name_initials, gender, birth_date, id_type,
  id_number_encrypted, id_number_hash, id_number_masked, phone, email, occupation, employer,
  industry, education, income_band, marital_status, company_size, registered_capital,
  established_on, relationship_manager, status, import_batch_id, created_at, updated_at)
SELECT customer_id, target_branch_id, kind, name, name_pinyin, name_initials, gender,
  birth_date, id_type, id_number_encrypted, id_number_hash, id_number_masked, phone, email,
  occupation, employer, industry, education, income_band, marital_status, company_size,
  registered_capital, established_on, relationship_manager, 'active', batch, now(), now()
FROM {CUSTOMER_STAGING}
WHERE batch = $1 AND state = 'valid' AND row_no >= $2 AND row_no < $3
ORDER BY row_no
"""
_ADDRESS_INSERT = f"""
INSERT INTO customer_archive_customer_address (
  branch_id, customer, kind, province, city, district, street, postcode, is_primary,
  created_at, updated_at)
SELECT target_branch_id, customer_id,
  CASE kind WHEN 'corporate' THEN 'registered' ELSE 'home' END, province, city,
  coalesce(district, ''), street, coalesce(postcode, ''), true, now(), now()
FROM {CUSTOMER_STAGING}
WHERE batch = $1 AND state = 'valid' AND row_no >= $2 AND row_no < $3 AND street IS NOT NULL
"""
_KEYS_INSERT = f"""
INSERT INTO customer_archive_search_key (branch_id, customer, key)
SELECT target_branch_id, customer_id, unnest(search_keys)
FROM {CUSTOMER_STAGING}
WHERE batch = $1 AND state = 'valid' AND row_no >= $2 AND row_no < $3
"""
_TAGS_CREATE = f"""
INSERT INTO customer_archive_tag (branch_id, name, color, created_at)
SELECT DISTINCT target_branch_id, unnest(tags), '#1677ff', now()
FROM {CUSTOMER_STAGING}
WHERE batch = $1 AND state = 'valid' AND tags IS NOT NULL
ON CONFLICT (branch_id, name) DO NOTHING
"""
# The (customer, tag name) pairs are formed first: joined directly, the planner (which
# has no statistics of the fresh staging rows) probed the tags by branch alone and
# filtered every tag of the branch per customer.
_TAGS_LINK = f"""
WITH wanted AS MATERIALIZED (
  SELECT s.target_branch_id AS branch_id, s.customer_id, tag_name
  FROM {CUSTOMER_STAGING} s CROSS JOIN LATERAL unnest(s.tags) AS tag_name
  WHERE s.batch = $1 AND s.state = 'valid' AND s.row_no >= $2 AND s.row_no < $3
    AND s.tags IS NOT NULL)
INSERT INTO customer_archive_customer_tag (branch_id, customer, tag, created_at)
SELECT w.branch_id, w.customer_id, t.id, now()
FROM wanted w JOIN customer_archive_tag t ON t.branch_id = w.branch_id AND t.name = w.tag_name
"""
_HOLDING_INSERT = f"""
INSERT INTO customer_archive_holding (
  branch_id, customer, product, account_no, balance, currency, opened_on, status,
  created_at, updated_at)
SELECT target_branch_id, customer, product, account_no, balance, currency, opened_on,
  status, now(), now()
FROM {HOLDING_STAGING}
WHERE batch = $1 AND state = 'valid' AND row_no >= $2 AND row_no < $3
"""


async def _row_span(connection: asyncpg.Connection, table: str, batch_id: int) -> tuple[int, int]:
    row = await connection.fetchrow(
        f"SELECT coalesce(min(row_no), 0) AS low, coalesce(max(row_no), -1) AS high"
        f" FROM {table} WHERE batch = $1 AND state = 'valid'",
        batch_id,
    )
    assert row is not None
    return int(row["low"]), int(row["high"])


async def _count(
    connection: asyncpg.Connection, table: str, batch_id: int, low: int, high: int
) -> int:
    return int(
        await connection.fetchval(
            f"SELECT count(*) FROM {table} WHERE batch = $1 AND state = 'valid'"
            " AND row_no >= $2 AND row_no < $3",
            batch_id,
            low,
            high,
        )
    )


async def _commit_customers(
    connection: asyncpg.Connection, batch: asyncpg.Record
) -> dict[str, Any]:
    batch_id = batch["id"]
    column = _header(batch, "id_number")
    newly_existing = await flag_existing_customers(connection, batch_id, column)
    total = int(
        await connection.fetchval(
            f"SELECT count(*) FROM {CUSTOMER_STAGING} WHERE batch = $1 AND state = 'valid'",
            batch_id,
        )
    )
    await report_progress(batch_id, "customers", 0, total)
    await connection.execute(_TAGS_CREATE, batch_id)
    low, high = await _row_span(connection, CUSTOMER_STAGING, batch_id)
    step = commit_chunk_rows()
    done = 0
    for start in range(low, high + 1, step):
        end = start + step
        for statement in (_CUSTOMER_INSERT, _ADDRESS_INSERT, _KEYS_INSERT, _TAGS_LINK):
            await connection.execute(statement, batch_id, start, end)
        done += await _count(connection, CUSTOMER_STAGING, batch_id, start, end)
        await report_progress(batch_id, "customers", done, total)
    span = await connection.fetchrow(
        "SELECT min(id) AS first, max(id) AS last FROM customer_archive_customer"
        " WHERE import_batch_id = $1",
        batch_id,
    )
    return {
        "committed": done,
        "newly_existing": newly_existing,
        "first_customer_id": span["first"] if span else None,
        "last_customer_id": span["last"] if span else None,
    }


async def _commit_holdings(connection: asyncpg.Connection, batch: asyncpg.Record) -> dict[str, Any]:
    batch_id = batch["id"]
    await resolve_holding_customers(connection, batch_id, _header(batch, "id_number"))
    newly_existing = await flag_existing_holdings(
        connection, batch_id, _header(batch, "account_no")
    )
    total = int(
        await connection.fetchval(
            f"SELECT count(*) FROM {HOLDING_STAGING} WHERE batch = $1 AND state = 'valid'",
            batch_id,
        )
    )
    await report_progress(batch_id, "holdings", 0, total)
    low, high = await _row_span(connection, HOLDING_STAGING, batch_id)
    step = commit_chunk_rows()
    done = 0
    for start in range(low, high + 1, step):
        end = start + step
        await connection.execute(_HOLDING_INSERT, batch_id, start, end)
        done += await _count(connection, HOLDING_STAGING, batch_id, start, end)
        await report_progress(batch_id, "holdings", done, total)
    return {"committed": done, "newly_existing": newly_existing}


def _header(batch: asyncpg.Record, field_name: str) -> str:
    import json

    mapping = batch["mapping"]
    mapping = json.loads(mapping) if isinstance(mapping, str) else mapping or {}
    for header, target in mapping.items():
        if target == field_name:
            return str(header)
    return FIELD_LABELS.get(field_name, field_name)


async def _enqueue_dedupe(batch_id: int) -> None:
    """Hand the new customers to duplicate detection, if that job exists here."""
    try:
        await jobs.enqueue(DEDUPE_ACTOR, batch_id=batch_id)
    except LookupError:
        # The name is enqueued only when its actor is declared in this process (the
        # worker declares every registered actor): otherwise no worker could run it.
        log.warning(
            "duplicate detection after import not queued: no actor %s",
            DEDUPE_ACTOR,
            extra={"batch_id": batch_id},
        )


async def commit_batch(batch_id: int) -> str:
    """Commit ``batch_id`` in the current (or a new) transaction; the resulting status."""
    async with db.transaction() as transaction:
        connection = transaction.connection
        await connection.execute("SELECT pg_advisory_xact_lock($1, $2)", LOCK_CLASS, batch_id)
        batch = await connection.fetchrow(f"SELECT * FROM {BATCH} WHERE id = $1", batch_id)
        if batch is None:
            log.warning("import batch not visible to the job", extra={"batch_id": batch_id})
            return "missing"
        if batch["status"] not in RUNNABLE:
            log.info("import batch not committed: status %s", batch["status"],
                     extra={"batch_id": batch_id})  # fmt: skip
            return str(batch["status"])
        savepoint = await transaction.savepoint()
        try:
            if batch["kind"] == "customer":
                outcome = await _commit_customers(connection, batch)
            else:
                outcome = await _commit_holdings(connection, batch)
        except _DATA_ERRORS as exc:
            await savepoint.rollback_to()
            message = _failure_message(exc)
            await connection.execute(
                f"UPDATE {BATCH} SET status = 'failed', error = $2, progress_phase = 'failed'"
                " WHERE id = $1",
                batch_id,
                message,
            )
            await audit.record(
                audit.Action.UPDATE, ENTITY_BATCH, batch_id, branch_id=batch["branch_id"],
                before={"status": batch["status"]}, after={"status": "failed", "error": message},
            )  # fmt: skip
            log.warning("import batch failed: %s", message, extra={"batch_id": batch_id})
            return "failed"
        existing = batch["existing_rows"] + outcome["newly_existing"]
        await connection.execute(
            f"UPDATE {BATCH} SET status = 'committed', committed_rows = $2, existing_rows = $3,"
            " valid_rows = valid_rows - $4, progress_phase = 'done', progress_done = $2,"
            " progress_total = $2, progress_at = now(), committed_at = now(), error = ''"
            " WHERE id = $1",
            batch_id,
            outcome["committed"],
            existing,
            outcome["newly_existing"],
        )
        await audit.record(
            audit.Action.CREATE,
            ENTITY_BATCH,
            batch_id,
            branch_id=batch["branch_id"],
            before={"status": batch["status"]},
            after={
                "status": "committed", "kind": batch["kind"], "file_sha256": batch["file_sha256"],
                "rows": batch["total_rows"], "invalid": batch["invalid_rows"],
                "duplicates": batch["duplicate_rows"], "existing": existing, **outcome,
            },
        )  # fmt: skip
        if batch["kind"] == "customer" and outcome["committed"]:
            await _enqueue_dedupe(batch_id)
        return "committed"


def _failure_message(exc: Exception) -> str:
    if isinstance(exc, asyncpg.UniqueViolationError):
        constraint = getattr(exc, "constraint_name", "") or ""
        if "account_no" in constraint:
            return (
                "an account number of the file already exists (possibly in a branch you"
                " cannot see); nothing was imported"
            )
        return "a row duplicates a record created meanwhile; commit again to skip it"
    return f"the database refused the rows ({type(exc).__name__}); nothing was imported"


@jobs.actor(
    "customer_archive.commit_import",
    queue_name="customer_archive.import",
    max_retries=3,
    time_limit=6 * 60 * 60 * 1000,
)
async def commit_import(batch_id: int) -> None:
    """Commit an import batch (one transaction; safe to deliver again)."""
    await commit_batch(batch_id)


IMPORT_ACTORS = (commit_import,)
