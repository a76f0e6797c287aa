"""REST routes of marketing, mounted under ``/api/v1/marketing``.

The kernel's guards run first: an authenticated actor, the plugin enabled for the
actor's branch (the scope is narrowed to those branches) and the permission each handler
names in ``opt``. A handler that names none is refused, not opened.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from bankcrm.web.pagination import Page, check_limit
from bankcrm_marketing import (
    access,
    campaigns,
    competitor_api,
    contacts,
    outcomes,
    survey_api,
    targeting,
)

READ = {"permission": access.CAMPAIGN_READ}
WRITE = {"permission": access.CAMPAIGN_WRITE}
LAUNCH = {"permission": access.CAMPAIGN_LAUNCH, "problems": (409,)}
RESPOND = {"permission": access.CONTACT_RESPOND, "problems": (409,)}
DNC_READ = {"permission": access.DNC_READ}
DNC_WRITE = {"permission": access.DNC_WRITE}
OUTCOME_READ = {"permission": access.OUTCOME_READ}
OUTCOME_WRITE = {"permission": access.OUTCOME_WRITE}

StatusQuery = Annotated[
    campaigns.Status | None,
    QueryParameter(description="Only the campaigns with this status"),
]
BranchQuery = Annotated[
    int | None,
    QueryParameter(ge=1, le=2**31 - 1, description="Only this branch's campaigns"),
]
CustomerQuery = Annotated[
    int | None,
    QueryParameter(ge=1, le=2**31 - 1, description="Only this customer's flags"),
]
GroupQuery = Annotated[
    Literal["target", "control"] | None, QueryParameter(description="Only this group")
]
ContactStatusQuery = Annotated[
    Literal["queued", "sent", "skipped", "failed"] | None,
    QueryParameter(description="Only the contacts with this status"),
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
    ) -> Page[campaigns.CampaignOut]:
        """The campaigns of the branches in your scope, newest first; pass
        ``next_cursor`` back as ``cursor`` for the next page."""
        check_limit(limit)
        return await campaigns.list_campaigns(
            status=status, branch_id=branch_id, limit=limit, cursor=cursor
        )

    @post("/", opt=WRITE)
    async def create(self, data: JSONBody[campaigns.CampaignIn]) -> campaigns.CampaignOut:
        """Create a draft campaign in one of your branches (default: your home branch)."""
        return await campaigns.create_campaign(data)

    @get("/{campaign_id:int}", opt=READ)
    async def detail(self, campaign_id: FromPath[int]) -> campaigns.CampaignOut:
        return await campaigns.get_campaign(campaign_id)

    @patch("/{campaign_id:int}", opt={**WRITE, "problems": (409,)})
    async def update(
        self, campaign_id: FromPath[int], data: JSONBody[campaigns.CampaignPatch]
    ) -> campaigns.CampaignOut:
        """Change the campaign (its target only while a draft) or close it; audited."""
        return await campaigns.update_campaign(campaign_id, data)

    @delete("/{campaign_id:int}", opt={**WRITE, "problems": (409,)}, status_code=204)
    async def remove(self, campaign_id: FromPath[int]) -> None:
        """Delete a draft campaign; its content stays in the audit trail."""
        await campaigns.delete_campaign(campaign_id)

    @post("/{campaign_id:int}/target", opt={**WRITE, "problems": (409,)}, status_code=200)
    async def target(self, campaign_id: FromPath[int]) -> targeting.TargetingOut:
        """(Re)build the members of a draft: the customers its criteria select, split
        into target and control groups by its seed, with the contact rules applied."""
        return await targeting.target(campaign_id)

    @get("/{campaign_id:int}/targeting", opt=READ)
    async def targeting_counts(self, campaign_id: FromPath[int]) -> targeting.TargetingOut:
        """How many members, in each group, and how many each rule excluded."""
        return await targeting.targeting(campaign_id)

    @post("/{campaign_id:int}/launch", opt=LAUNCH, status_code=200)
    async def launch(self, campaign_id: FromPath[int]) -> campaigns.CampaignOut:
        """Launch a targeted draft: its contacts are queued and made by the sending job."""
        return await contacts.launch(campaign_id)

    @get("/{campaign_id:int}/members", opt=READ)
    async def members(
        self,
        campaign_id: FromPath[int],
        group: GroupQuery = None,
        limit: LimitQuery = 50,
        cursor: CursorQuery = None,
    ) -> Page[contacts.MemberOut]:
        check_limit(limit)
        return await contacts.list_members(campaign_id, group=group, limit=limit, cursor=cursor)

    @get("/{campaign_id:int}/contacts", opt=READ)
    async def contacts_of(
        self,
        campaign_id: FromPath[int],
        status: ContactStatusQuery = None,
        limit: LimitQuery = 50,
        cursor: CursorQuery = None,
    ) -> Page[contacts.ContactOut]:
        check_limit(limit)
        return await contacts.list_contacts(campaign_id, status=status, limit=limit, cursor=cursor)

    @get("/{campaign_id:int}/results", opt=OUTCOME_READ)
    async def results(self, campaign_id: FromPath[int]) -> outcomes.CampaignResults:
        """Conversions and revenue of the target and control groups, the uplift with its
        95% interval, contacts, responses, cost and ROI."""
        return await outcomes.results(campaign_id)

    @get("/{campaign_id:int}/staff", opt=READ)
    async def staff(self, campaign_id: FromPath[int]) -> list[campaigns.StaffOut]:
        """The staff assigned to the campaign (营销人员)."""
        return await campaigns.list_staff(campaign_id)

    @post("/{campaign_id:int}/staff", opt={**WRITE, "problems": (409,)})
    async def add_staff(
        self, campaign_id: FromPath[int], data: JSONBody[campaigns.StaffIn]
    ) -> campaigns.StaffOut:
        return await campaigns.add_staff(campaign_id, data)

    @get("/{campaign_id:int}/staff/{staff_id:int}", opt=READ)
    async def staff_detail(
        self, campaign_id: FromPath[int], staff_id: FromPath[int]
    ) -> campaigns.StaffOut:
        return await campaigns.get_staff(campaign_id, staff_id)

    @delete("/{campaign_id:int}/staff/{staff_id:int}", opt=WRITE, status_code=204)
    async def remove_staff(self, campaign_id: FromPath[int], staff_id: FromPath[int]) -> None:
        await campaigns.remove_staff(campaign_id, staff_id)

    @get("/{campaign_id:int}/costs", opt=READ)
    async def costs(self, campaign_id: FromPath[int]) -> list[campaigns.CostOut]:
        """The campaign's cost lines (营销成本)."""
        return await campaigns.list_costs(campaign_id)

    @post("/{campaign_id:int}/costs", opt={**WRITE, "problems": (409,)})
    async def add_cost(
        self, campaign_id: FromPath[int], data: JSONBody[campaigns.CostIn]
    ) -> campaigns.CostOut:
        return await campaigns.add_cost(campaign_id, data)

    @get("/{campaign_id:int}/costs/{cost_id:int}", opt=READ)
    async def cost_detail(
        self, campaign_id: FromPath[int], cost_id: FromPath[int]
    ) -> campaigns.CostOut:
        return await campaigns.get_cost(campaign_id, cost_id)

    @delete("/{campaign_id:int}/costs/{cost_id:int}", opt=WRITE, status_code=204)
    async def remove_cost(self, campaign_id: FromPath[int], cost_id: FromPath[int]) -> None:
        await campaigns.delete_cost(campaign_id, cost_id)


