"""Reads the audit trail records: a view for each row opened, an export for each bulk read.

Screens that declare ``audit_reads`` get these rows, committed before the answer leaves.
The admin UI opens a row (detail and edit form alike) with ``GET <table>/<id>/`` and
exports by reading pages of 1000 rows from ``GET <table>/``; its list never asks for more
than :data:`LIST_PAGE_MAX`. Counts, schemas and list pages are not recorded, as the REST
API's search is not.
"""

from __future__ import annotations

from typing import Any

from bankcrm import audit, db
from bankcrm.admin.exchange import Captured, Request
from bankcrm.admin.hooks import ADMIN_REASON
from bankcrm.admin.screens import ScreenSpec
from bankcrm.context import current_scope

LIST_PAGE_MAX = 100
"""The largest page the admin's list offers; its CSV export reads pages of 1000."""


def is_export(request: Request) -> bool:
    """The admin's CSV export reads pages larger than its list ever asks for."""
    try:
        size = int(request.connection.query_params.get("__page_size") or 0)
    except ValueError:
        return False
    return size > LIST_PAGE_MAX


async def record_read(
    request: Request, spec: ScreenSpec, kind: str, row_key: str, captured: Captured
) -> None:
    """The audit row of a read of ``spec`` (``kind``: ``row`` one row, ``""`` a list page)."""
    entity = spec.screen.audit_reads
    if not entity or request.method != "GET":
        return
    if kind == "row":
        async with db.transaction():
            branch_id = await row_branch(spec, row_key)
            await audit.record(
                audit.Action.VIEW,
                entity,
                row_key,
                branch_id=branch_id,
                after={"screen": "admin"},
                reason=ADMIN_REASON,
            )
        return
    if kind != "" or not is_export(request):
        return
    params = request.connection.query_params
    pk = spec.table._meta.primary_key._meta.name
    rows = captured.json().get("rows", [])
    after: dict[str, Any] = {
        "screen": "admin",
        "format": "csv",
        "filters": {
            key: params.getall(key)
            for key in params
            if not key.startswith("__") or key == "__order"
        },
        "columns": params.get("__visible_fields") or "all",
        "page": int(params.get("__page") or 1),
        "rows": len(rows),
    }
    if rows and pk in rows[0]:
        after["ids"] = [row[pk] for row in rows]
    # No single branch owns a bulk read: the exporter's home branch, so the trail shows it
    # to whoever oversees them (the append refuses a branch outside the narrowed scope;
    # without one the row is kept for the owner's review only).
    scope = current_scope()
    home = scope.home_branch_id if scope else None
    async with db.transaction():
        await audit.record(
            audit.Action.EXPORT,
            entity,
            "export",
            branch_id=home if scope and home in scope.branch_ids else None,
            after=after,
            reason=ADMIN_REASON,
        )


async def row_branch(spec: ScreenSpec, row_key: str) -> int | None:
    """The branch of the row just read (row-level security applies)."""
    column = spec.audit_branch_column
    if column is None:
        return None
    table = spec.table
    pk = table._meta.primary_key
    branch: int | None = await db.fetchval(
        f"SELECT {db.quote_ident(table._meta.get_column_by_name(column)._meta.db_column_name)}"
        f" FROM {db.quote_ident(table._meta.tablename)}"
        f" WHERE {db.quote_ident(pk._meta.db_column_name)} = $1",
        pk.value_type(row_key),
    )
    return branch
