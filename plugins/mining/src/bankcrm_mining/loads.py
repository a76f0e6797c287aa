"""Loading transactions: all or nothing, linked to customers, with a data-quality report.

A file is read and cleaned (:mod:`.ingest`), its rows linked to customers through the
customer archive's public matching (identity document number by its keyed hash, then
account number, then phone; a value matching several customers is not guessed), and
written in one transaction with its load record. Loads are incremental: a transaction id
already loaded is skipped and reported (``already_loaded``), never duplicated. A file is
refused whole — recorded with its reason, nothing written — when it cannot be read or
checked, or when more of its rows are rejected than the load allows.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import pandas as pd
from msgspec import Meta, Struct

from bankcrm import audit, db
from bankcrm.business_calendar import DEFAULT_ZONE
from bankcrm.context import require_scope
from bankcrm.jobs import emit_event
from bankcrm.web.pagination import Page, decode_cursor, encode_cursor
from bankcrm.web.problems import FieldError, Problem, invalid, not_found
from bankcrm.web.upload import StoredUpload
from bankcrm_customer_archive import services as archive
from bankcrm_mining import events
from bankcrm_mining.ingest import (
    LINK_COLUMNS,
    REASONS,
    Cleaned,
    FileRefused,
    Rejection,
    clean_transactions,
    read_table,
)

LOAD = "mining_load"
TRANSACTION = "mining_transaction"
ENTITY = "mining.load"
DEFAULT_MAX_REJECTED = 0.1
REPORTED_ROWS = 500
"""The report lists at most this many rejected rows (the counts cover them all)."""
COLUMNS = (
    "id, branch_id, source, file_name, file_sha256, status, reason, rows_in, rows_loaded,"
    " rows_rejected, rows_linked, rows_unlinked, report, created_by, created_at"
)


class LoadForm(Struct):
    """The parts of a load upload (``multipart/form-data``), for the API description."""

    file: Annotated[bytes, Meta(description="The .csv or .parquet file of transactions.")]
    branch_id: Annotated[
        int | None, Meta(description="The branch unlinked rows go to (default: yours).")
    ] = None
    max_rejected: Annotated[
        float,
        Meta(ge=0, le=1, description="The share of rejected rows above which the file is refused."),
    ] = DEFAULT_MAX_REJECTED


class LoadOut(Struct):
    id: int
    branch_id: int
    source: str
    file_name: str
    file_sha256: str
    status: str
    reason: str
    rows_in: int
    rows_loaded: int
    rows_rejected: int
    rows_linked: int
    rows_unlinked: int
    report: dict[str, Any]
    created_by: str
    created_at: datetime


def _out(row: Any) -> LoadOut:
    values = dict(row)
    if isinstance(values["report"], str):
        values["report"] = json.loads(values["report"])
    return LoadOut(**values)


def _form(stored: StoredUpload) -> tuple[int, float]:
    scope = require_scope()
    raw_branch = stored.fields.get("branch_id", "").strip()
    raw_share = stored.fields.get("max_rejected", "").strip()
    try:
        branch_id = int(raw_branch) if raw_branch else scope.home_branch_id
    except ValueError:
        raise invalid("/body/branch_id", "a branch id is a whole number") from None
    if branch_id is None:
        raise invalid("/body/branch_id", "required: you have no home branch")
    if branch_id not in scope.branch_ids:
        raise invalid("/body/branch_id", "the branch is outside your scope")
    try:
        share = float(raw_share) if raw_share else DEFAULT_MAX_REJECTED
    except ValueError:
        raise invalid("/body/max_rejected", "a number from 0 to 1") from None
    if not 0 <= share <= 1:
        raise invalid("/body/max_rejected", "a number from 0 to 1")
    return branch_id, share


def _rejected_rows(rejected: list[Rejection]) -> list[dict[str, Any]]:
    return [
        {"row": r.row, "reason": r.reason, "column": r.column}
        for r in sorted(rejected, key=lambda r: r.row)[:REPORTED_ROWS]
    ]


def _reasons(rejected: list[Rejection]) -> dict[str, dict[str, Any]]:
    counts: dict[str, int] = {}
    for r in rejected:
        counts[r.reason] = counts.get(r.reason, 0) + 1
    return {k: {"count": v, "label": REASONS[k]} for k, v in sorted(counts.items())}


async def _record_refusal(
    stored: StoredUpload, branch_id: int, reason: str, report: dict[str, Any]
) -> None:
    async with db.transaction():
        load_id = await db.fetchval(
            f"INSERT INTO {LOAD} (branch_id, source, file_name, file_sha256, status, reason,"
            " rows_in, rows_rejected, report, created_by, created_at) VALUES ($1,"
            " 'transactions', $2, $3, 'refused', $4, $5, $6, $7, $8, now()) RETURNING id",
            branch_id, stored.file_name[:255], stored.sha256, reason[:500],
            report.get("rows_in", 0), report.get("rows_rejected", 0), db.jsonb(report),
            require_scope().actor,
        )  # fmt: skip
        await audit.record(
            audit.Action.CREATE, ENTITY, load_id, branch_id=branch_id,
            after={"status": "refused", "reason": reason[:500], "file": stored.file_name},
        )  # fmt: skip


async def _link(cleaned: Cleaned) -> pd.DataFrame:
    """The good rows with ``customer``, ``customer_branch`` and ``linked_by``."""
    frame = cleaned.frame
    frame["customer"] = pd.Series(pd.NA, index=frame.index, dtype="Int64")
    frame["customer_branch"] = pd.Series(pd.NA, index=frame.index, dtype="Int64")
    frame["linked_by"] = pd.Series(pd.NA, index=frame.index, dtype="string")
    for key in LINK_COLUMNS:
        if key not in cleaned.columns:
            continue
        todo = frame["customer"].isna() & frame[key].notna()
        if not todo.any():
            continue
        found = await archive.match_customers(key, frame.loc[todo, key].unique().tolist())
        hit = todo & frame[key].isin(list(found))
        customers = {value: match.customer_id for value, match in found.items()}
        branches = {value: match.branch_id for value, match in found.items()}
        frame.loc[hit, "customer"] = frame.loc[hit, key].map(customers)
        frame.loc[hit, "customer_branch"] = frame.loc[hit, key].map(branches)
        frame.loc[hit, "linked_by"] = key
    return frame


def _decimal(value: Any) -> Decimal | None:
    return None if _none(value) is None else Decimal(f"{value:.2f}")


def _none(value: Any) -> Any:
    return None if value is None or value is pd.NA or pd.isna(value) else value


async def load_transactions(stored: StoredUpload) -> LoadOut:
    """Load the uploaded file, or refuse it whole (422 naming the reason)."""
    branch_id, max_rejected = _form(stored)
    now = datetime.now(DEFAULT_ZONE).replace(tzinfo=None)
    try:
        cleaned = clean_transactions(read_table(stored.path, stored.file_name), now)
    except FileRefused as refused:
        await _record_refusal(stored, branch_id, refused.reason, {"rows_in": 0})
        raise Problem(
            422, f"the file is refused: {refused.reason}",
            [FieldError(refused.field, refused.reason)], "file_refused",
        ) from None  # fmt: skip
    report: dict[str, Any] = {
        "rows_in": cleaned.rows_in,
        "columns": cleaned.columns,
        "ignored_columns": cleaned.ignored,
        "max_rejected": max_rejected,
    }
    if cleaned.rows_in == 0:
        reason = "the file has a header but no rows"
        await _record_refusal(stored, branch_id, reason, report)
        raise Problem(422, f"the file is refused: {reason}",
                      [FieldError("/body/file", reason)], "file_refused")  # fmt: skip
    share = len(cleaned.rejected) / cleaned.rows_in
    if share > max_rejected:
        reason = (
            f"{len(cleaned.rejected)} of {cleaned.rows_in} rows are rejected ({share:.1%}),"
            f" more than the {max_rejected:.1%} allowed"
        )
        report |= {"rows_rejected": len(cleaned.rejected), "rejected": _reasons(cleaned.rejected),
                   "rejected_rows": _rejected_rows(cleaned.rejected)}  # fmt: skip
        await _record_refusal(stored, branch_id, reason, report)
        raise Problem(422, f"the file is refused: {reason}",
                      [FieldError("/body/file", reason)], "too_many_rejected")  # fmt: skip

    frame = await _link(cleaned)
    zone = DEFAULT_ZONE
    booked = [ts.to_pydatetime().replace(tzinfo=zone) for ts in frame["booked_at"]]
    branches = [int(b) if not pd.isna(b) else branch_id for b in frame["customer_branch"].tolist()]
    async with db.transaction():
        load_id = await db.fetchval(
            f"INSERT INTO {LOAD} (branch_id, source, file_name, file_sha256, status, rows_in,"
            " report, created_by, created_at) VALUES ($1, 'transactions', $2, $3, 'loaded', $4,"
            " '{}', $5, now()) RETURNING id",
            branch_id, stored.file_name[:255], stored.sha256, cleaned.rows_in,
            require_scope().actor,
        )  # fmt: skip
        inserted = await db.fetch(
            f"INSERT INTO {TRANSACTION} (branch_id, load, txn_id, customer, linked_by, booked_at,"
            " amount, currency, account_no, channel, category, balance_after)"
            " SELECT b, $1, t, c, l, d, a, cur, acc, ch, cat, bal FROM unnest($2::int[],"
            " $3::text[], $4::int[], $5::text[], $6::timestamptz[], $7::numeric[], $8::text[],"
            " $9::text[], $10::text[], $11::text[], $12::numeric[])"
            " AS u(b, t, c, l, d, a, cur, acc, ch, cat, bal)"
            " ON CONFLICT (txn_id) DO NOTHING RETURNING txn_id, customer",
            load_id, branches, frame["txn_id"].tolist(),
            [_none(v) for v in frame["customer"].tolist()],
            [_none(v) for v in frame["linked_by"].tolist()], booked,
            [_decimal(v) for v in frame["amount"].tolist()],
            [str(v) for v in frame["currency"].tolist()],
            [_none(v) for v in frame["account_no"].tolist()],
            [_none(v) for v in frame["channel"].tolist()],
            [_none(v) for v in frame["category"].tolist()],
            [_decimal(v) for v in frame["balance_after"].tolist()],
        )  # fmt: skip
        fresh = {r["txn_id"] for r in inserted}
        skipped = frame[~frame["txn_id"].isin(fresh)]
        rejected = cleaned.rejected + [
            Rejection(int(row), "already_loaded", "txn_id") for row in skipped["row"]
        ]
        kept = frame[frame["txn_id"].isin(fresh)]
        linked = int(kept["customer"].notna().sum())
        by = kept["linked_by"].value_counts().to_dict()
        report |= {
            "rows_loaded": len(fresh),
            "rows_rejected": len(rejected),
            "rejected": _reasons(rejected),
            "rejected_rows": _rejected_rows(rejected),
            "rows_linked": linked,
            "linked_by": {str(k): int(v) for k, v in by.items()},
            "rows_unlinked": len(fresh) - linked,
            "booked_from": kept["booked_at"].min().isoformat() if len(kept) else None,
            "booked_to": kept["booked_at"].max().isoformat() if len(kept) else None,
        }
        row = await db.fetchrow(
            f"UPDATE {LOAD} SET rows_loaded = $2, rows_rejected = $3, rows_linked = $4,"
            f" rows_unlinked = $5, report = $6 WHERE id = $1 RETURNING {COLUMNS}",
            load_id, len(fresh), len(rejected), linked, len(fresh) - linked, db.jsonb(report),
        )  # fmt: skip
        await audit.record(
            audit.Action.CREATE, ENTITY, load_id, branch_id=branch_id,
            after={"status": "loaded", "file": stored.file_name, "rows_loaded": len(fresh),
                   "rows_rejected": len(rejected), "rows_linked": linked},
        )  # fmt: skip
        await emit_event(
            events.TRANSACTIONS_LOADED,
            {"load_id": load_id, "branch_id": branch_id, "rows_loaded": len(fresh)},
        )
    return _out(row)


async def list_loads(limit: int = 50, cursor: str | None = None) -> Page[LoadOut]:
    after = decode_cursor(cursor, (int,))
    rows = await db.fetch(
        f"SELECT {COLUMNS} FROM {LOAD} WHERE ($1::bigint IS NULL OR id < $1)"
        " ORDER BY id DESC LIMIT $2",
        after[0] if after else None, limit + 1,
    )  # fmt: skip
    items = [_out(r) for r in rows[:limit]]
    return Page(items, encode_cursor([items[-1].id]) if len(rows) > limit else None)


async def get_load(load_id: int) -> LoadOut:
    row = await db.fetchrow(f"SELECT {COLUMNS} FROM {LOAD} WHERE id = $1", load_id)
    if row is None:
        raise not_found(f"load {load_id}")
    return _out(row)
