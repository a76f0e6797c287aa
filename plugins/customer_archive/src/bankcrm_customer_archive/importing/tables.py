"""Import tables: saved column mappings, batches, and the two staging tables.

Staging rows live in the batch's branch (row-level security), reference their batch by a
plain integer rather than a foreign key (a COPY of a million rows would otherwise run a
referential-integrity check per row), and hold values already normalised: the ID number
encrypted and hashed, the search keys derived. The commit is then ``INSERT ... SELECT``.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from piccolo.apps.user.tables import BaseUser
from piccolo.columns import (
    JSONB,
    Array,
    BigInt,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from bankcrm.tables import branch_column


class ImportKind(StrEnum):
    customer = "customer"
    holding = "holding"


class BatchStatus(StrEnum):
    validated = "validated"
    """Staged and checked: the preview report is ready; nothing is in the archive yet."""
    awaiting_approval = "awaiting_approval"
    """The branch requires a second person (maker-checker) before the commit."""
    queued = "queued"
    committing = "committing"
    committed = "committed"
    failed = "failed"
    """The commit was refused (e.g. an account number taken in another branch); nothing
    was written; it may be committed again."""
    rejected = "rejected"
    discarded = "discarded"


class RowState(StrEnum):
    valid = "valid"
    invalid = "invalid"
    duplicate = "duplicate"
    """The same identity (or account number) appears earlier in the file."""
    existing = "existing"
    """Already in the archive: skipped."""


class ImportSource(Table, tablename="customer_archive_import_source"):
    """A named source of files for a branch (e.g. ``核心系统导出``) with its saved mapping
    from the source's headers to import fields."""

    branch_id = branch_column()
    kind = Varchar(length=16, choices=ImportKind, default=ImportKind.customer)
    name = Varchar(length=100)
    mapping = JSONB(default="{}")
    """``{"header as written in the file": "field"}``."""
    created_by = ForeignKey(BaseUser, null=True, default=None, on_delete=OnDelete.restrict)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class ImportBatch(Table, tablename="customer_archive_import_batch"):
    branch_id = branch_column()
    kind = Varchar(length=16, choices=ImportKind, default=ImportKind.customer)
    source = ForeignKey(ImportSource, null=True, default=None, on_delete=OnDelete.restrict)
    file_name = Varchar(length=255)
    file_sha256 = Varchar(length=64)
    file_size = BigInt(default=0)
    file_format = Varchar(length=8)
    encoding = Varchar(length=16, default="")
    delimiter = Varchar(length=4, default="")
    headers = JSONB(default="[]")
    mapping = JSONB(default="{}")
    """``{"header": "field"}`` as applied."""
    unknown_columns = JSONB(default="[]")
    not_imported_columns = JSONB(default="[]")
    """``[{"column", "reason": "not_recognised" | "superseded", "instead"}]``: every column
    of ``unknown_columns`` with why it is not imported."""
    status = Varchar(length=24, choices=BatchStatus, default=BatchStatus.validated)
    total_rows = Integer(default=0)
    valid_rows = Integer(default=0)
    invalid_rows = Integer(default=0)
    duplicate_rows = Integer(default=0)
    existing_rows = Integer(default=0)
    warning_rows = Integer(default=0)
    """Valid rows imported with a note (an unknown relationship manager left unassigned)."""
    committed_rows = Integer(default=0)
    progress_phase = Varchar(length=32, default="")
    progress_done = Integer(default=0)
    progress_total = Integer(default=0)
    progress_at = Timestamptz(null=True, default=None)
    """Written by the committing job on its own short transactions, so it is visible
    while the (single, long) commit transaction is still open."""
    error = Text(default="")
    uploaded_by = ForeignKey(BaseUser, null=True, default=None, on_delete=OnDelete.restrict)
    decided_by = ForeignKey(BaseUser, null=True, default=None, on_delete=OnDelete.restrict)
    """The second person who approved or rejected the commit (maker-checker)."""
    decision_note = Varchar(length=500, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    validated_seconds = Numeric(digits=(10, 3), null=True, default=None)
    committed_at = Timestamptz(null=True, default=None)


class ImportRow(Table, tablename="customer_archive_import_row"):
    """One customer row of a file, normalised (staging)."""

    branch_id = branch_column()
    batch = Integer()
    row_no = Integer()
    """The row's line in the file (the header is row 1, as a spreadsheet numbers it)."""
    state = Varchar(length=16, choices=RowState, default=RowState.valid)
    errors = JSONB(null=True, default=None)
    """``[{"field", "column", "value" (masked), "message"}]``; an item with ``"severity":
    "warning"`` is a note on a row that is imported all the same."""
    target_branch_id = Integer()
    """The customer's branch: the batch's, or the row's 机构 code within it."""
    customer_id = Integer(null=True, default=None)
    """Taken from the customer id sequence when staged (column default), so the commit
    inserts customers and their children without looking the new ids up."""
    existing_customer_id = Integer(null=True, default=None)
    kind = Varchar(length=16, null=True, default=None)
    name = Varchar(length=200, null=True, default=None)
    name_pinyin = Varchar(length=800, null=True, default=None)
    name_initials = Varchar(length=200, null=True, default=None)
    gender = Varchar(length=1, null=True, default=None)
    birth_date = Date(null=True, default=None)
    id_type = Varchar(length=16, null=True, default=None)
    id_number_encrypted = Text(null=True, default=None, secret=True)
    id_number_hash = Varchar(length=64, null=True, default=None)
    id_number_masked = Varchar(length=32, null=True, default=None)
    phone = Varchar(length=32, null=True, default=None)
    email = Varchar(length=254, null=True, default=None)
    occupation = Varchar(length=100, null=True, default=None)
    employer = Varchar(length=200, null=True, default=None)
    industry = Varchar(length=100, null=True, default=None)
    education = Varchar(length=16, null=True, default=None)
    income_band = Varchar(length=16, null=True, default=None)
    marital_status = Varchar(length=16, null=True, default=None)
    company_size = Varchar(length=16, null=True, default=None)
    registered_capital = Numeric(digits=(18, 2), null=True, default=None)
    established_on = Date(null=True, default=None)
    relationship_manager = Integer(null=True, default=None)
    province = Varchar(length=50, null=True, default=None)
    city = Varchar(length=50, null=True, default=None)
    district = Varchar(length=50, null=True, default=None)
    street = Varchar(length=200, null=True, default=None)
    postcode = Varchar(length=6, null=True, default=None)
    tags = Array(Varchar(length=32), null=True, default=None)
    search_keys = Array(Varchar(length=400), null=True, default=None)


class ImportHoldingRow(Table, tablename="customer_archive_import_holding_row"):
    """One holding row of a file, normalised (staging)."""

    branch_id = branch_column()
    batch = Integer()
    row_no = Integer()
    state = Varchar(length=16, choices=RowState, default=RowState.valid)
    errors = JSONB(null=True, default=None)
    target_branch_id = Integer()
    id_number_hash = Varchar(length=64, null=True, default=None)
    id_number_masked = Varchar(length=32, null=True, default=None)
    customer = Integer(null=True, default=None)
    """Resolved set-wise after staging: the live customer with this identity in the
    row's branch."""
    product = Integer(null=True, default=None)
    product_code = Varchar(length=32, null=True, default=None)
    account_no = Varchar(length=32, null=True, default=None)
    balance = Numeric(digits=(18, 2), null=True, default=Decimal("0.00"))
    currency = Varchar(length=3, null=True, default=None)
    opened_on = Date(null=True, default=None)
    status = Varchar(length=16, null=True, default=None)


IMPORT_TABLES: list[type[Table]] = [ImportSource, ImportBatch, ImportRow, ImportHoldingRow]
