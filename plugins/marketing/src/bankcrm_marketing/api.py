"""REST routes of marketing, mounted under ``/api/v1/marketing``.

The kernel's guards run first: an authenticated actor, the plugin enabled for the
actor's branch (the scope is narrowed to those branches) and the permission each handler
names in ``opt``. A handler that names none is refused, not opened.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from bankcrm.web.pagination import Page, check_limit
from bankcrm_marketing import access, services

READ = {"permission": access.CAMPAIGN_READ}
WRITE = {"permission": access.CAMPAIGN_WRITE}

StatusQuery = Annotated[
    services.Status | None,
    QueryParameter(description="Only the campaigns with this status"),
]
BranchQuery = Annotated[
    int | None,
    QueryParameter(ge=1, le=2**31 - 1, description="Only this branch's campaigns"),
]
LimitQuery = Annotated[int, QueryParameter(description="1 to 200")]
CursorQuery = Annotated[str | None, QueryParameter(max_length=512)]


class CampaignController(Controller):
    path = "/campaigns"
    tags = ("marketing: campaigns",)

    @get("/", opt=READ)
    async def list_campaigns(
        self,
        status: StatusQuery = None,
        branch_id: BranchQuery = None,
        limit: LimitQuery = 50,
        cursor: CursorQuery = None,
    ) -> Page[services.CampaignOut]:
        """The campaigns of the branches in your scope, newest first; pass
        ``next_cursor`` back as ``cursor`` for the next page."""
        check_limit(limit)
        return await services.list_campaigns(
            status=status,
            branch_id=branch_id,
            limit=limit,
            cursor=cursor,
        )

    @post("/", opt=WRITE)
    async def create(
        self,
        data: JSONBody[services.CampaignIn],
    ) -> services.CampaignOut:
        """Create a campaign in one of your branches (default: your home branch)."""
        return await services.create_campaign(data)

    @get("/{campaign_id:int}", opt=READ)
    async def detail(
        self,
        campaign_id: FromPath[int],
    ) -> services.CampaignOut:
        return await services.get_campaign(campaign_id)

    @patch("/{campaign_id:int}", opt=WRITE)
    async def update(
        self,
        campaign_id: FromPath[int],
        data: JSONBody[services.CampaignPatch],
    ) -> services.CampaignOut:
        """Change the title, the body or the status; the change is audited."""
        return await services.update_campaign(campaign_id, data)

    @delete("/{campaign_id:int}", opt=WRITE, status_code=204)
    async def remove(self, campaign_id: FromPath[int]) -> None:
        """Delete the campaign; its content stays in the audit trail."""
        await services.delete_campaign(campaign_id)


ROUTES: list[Any] = [CampaignController]
