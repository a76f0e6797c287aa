"""Duplicate detection runs: read the actor's customers, score pairs, fill the review queue.

Customers are read with the application role, so row-level security limits a run to the
actor's scope, through one ``COPY (SELECT ...) TO STDOUT`` (a million rows in seconds,
without a Python object per row) parsed by pyarrow. Nothing is decrypted: the ID number
takes part through its keyed hash only. Scoring runs in a worker thread (DuckDB releases
the GIL), so the event loop keeps serving while a large run works.

Runs are idempotent: a pair is one row of ``customer_archive_duplicate_candidate``
(unique on the two customer ids), re-runs update an open pair's score and reasons in
place, and dismissed or merged pairs are never touched again.
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from bankcrm import branches, db
from bankcrm.context import require_scope
from bankcrm_customer_archive.dedupe import linkage
from bankcrm_customer_archive.dedupe.features import SOURCE_COLUMNS, feature_table

log = logging.getLogger(__name__)

CUSTOMER = "customer_archive_customer"
ADDRESS = "customer_archive_customer_address"
CANDIDATE = "customer_archive_duplicate_candidate"

# The primary address (else the oldest) of every live customer in scope, in one pass:
# a DISTINCT ON over the address table beats a million index probes of a LATERAL join.
EXTRACT_SQL = f"""SELECT c.id, c.kind, c.name, c.name_pinyin, c.gender, c.birth_date,
  c.id_number_hash, c.phone, c.email, a.province, a.city, a.district, a.street, c.branch_id
FROM {CUSTOMER} c
LEFT JOIN (SELECT DISTINCT ON (customer) customer, province, city, district, street
           FROM {ADDRESS} ORDER BY customer, is_primary DESC, id) a ON a.customer = c.id
WHERE c.deleted_at IS NULL"""

_CSV_TYPES = {
    "id": pa.int64(), "kind": pa.string(), "name": pa.string(), "name_pinyin": pa.string(),
    "gender": pa.string(), "birth_date": pa.date32(), "id_number_hash": pa.string(),
    "phone": pa.string(), "email": pa.string(), "province": pa.string(), "city": pa.string(),
    "district": pa.string(), "street": pa.string(), "branch_id": pa.int64(),
}  # fmt: skip

UPSERT_SQL = f"""INSERT INTO {CANDIDATE} (branch_id, customer_low, customer_high, probability,
  match_weight, reasons, blocked_by, model_version, status, detected_by, detected_at)
SELECT b, l, h, p, w, r, k, $8, 'open', $9, now()
FROM unnest($1::bigint[], $2::int[], $3::int[], $4::float8[], $5::float8[], $6::jsonb[],
            $7::text[]) AS x(b, l, h, p, w, r, k)
ON CONFLICT (customer_low, customer_high) DO UPDATE SET
  branch_id = EXCLUDED.branch_id, probability = EXCLUDED.probability,
  match_weight = EXCLUDED.match_weight, reasons = EXCLUDED.reasons,
  blocked_by = EXCLUDED.blocked_by, model_version = EXCLUDED.model_version,
  detected_by = EXCLUDED.detected_by, detected_at = EXCLUDED.detected_at