class ContactController(Controller):
    path = "/contacts"
    tags = ("marketing: contacts",)

    @get("/{contact_id:int}", opt=READ)
    async def detail(self, contact_id: FromPath[int]) -> contacts.ContactOut:
        return await contacts.get_contact(contact_id)

    @post("/{contact_id:int}/response", opt=RESPOND, status_code=200)
    async def respond(
        self, contact_id: FromPath[int], data: JSONBody[contacts.ResponseIn]
    ) -> contacts.ContactOut:
        """Record the customer's response; ``opt_out`` also flags them not to be
        contacted again."""
        return await contacts.record_response(contact_id, data)


class DoNotContactController(Controller):
    path = "/do-not-contact"
    tags = ("marketing: do not contact",)

    @get("/", opt=DNC_READ)
    async def list_flags(
        self,
        customer_id: CustomerQuery = None,
        limit: LimitQuery = 50,
        cursor: CursorQuery = None,
    ) -> Page[contacts.DoNotContactOut]:
        check_limit(limit)
        return await contacts.list_do_not_contact(
            customer_id=customer_id, limit=limit, cursor=cursor
        )

    @post("/", opt={**DNC_WRITE, "problems": (409,)})
    async def add(self, data: JSONBody[contacts.DoNotContactIn]) -> contacts.DoNotContactOut:
        """Flag a customer not to be contacted by marketing, on a channel or on all."""
        return await contacts.add_do_not_contact(data)

    @get("/{flag_id:int}", opt=DNC_READ)
    async def detail(self, flag_id: FromPath[int]) -> contacts.DoNotContactOut:
        return await contacts.get_do_not_contact(flag_id)

    @delete("/{flag_id:int}", opt=DNC_WRITE, status_code=204)
    async def remove(self, flag_id: FromPath[int]) -> None:
        await contacts.remove_do_not_contact(flag_id)


