"""Who may be named on a row: a user reference (relationship manager, owner, assignee) must
be active staff whose branch memberships cover the row's branch.

A Beijing customer given a Shanghai manager is a customer that manager cannot see: every
plugin checks user references here, on every path that writes them (REST, admin, import).
"""

from __future__ import annotations

from bankcrm import branches, db


async def reference_problem(user_id: int, branch_id: int) -> str | None:
    """Why ``user_id`` cannot be named on a row of ``branch_id`` (None: it can)."""
    rows = await db.fetch(
        "SELECT u.active, m.branch FROM piccolo_user u"
        " LEFT JOIN bankcrm_membership m ON m.user = u.id WHERE u.id = $1",
        user_id,
    )
    if not rows or not rows[0]["active"]:
        return "no active user has this id"
    tree = await branches.snapshot()
    if any(r["branch"] is not None and branch_id in tree.subtree(r["branch"]) for r in rows):
        return None
    return "this person works in none of the branches that cover this record's branch"


async def assignable_user_ids(branch_id: int) -> list[int]:
    """Active staff who may be named on a row of ``branch_id`` (for pickers)."""
    tree = await branches.snapshot()
    covering = [b for b in tree.nodes if branch_id in tree.subtree(b)]
    rows = await db.fetch(
        "SELECT DISTINCT u.id FROM piccolo_user u JOIN bankcrm_membership m ON m.user = u.id"
        " WHERE u.active AND m.branch = ANY($1::bigint[]) ORDER BY u.id",
        covering,
    )
    return [r["id"] for r in rows]


__all__ = ["assignable_user_ids", "reference_problem"]
