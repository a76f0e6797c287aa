"""Declarations of the rows that point at a customer (the ``customer_references`` hook).

Merging re-points these rows from the merged customer to the survivor; un-merging
restores them from the ledger's before-images. Imported by other plugins through
:mod:`bankcrm_customer_archive.services` (which re-exports :class:`CustomerReference`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")


@dataclass(frozen=True)
class CustomerReference:
    """A column of a table that holds a customer id.

    The table must have an ``id`` primary key and should carry ``branch_id`` (the
    customer's branch, moved along with the row when the survivor lives in another branch).
    """

    table: str
    column: str = "customer"
    unique_with: tuple[str, ...] | None = None
    """The other columns of a unique key that includes ``column`` (``("tag",)`` for the
    (customer, tag) pairs); ``()`` when ``column`` alone is unique. A row of the merged
    customer whose key the survivor already has is dropped instead of re-pointed (the
    survivor keeps its own), and is restored by un-merge. None: no such key."""
    derived: bool = False
    """Rows rebuilt from the customer by their owner (search keys): the merged customer's
    are deleted, not re-pointed, and both customers' are restored by un-merge."""
    demote: str | None = None
    """A boolean column (``is_primary``) of which the customer has one true row (per
    ``demote_within``): the merged customer's flagged rows are demoted where the survivor
    has one."""
    demote_within: tuple[str, ...] = ()
    moves_branch: bool = True
    """Set ``branch_id`` to the survivor's branch when re-pointing (child rows carry their
    customer's branch); False for rows that belong to a branch of their own."""
    followers: tuple[tuple[str, str], ...] = ()
    """``(table, column)`` pairs of dependent tables whose rows point at a row of ``table``
    (not at the customer) and carry its branch, such as
    ``("customer_archive_contract_document", "contract")``: when re-pointed rows move to
    the survivor's branch, their followers move too (and back on un-merge), so row-level
    security keeps showing them to whoever sees their parent."""

    def __post_init__(self) -> None:
        if self.followers and (self.derived or self.unique_with is not None):
            # Such rows may be deleted by a merge, which their followers would block.
            raise ValueError("followers need rows that a merge re-points, never deletes")
        for name in (
            self.table,
            self.column,
            *(self.unique_with or ()),
            *self.demote_within,
            *((self.demote,) if self.demote else ()),
            *(name for pair in self.followers for name in pair),
        ):
            if not _IDENTIFIER.fullmatch(name):
                raise ValueError(f"{name!r} is not a plain lower-case SQL identifier")
