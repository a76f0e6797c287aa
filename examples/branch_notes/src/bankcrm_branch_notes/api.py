"""REST routes of branch_notes, mounted under ``/api/v1/branch_notes``.

The kernel's guards run first: an authenticated actor, the plugin enabled for the
actor's branch (the scope is narrowed to those branches) and the permission each handler
names in ``opt``. A handler that names none is refused, not opened.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from bankcrm.web.pagination import Page, check_limit
from bankcrm_branch_notes import access, services

READ = {"permission": access.NOTE_READ}
WRITE = {"permission": access.NOTE_WRITE}

StatusQuery = Annotated[
    services.Status | None,
    QueryParameter(description="Only the notes with this status"),
]
BranchQuery = Annotated[
    int | None,
    QueryParameter(ge=1, le=2**31 - 1, description="Only this branch's notes"),
]
LimitQuery = Annotated[int, QueryParameter(description="1 to 200")]
CursorQuery = Annotated[str | None, QueryParameter(max_length=512)]


class NoteController(Controller):
    path = "/notes"
    tags = ("branch_notes: notes",)

    @get("/", opt=READ)
    async def list_notes(
        self,
        status: StatusQuery = None,
        branch_id: BranchQuery = None,
        limit: LimitQuery = 50,
        cursor: CursorQuery = None,
    ) -> Page[services.NoteOut]:
        """The notes of the branches in your scope, newest first; pass
        ``next_cursor`` back as ``cursor`` for the next page."""
        check_limit(limit)
        return await services.list_notes(
            status=status,
            branch_id=branch_id,
            limit=limit,
            cursor=cursor,
        )

    @post("/", opt=WRITE)
    async def create(
        self,
        data: JSONBody[services.NoteIn],
    ) -> services.NoteOut:
        """Create a note in one of your branches (default: your home branch)."""
        return await services.create_note(data)

    @get("/{note_id:int}", opt=READ)
    async def detail(
        self,
        note_id: FromPath[int],
    ) -> services.NoteOut:
        return await services.get_note(note_id)

    @patch("/{note_id:int}", opt=WRITE)
    async def update(
        self,
        note_id: FromPath[int],
        data: JSONBody[services.NotePatch],
    ) -> services.NoteOut:
        """Change the title, the body or the status; the change is audited."""
        return await services.update_note(note_id, data)

    @delete("/{note_id:int}", opt=WRITE, status_code=204)
    async def remove(self, note_id: FromPath[int]) -> None:
        """Delete the note; its content stays in the audit trail."""
        await services.delete_note(note_id)


ROUTES: list[Any] = [NoteController]