WHERE {CANDIDATE}.status = 'open'
RETURNING (xmax = 0) AS inserted"""


@dataclass(frozen=True)
class RunResult:
    customers: int
    checked: int
    """Customers compared with the rest (all of them, or an import batch's new ones)."""
    pairs: int
    """Pairs at or above the threshold."""
    inserted: int
    updated: int
    skipped: int
    """Pairs kept as they were: dismissed or merged, or outside the actor's branches."""
    seconds: float


async def read_customers(connection: Any, ids: Sequence[int] | None = None) -> pa.Table:
    """Every live customer the scope can see (or those of ``ids``), with its primary
    address (arrow table)."""
    sink = io.BytesIO()

    async def write(chunk: bytes) -> None:
        sink.write(chunk)

    if ids is None:
        await connection.copy_from_query(EXTRACT_SQL, output=write, format="csv")
    else:
        await connection.copy_from_query(
            EXTRACT_SQL + " AND c.id = ANY($1::int[])", list(ids), output=write, format="csv"
        )
    if sink.tell() == 0:
        return pa.table({name: pa.array([], type=kind) for name, kind in _CSV_TYPES.items()})
    sink.seek(0)
    return pacsv.read_csv(
        sink,
        read_options=pacsv.ReadOptions(column_names=list(_CSV_TYPES)),
        convert_options=pacsv.ConvertOptions(
            column_types=_CSV_TYPES, strings_can_be_null=True, quoted_strings_can_be_null=False
        ),
    )


def _lowest_common_branch(tree: branches.TreeSnapshot, left: int, right: int) -> int | None:
    if left == right:
        return left
    above_left = tree.ancestors(left)
    above_right = set(tree.ancestors(right))
    return next((b for b in above_left if b in above_right), None)


async def _has_import_batch_column() -> bool:
    return bool(
        await db.fetchval(
            "SELECT 1 FROM information_schema.columns WHERE table_name = $1"
            " AND column_name = 'import_batch_id'",
            CUSTOMER,
        )
    )


async def batch_customer_ids(batch_id: int) -> frozenset[int]:
    """The live customers an import batch created (none if imports do not record it)."""
    if not await _has_import_batch_column():
        log.warning("customers do not record their import batch; nothing to check")
        return frozenset()
    rows = await db.fetch(
        f"SELECT id FROM {CUSTOMER} WHERE import_batch_id = $1 AND deleted_at IS NULL", batch_id
    )
    return frozenset(r["id"] for r in rows)


async def run(
    detected_by: str,
    *,
    new_ids: frozenset[int] | None = None,
    threshold: float = linkage.DEFAULT_THRESHOLD,
    memory_limit: str = linkage.DEFAULT_MEMORY_LIMIT,
) -> RunResult:
    """Score the customers in scope and upsert the candidates, in the current transaction.

    ``new_ids``: only pairs with at least one of these customers (an import batch against
    the archive); None compares the whole archive in scope.
    """
    started = time.perf_counter()
    scope = require_scope()
    async with db.transaction() as transaction:
        source = await read_customers(transaction.connection)
        customers = source.num_rows
        if new_ids is not None and not new_ids:
            return RunResult(customers, 0, 0, 0, 0, 0, time.perf_counter() - started)
        columns = {name: source.column(name).to_pylist() for name in SOURCE_COLUMNS}
        branch_of = dict(zip(columns["id"], source.column("branch_id").to_pylist(), strict=True))
        features = feature_table(columns, new_ids)
        checked = customers if new_ids is None else sum(1 for i in branch_of if i in new_ids)
        pairs = await asyncio.to_thread(
            linkage.score,
            features,
            only_new=new_ids is not None,
            threshold=threshold,
            memory_limit=memory_limit,
        )
        inserted, updated, skipped = await _store(pairs, branch_of, scope.branch_ids, detected_by)
    result = RunResult(
        customers, checked, len(pairs), inserted, updated, skipped, time.perf_counter() - started
    )
    log.info("duplicate detection run", extra={"detected_by": detected_by, **result.__dict__})
    return result


async def score_and_store(
    ids: Sequence[int], detected_by: str, *, threshold: float = linkage.DEFAULT_THRESHOLD
) -> RunResult:
    """Score only the customers ``ids`` among themselves (demo data, small fixes)."""
    started = time.perf_counter()
    scope = require_scope()
    async with db.transaction() as transaction:
        source = await read_customers(transaction.connection, ids)
        columns = {name: source.column(name).to_pylist() for name in SOURCE_COLUMNS}
        branch_of = dict(zip(columns["id"], source.column("branch_id").to_pylist(), strict=True))
        pairs = await asyncio.to_thread(linkage.score, feature_table(columns), threshold=threshold)
        inserted, updated, skipped = await _store(pairs, branch_of, scope.branch_ids, detected_by)
    return RunResult(
        source.num_rows, source.num_rows, len(pairs), inserted, updated, skipped,
        time.perf_counter() - started,
    )  # fmt: skip


async def _store(
    pairs: Sequence[linkage.ScoredPair],
    branch_of: dict[int, int],
    in_scope: frozenset[int],
    detected_by: str,
) -> tuple[int, int, int]:
    tree = await branches.snapshot()
    rows: list[tuple[int, linkage.ScoredPair]] = []
    for pair in pairs:
        branch = _lowest_common_branch(tree, branch_of[pair.left_id], branch_of[pair.right_id])
        if branch is None or branch not in in_scope:
            # Visible to this actor, but the pair would live above its branches, where
            # it could not be reviewed: a run by an actor higher up will propose it.
            continue
        rows.append((branch, pair))
    inserted = updated = 0
    for start in range(0, len(rows), 5_000):
        chunk = rows[start : start + 5_000]
        result = await db.fetch(
            UPSERT_SQL,
            [b for b, _ in chunk],
            [p.left_id for _, p in chunk],
            [p.right_id for _, p in chunk],
            [p.probability for _, p in chunk],
            [p.match_weight for _, p in chunk],
            [db.jsonb(linkage.reasons_json(p.reasons)) for _, p in chunk],
            [p.blocked_by for _, p in chunk],
            linkage.MODEL_VERSION,
            detected_by,
        )
        inserted += sum(1 for r in result if r["inserted"])
        updated += sum(1 for r in result if not r["inserted"])
    return inserted, updated, len(pairs) - inserted - updated
