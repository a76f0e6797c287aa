"""REST API of imports under ``/api/v1/customer_archive/imports``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, get, post
from litestar.background_tasks import BackgroundTask
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.response import File

from bankcrm import audit, db, messages
from bankcrm.web.pagination import Page, check_limit
from bankcrm.web.upload import receive
from bankcrm_customer_archive.access import IMPORT_APPROVE, IMPORT_READ, IMPORT_WRITE
from bankcrm_customer_archive.importing import service
from bankcrm_customer_archive.importing.report import write_report
from bankcrm_customer_archive.importing.schemas import (
    BatchOut,
    DecisionIn,
    RowProblem,
    SourceIn,
    SourceOut,
)
from bankcrm_customer_archive.importing.template import write_template

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Cursor = Annotated[str | None, QueryParameter(max_length=512)]
Limit = Annotated[int, QueryParameter(description="1 to 200")]
StatusQuery = Annotated[
    Literal[
        "validated", "awaiting_approval", "queued", "committing", "committed", "failed",
        "rejected", "discarded",
    ]
    | None,
    QueryParameter(),
]  # fmt: skip
BranchQuery = Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)]


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)


class ImportForm(msgspec.Struct):
    """The parts of an import upload (``multipart/form-data``), for the API description."""

    file: Annotated[bytes, msgspec.Meta(description="The .csv or .xlsx file.")]
    kind: Literal["customer", "holding"] = "customer"
    branch_id: Annotated[
        int | None, msgspec.Meta(description="The branch the rows go to (default: yours).")
    ] = None
    source: Annotated[str, msgspec.Meta(max_length=100)] | None = msgspec.field(
        default=None, name="source"
    )
    """A saved mapping's name."""
    mapping: Annotated[
        str | None, msgspec.Meta(description='JSON {"header": "field"}, overriding the source.')
    ] = None
    save_mapping: Annotated[bool, msgspec.Meta(description="Save the mapping under `source`.")] = (
        False
    )


class ImportController(Controller):
    path = "/imports"
    tags = ("customer_archive: imports",)

    @post(
        "/",
        opt={"permission": IMPORT_WRITE, "body": "multipart", "form": ImportForm},
        status_code=201,
        request_max_body_size=None,
        description=(
            "Upload a .csv or .xlsx file as multipart/form-data: part `file`, and optional"
            " `kind` (customer|holding), `branch_id`, `source` (saved mapping name),"
            " `mapping` (JSON {header: field}), `save_mapping` (true). The file is checked,"
            " validated and staged; nothing is committed. Answers the batch with its counts."
        ),
    )
    async def upload(self, request: Request[Any, Any, Any]) -> BatchOut:
        stored = await receive(request.headers.get("content-type", ""), request.stream())
        try:
            return await service.upload(stored)
        finally:
            stored.discard()

    @get("/", opt={"permission": IMPORT_READ})
    async def list_batches(
        self,
        status: StatusQuery = None,
        branch_id: BranchQuery = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> Page[BatchOut]:
        """Import batches of your branches, newest first."""
        check_limit(limit)
        return await service.list_batches(limit, cursor, status, branch_id)

    @get("/template", opt={"permission": IMPORT_READ}, media_type=XLSX)
    async def template(
        self, kind: Annotated[Literal["customer", "holding"], QueryParameter()] = "customer"
    ) -> File:
        """A workbook to fill in: the recognised columns with Chinese headers (required
        ones highlighted), an example row, and a sheet explaining each column."""
        path, name = write_template(kind)
        return File(
            path=path, filename=name, media_type=XLSX, background=BackgroundTask(_remove, path)
        )

    @get("/{batch_id:int}", opt={"permission": IMPORT_READ})
    async def detail(self, batch_id: FromPath[int]) -> BatchOut:
        """A batch: counts, status and commit progress."""
        return await service.get_batch(batch_id)

    @get("/{batch_id:int}/errors", opt={"permission": IMPORT_READ})
    async def errors(
        self,
        request: Request[Any, Any, Any],
        batch_id: FromPath[int],
        limit: Limit = 100,
        cursor: Cursor = None,
    ) -> Page[RowProblem]:
        """Every row that will not be imported, and every row imported with a warning,
        with its problems by row and column (masked; in Chinese when asked for)."""
        check_limit(limit)
        language = messages.language_of(request.headers, request.cookies)
        return await service.list_problems(batch_id, limit, cursor, language)

    @get("/{batch_id:int}/report", opt={"permission": IMPORT_READ}, media_type=XLSX)
    async def report(self, request: Request[Any, Any, Any], batch_id: FromPath[int]) -> File:
        """The error report as .xlsx: bad cells filled red with the message as a comment
        (in Chinese when the browser asks for it)."""
        language = messages.language_of(request.headers, request.cookies)
        path, name = await write_report(batch_id, language)
        branch_id = await db.fetchval(
            "SELECT branch_id FROM customer_archive_import_batch WHERE id = $1", batch_id
        )
        async with db.transaction():
            await audit.record(
                audit.Action.EXPORT,
                service.ENTITY_BATCH,
                batch_id,
                branch_id=branch_id,
                after={"report": name},
            )
        return File(
            path=path,
            filename=name,
            media_type=XLSX,
            background=BackgroundTask(_remove, path),
        )

    @post("/{batch_id:int}/commit", opt={"permission": IMPORT_WRITE}, status_code=202)
    async def commit(self, batch_id: FromPath[int]) -> BatchOut:
        """Commit the valid rows (a background job; or await approval when the branch
        requires a second person). Idempotent."""
        return await service.request_commit(batch_id)

    @post("/{batch_id:int}/approve", opt={"permission": IMPORT_APPROVE}, status_code=202)
    async def approve(self, batch_id: FromPath[int], data: JSONBody[DecisionIn]) -> BatchOut:
        """Maker-checker: approve (never your own upload); the commit job starts."""
        return await service.decide(batch_id, True, data.note)

    @post("/{batch_id:int}/reject", opt={"permission": IMPORT_APPROVE}, status_code=200)
    async def reject(self, batch_id: FromPath[int], data: JSONBody[DecisionIn]) -> BatchOut:
        """Maker-checker: reject (never your own upload); the staged rows are dropped."""
        return await service.decide(batch_id, False, data.note)

    @post("/{batch_id:int}/discard", opt={"permission": IMPORT_WRITE}, status_code=204)
    async def discard(self, batch_id: FromPath[int]) -> None:
        """Drop an uncommitted batch; the same file may then be uploaded again."""
        await service.discard(batch_id)


class ImportSourceController(Controller):
    path = "/import-sources"
    tags = ("customer_archive: imports",)

    @get("/", opt={"permission": IMPORT_READ})
    async def list_sources(self) -> list[SourceOut]:
        """Saved column mappings per source and branch."""
        return await service.list_sources()

    @post("/", opt={"permission": IMPORT_WRITE}, status_code=200)
    async def save(self, data: JSONBody[SourceIn]) -> SourceOut:
        """Create or replace a source's saved mapping ({header: field})."""
        return await service.save_source(data)


IMPORT_ROUTES: list[Any] = [ImportController, ImportSourceController]
