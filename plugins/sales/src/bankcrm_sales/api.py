"""REST routes of sales, mounted under ``/api/v1/sales``.

The kernel's guards run first: an authenticated actor, the plugin enabled for the
actor's branch (the scope is narrowed to those branches) and the permission each handler
names in ``opt``. A handler that names none is refused, not opened.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from bankcrm.web.pagination import Page, check_limit
from bankcrm_sales import access, services

READ = {"permission": access.LEAD_READ}
WRITE = {"permission": access.LEAD_WRITE}

StatusQuery = Annotated[
    services.Status | None,
    QueryParameter(description="Only the leads with this status"),
]
BranchQuery = Annotated[
    int | None,
    QueryParameter(ge=1, le=2**31 - 1, description="Only this branch's leads"),
]
LimitQuery = Annotated[int, QueryParameter(description="1 to 200")]
CursorQuery = Annotated[str | None, QueryParameter(max_length=512)]


class LeadController(Controller):
    path = "/leads"
    tags = ("sales: leads",)

    @get("/", opt=READ)
    async def list_leads(
        self,
        status: StatusQuery = None,
        branch_id: BranchQuery = None,
        limit: LimitQuery = 50,
        cursor: CursorQuery = None,
    ) -> Page[services.LeadOut]:
        """The leads of the branches in your scope, newest first; pass
        ``next_cursor`` back as ``cursor`` for the next page."""
        check_limit(limit)
        return await services.list_leads(
            status=status,
            branch_id=branch_id,
            limit=limit,
            cursor=cursor,
        )

    @post("/", opt=WRITE)
    async def create(
        self,
        data: JSONBody[services.LeadIn],
    ) -> services.LeadOut:
        """Create a lead in one of your branches (default: your home branch)."""
        return await services.create_lead(data)

    @get("/{lead_id:int}", opt=READ)
    async def detail(
        self,
        lead_id: FromPath[int],
    ) -> services.LeadOut:
        return await services.get_lead(lead_id)

    @patch("/{lead_id:int}", opt=WRITE)
    async def update(
        self,
        lead_id: FromPath[int],
        data: JSONBody[services.LeadPatch],
    ) -> services.LeadOut:
        """Change the title, the body or the status; the change is audited."""
        return await services.update_lead(lead_id, data)

    @delete("/{lead_id:int}", opt=WRITE, status_code=204)
    async def remove(self, lead_id: FromPath[int]) -> None:
        """Delete the lead; its content stays in the audit trail."""
        await services.delete_lead(lead_id)


ROUTES: list[Any] = [LeadController]
