"""The audit trail: append-only, hash-chained, written in the writer's transaction.

``record`` must be called inside the transaction that makes the change (or, for views and
exports, the one that reads): the row commits or rolls back with it. The chain is
computed in the database by ``bankcrm_audit_append`` (SECURITY DEFINER), the only way
the application role can add a row; it cannot update or delete any.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from bankcrm import db
from bankcrm.context import current_scope
from bankcrm.sql import AUDIT_VERIFY_QUERY


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


async def verify(owner: asyncpg.Connection) -> VerifyResult:
    """Recompute the chain (as the owner, who sees every branch's rows)."""
    problems: list[str] = []
    rows = 0
    expected_id = 1
    async with owner.transaction(isolation="repeatable_read", readonly=True):
        head = await owner.fetchrow("SELECT last_id, last_hash FROM bankcrm_audit_head")
        last_hash = "0" * 64
        async for row in owner.cursor(AUDIT_VERIFY_QUERY, prefetch=2000):
            rows += 1
            if row["id"] != expected_id:
                problems.append(f"rows {expected_id}..{row['id'] - 1} are missing (deleted)")
            if row["prev_hash"] != (row["previous_hash"] or "0" * 64):
                problems.append(f"row {row['id']}: chain broken (previous row changed or gone)")
            if row["recomputed"] != row["hash"]:
                problems.append(f"row {row['id']}: contents changed after it was written")
            expected_id = row["id"] + 1
            last_hash = row["hash"]
    if head is not None and (head["last_id"] != expected_id - 1 or head["last_hash"] != last_hash):
        problems.append(
            f"the chain ends at row {expected_id - 1} but {head['last_id']} rows were written "
            "(latest rows deleted)"
        )
    return VerifyResult(rows=rows, problems=problems)
