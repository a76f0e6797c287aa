"""The audit trail: append-only, hash-chained, written in the writer's transaction.

``record`` must be called inside the transaction that makes the change (or, for views and
exports, the one that reads): the row commits or rolls back with it. It goes through
``bankcrm_audit_append`` (SECURITY DEFINER), the only way the application role can add a
row; it cannot update or delete any. Appending takes no lock — every customer view in the
bank is audited, so a chain head locked until commit would queue them all on one row —
and keeps the row's content hash aside; :func:`seal` (the job ``bankcrm.audit_seal``, and
:func:`verify` first) chains the committed rows in the order they are sealed, each seal
linking the row's content hash to the previous seal. Tampering with a sealed row, its
seal or the chain's end breaks the chain; a row not yet sealed is checked against the
content hash kept for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from bankcrm import db
from bankcrm.context import current_scope
from bankcrm.sql import AUDIT_OUTSIDE_CHAIN, AUDIT_VERIFY_SEALED, AUDIT_VERIFY_UNSEALED


class Action:
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    VIEW = "view"
    EXPORT = "export"
    REVEAL = "reveal"


async def record(
    action: str,
    entity: str,
    entity_id: Any,
    *,
    branch_id: int | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
) -> int:
    scope = current_scope()
    request_id = scope.request_id if scope else ""
    audit_id: int = await db.fetchval(
        "SELECT bankcrm_audit_append($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, $8)",
        branch_id,
        action,
        entity,
        str(entity_id),
        None if before is None else db.jsonb(before),
        None if after is None else db.jsonb(after),
        reason,
        request_id,
    )
    return audit_id


@dataclass(frozen=True)
class VerifyResult:
    rows: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


SEAL_BATCH = 10_000
ZERO_HASH = "0" * 64


async def seal(connection: Any = None, batch: int = SEAL_BATCH) -> int:
    """Chain every committed, unsealed row; the number sealed. Safe to run concurrently
    (sealers queue on the chain's head, writers never do)."""
    total = 0
    while True:
        if connection is None:
            sealed = await db.fetchval("SELECT bankcrm_audit_seal($1)", batch)
        else:
            sealed = await connection.fetchval("SELECT bankcrm_audit_seal($1)", batch)
        total += int(sealed)
        if sealed < batch:
            return total


async def verify(owner: asyncpg.Connection, *, seal_first: bool = True) -> VerifyResult:
    """Seal what is committed, then recompute the chain and every row's content hash (as
    the owner, who sees every branch's rows)."""
    if seal_first:
        await seal(owner)
    problems: list[str] = []
    rows = 0
    expected = 1
    last_hash = ZERO_HASH
    async with owner.transaction(isolation="repeatable_read", readonly=True):
        head = await owner.fetchrow("SELECT last_id, last_hash FROM bankcrm_audit_head")
        async for row in owner.cursor(AUDIT_VERIFY_SEALED, prefetch=2000):
            rows += 1
            number = row["seal_no"]
            if number != expected:
                problems.append(f"seals {expected}..{number - 1} are missing (deleted)")
            if row["prev_hash"] != (row["previous_hash"] or ZERO_HASH):
                problems.append(f"seal {number}: chain broken (previous seal changed or gone)")
            if row["recomputed"] != row["hash"]:
                problems.append(f"seal {number}: changed after it was written")
            if not row["present"]:
                problems.append(f"row {row['audit_id']} is missing (deleted)")
            elif row["content_now"] != row["content_hash"]:
                problems.append(f"row {row['audit_id']}: contents changed after it was written")
            expected = number + 1
            last_hash = row["hash"]
        async for row in owner.cursor(AUDIT_VERIFY_UNSEALED, prefetch=2000):
            rows += 1
            if not row["present"]:
                problems.append(f"row {row['id']} is missing (deleted before it was sealed)")
            elif row["content_now"] != row["content_hash"]:
                problems.append(f"row {row['id']}: contents changed after it was written")
        for row in await owner.fetch(AUDIT_OUTSIDE_CHAIN):
            problems.append(f"row {row['id']} is outside the chain (not written by the append)")
    if head is not None and (head["last_id"] != expected - 1 or head["last_hash"] != last_hash):
        problems.append(
            f"the chain ends at seal {expected - 1} but {head['last_id']} seals were made "
            "(latest seals deleted)"
        )
    return VerifyResult(rows=rows, problems=problems)