SinceQuery = Annotated[
    datetime | None, QueryParameter(description="Only outcomes recorded from this time on")
]
CampaignQuery = Annotated[
    int | None, QueryParameter(ge=1, le=2**31 - 1, description="Only this campaign's")
]
DateQuery = Annotated[date | None, QueryParameter(description="A day (YYYY-MM-DD)")]


class OutcomeController(Controller):
    path = "/outcomes"
    tags = ("marketing: outcomes",)

    @get("/", opt=OUTCOME_READ)
    async def list_outcomes(
        self,
        since: SinceQuery = None,
        campaign_id: CampaignQuery = None,
        limit: LimitQuery = 200,
        cursor: CursorQuery = None,
    ) -> Page[outcomes.OutcomeOut]:
        """The outcome ledger in recording order, each row with its member's group: what
        the next training run of the recommendation models reads."""
        check_limit(limit)
        return await outcomes.list_outcomes(
            since=since, campaign_id=campaign_id, limit=limit, cursor=cursor
        )

    @post("/", opt=OUTCOME_WRITE)
    async def record(self, data: JSONBody[outcomes.OutcomeIn]) -> outcomes.OutcomeOut:
        """Record what a customer did with an offer or a recommendation."""
        return await outcomes.record_outcome(data)

    @get("/{outcome_id:int}", opt=OUTCOME_READ)
    async def detail(self, outcome_id: FromPath[int]) -> outcomes.OutcomeOut:
        return await outcomes.get_outcome(outcome_id)


@get("/recommendations/{customer_id:int}", opt=OUTCOME_READ, tags=["marketing: outcomes"])
async def recommendations(customer_id: FromPath[int]) -> list[outcomes.RecommendationOut]:
    """The customer's next-best products with their reasons (from the recommendation
    models, when a plugin provides them), each recorded as shown."""
    return await outcomes.recommendations_for(customer_id)


@get("/roi", opt=OUTCOME_READ, tags=["marketing: outcomes"])
async def roi(start: DateQuery = None, end: DateQuery = None) -> outcomes.RoiOut:
    """Cost against the target groups' revenue per campaign, channel and product, for
    ``[start, end)`` (default: the last 90 days)."""
    return await outcomes.roi(start, end)


ROUTES: list[Any] = [
    CampaignController,
    ContactController,
    DoNotContactController,
    OutcomeController,
    recommendations,
    roi,
    *competitor_api.ROUTES,
    *survey_api.ROUTES,
]
