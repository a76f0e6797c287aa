"""Bodies and answers of the import API (msgspec)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta, Struct

Note = Annotated[str, Meta(max_length=500)]


class Progress(Struct):
    phase: str
    done: int
    total: int
    updated_at: datetime | None


class NotImportedColumn(Struct):
    column: str
    reason: Literal["not_recognised", "superseded"]
    instead: str = ""
    """For ``superseded``: the column imported for the same field."""


class BatchOut(Struct):
    id: int
    branch_id: int
    kind: Literal["customer", "holding"]
    status: str
    file_name: str
    file_format: str
    file_sha256: str
    file_size: int
    encoding: str
    delimiter: str
    mapping: dict[str, str]
    unknown_columns: list[str]
    total_rows: int
    valid_rows: int
    invalid_rows: int
    duplicate_rows: int
    existing_rows: int
    committed_rows: int
    progress: Progress
    requires_approval: bool
    uploaded_by: int | None
    decided_by: int | None
    decision_note: str
    error: str
    created_at: datetime
    committed_at: datetime | None
    source_id: int | None = None
    warning_rows: int = 0
    """Valid rows with a note (listed with the problems, imported all the same)."""
    not_imported_columns: list[NotImportedColumn] = msgspec.field(default_factory=list)
    """Every column of the file that is not imported, and why (the same as
    ``unknown_columns``, with the reason)."""


class CellError(Struct):
    field: str
    column: str
    value: str
    message: str
    severity: Literal["error", "warning"] = "error"
    """``warning``: the row is imported all the same (e.g. without a manager)."""


class RowProblem(Struct):
    row: int
    state: str
    errors: list[CellError]


class DecisionIn(Struct, forbid_unknown_fields=True):
    note: Note = ""


class SourceIn(Struct, forbid_unknown_fields=True):
    name: Annotated[str, Meta(min_length=1, max_length=100)]
    kind: Literal["customer", "holding"] = "customer"
    branch_id: Annotated[int, Meta(ge=1, le=2**31 - 1)] | None = None
    mapping: dict[Annotated[str, Meta(max_length=200)], Annotated[str, Meta(max_length=64)]] = (
        msgspec.field(default_factory=dict)
    )


class SourceOut(Struct):
    id: int
    branch_id: int
    kind: str
    name: str
    mapping: dict[str, str]
    updated_at: datetime
