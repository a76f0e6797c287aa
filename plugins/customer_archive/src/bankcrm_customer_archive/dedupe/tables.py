"""Tables of duplicate detection and merge: the review queue and the merge ledger.

Both are branch-scoped. A candidate or merge lives in the nearest branch that holds both
customers (their lowest common ancestor in the branch tree), so row-level security shows
it exactly to the actors who can see both customers: a pair from BJ-HD and BJ-CY lives
in BJ, a pair from BJ and SH only at head office.
"""

from __future__ import annotations

from enum import StrEnum

from piccolo.apps.user.tables import BaseUser
from piccolo.columns import (
    JSONB,
    DoublePrecision,
    ForeignKey,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from bankcrm.tables import branch_column
from bankcrm_customer_archive.tables import Customer


class CandidateStatus(StrEnum):
    open = "open"
    merged = "merged"
    dismissed = "dismissed"
    """Not duplicates: never proposed again by any later run."""


class MergeStatus(StrEnum):
    requested = "requested"
    """Waiting for a second person with ``customer_archive.merge.approve``."""
    merged = "merged"
    rejected = "rejected"
    unmerged = "unmerged"


class DuplicateCandidate(Table, tablename="customer_archive_duplicate_candidate"):
    branch_id = branch_column()
    customer_low = ForeignKey(Customer, on_delete=OnDelete.restrict)
    """The pair's smaller customer id (the pair is unique: see the dedupe migration)."""
    customer_high = ForeignKey(Customer, on_delete=OnDelete.restrict, index=True)
    probability = DoublePrecision()
    match_weight = DoublePrecision()
    reasons = JSONB(default="[]")
    """``[{"comparison", "level", "weight"}]``, strongest evidence first."""
    blocked_by = Varchar(length=16, default="")
    model_version = Varchar(length=32)
    status = Varchar(length=16, choices=CandidateStatus, default=CandidateStatus.open)
    detected_by = Varchar(length=100)
    """The run that (last) proposed it: ``import_batch:<id>``, ``schedule:<message id>``."""
    detected_at = Timestamptz(default=TimestamptzNow())
    decided_by = ForeignKey(BaseUser, null=True, default=None, on_delete=OnDelete.restrict)
    decided_at = Timestamptz(null=True, default=None)


class CustomerMerge(Table, tablename="customer_archive_merge"):
    """The merge ledger: a request, its decision, and everything un-merge needs.

    The before-images hold the rows in full (personal data as stored, ciphertexts
    included), so the ledger is never shown in the admin or the API beyond ids and
    masked summaries.
    """

    branch_id = branch_column()
    candidate = ForeignKey(DuplicateCandidate, null=True, default=None, on_delete=OnDelete.restrict)
    survivor = ForeignKey(Customer, on_delete=OnDelete.restrict, index=True)
    merged = ForeignKey(Customer, on_delete=OnDelete.restrict, index=True)
    status = Varchar(length=16, choices=MergeStatus, default=MergeStatus.requested)
    note = Text(default="")
    requested_by = ForeignKey(BaseUser, null=True, default=None, on_delete=OnDelete.restrict)
    requested_at = Timestamptz(default=TimestamptzNow())
    decided_by = ForeignKey(BaseUser, null=True, default=None, on_delete=OnDelete.restrict)
    decided_at = Timestamptz(null=True, default=None)
    unmerged_by = ForeignKey(BaseUser, null=True, default=None, on_delete=OnDelete.restrict)
    unmerged_at = Timestamptz(null=True, default=None)
    survivor_before = JSONB(null=True, default=None)
    merged_before = JSONB(null=True, default=None)
    survivor_after = JSONB(null=True, default=None)
    """The survivor as the merge left it: un-merge refuses if it changed since."""
    rows_before = JSONB(default="{}")
    """``{table: [row, ...]}``: every referencing row of both customers, in full."""
    repointed = JSONB(default="{}")
    """``{table: [id, ...]}``: rows moved from the merged customer to the survivor."""
    dropped = JSONB(default="{}")
    """``{table: [id, ...]}``: rows of the merged customer deleted as duplicates of the
    survivor's (a tag both had) or as derived data (search keys)."""
    followed = JSONB(default="{}")
    """``{table: [{"id", "branch_id"}, ...]}``: rows of dependent tables (contract
    documents) moved to the survivor's branch with the rows they belong to, and the branch
    each had before (ids only: their content is never copied into the ledger)."""


DEDUPE_TABLES: list[type[Table]] = [DuplicateCandidate, CustomerMerge]
