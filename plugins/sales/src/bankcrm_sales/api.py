"""REST routes of sales, mounted under ``/api/v1/sales``.

The kernel's guards run first: an authenticated actor, the plugin enabled for the
actor's branch (the scope is narrowed to those branches) and the permission each handler
names in ``opt``. A handler that names none is refused, not opened.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, patch, post, put
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter
from msgspec import Meta, Struct

from bankcrm.context import require_scope
from bankcrm.web.pagination import Page, check_limit
from bankcrm.web.problems import invalid
from bankcrm.web.upload import receive
from bankcrm_sales import (
    access,
    activities,
    analytics,
    commissions,
    contracts,
    followups,
    lead_import,
    leads,
    opportunities,
    plans,
    settings,
)

LimitQuery = Annotated[int, QueryParameter(description="1 to 200")]
CursorQuery = Annotated[str | None, QueryParameter(max_length=512)]
IdQuery = Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)]
Text32 = Annotated[str | None, QueryParameter(max_length=32)]


class LeadImportForm(Struct):
    """The parts of a lead import (``multipart/form-data``), for the API description."""

    file: Annotated[bytes, Meta(description="The .csv or .xlsx file of leads.")]
    branch_id: Annotated[
        int | None, Meta(description="The branch the leads go to (default: yours).")
    ] = None
    mode: Annotated[
        Literal["preview", "commit"],
        Meta(description="preview checks every row; commit writes all rows or none."),
    ] = "commit"


class LeadController(Controller):
    path = "/leads"
    tags = ("sales: leads",)

    @get("/", opt={"permission": access.LEAD_READ})
    async def list_leads(
        self,
        status: Annotated[leads.LeadStatusName | None, QueryParameter()] = None,
        channel: Annotated[leads.ChannelName | None, QueryParameter()] = None,
        owner_id: IdQuery = None,
        flagged: Annotated[bool | None, QueryParameter()] = None,
        limit: LimitQuery = 50,
        cursor: CursorQuery = None,
    ) -> Page[leads.LeadOut]:
        """Your leads and those of everyone under you, newest first."""
        check_limit(limit)
        return await leads.list_leads(
            status=status, channel=channel, owner_id=owner_id, flagged=flagged,
            limit=limit, cursor=cursor,
        )  # fmt: skip

    @post("/", opt={"permission": access.LEAD_WRITE})
    async def create(self, data: JSONBody[leads.LeadIn]) -> leads.LeadOut:
        """Create a lead; without ``owner_id`` the branch's assignment rules choose the owner."""
        return await leads.create_lead(data)

    @post(
        "/import",
        opt={"permission": access.LEAD_IMPORT, "body": "multipart", "form": LeadImportForm},
        status_code=200,
        request_max_body_size=None,
    )
    async def import_leads(self, request: Request[Any, Any, Any]) -> lead_import.ImportReport:
        """Upload a .csv or .xlsx of leads (form part ``file``; optional ``branch_id`` and
        ``mode`` = ``commit`` (default) or ``preview``). Headers in Chinese or English.
        Every cell is checked first; a commit writes all rows or, when any cell is wrong,
        none (422 naming each bad cell by row and column). Rows already imported into the
        branch (same external id, or the same file and row) are skipped, so a file may be
        sent again. Owners come from the branch's assignment rules, scores from the
        scoring rules, as for leads created one by one."""
        upload = await receive(request.headers.get("content-type", ""), request.stream())
        try:
            mode = upload.fields.get("mode", "commit")
            if mode not in ("preview", "commit"):
                raise invalid("body.mode", "must be preview or commit")
            return await lead_import.import_leads(
                upload.path, upload.file_name, upload.sha256, upload.fields.get("branch_id"),
                commit=mode == "commit",
            )  # fmt: skip
        finally:
            upload.discard()

    @get("/{lead_id:int}", opt={"permission": access.LEAD_READ})
    async def detail(self, lead_id: FromPath[int]) -> leads.LeadOut:
        return await leads.get_lead(lead_id)

    @patch("/{lead_id:int}", opt={"permission": access.LEAD_WRITE})
    async def update(
        self, lead_id: FromPath[int], data: JSONBody[leads.LeadPatch]
    ) -> leads.LeadOut:
        """Change the lead, qualify it, or mark it lost (with ``lost_reason``)."""
        return await leads.update_lead(lead_id, data)

    @post(
        "/{lead_id:int}/convert",
        opt={"permission": access.LEAD_WRITE,
             "location": "/api/v1/sales/opportunities/{opportunity_id}"},
    )  # fmt: skip
    async def convert(
        self, lead_id: FromPath[int], data: JSONBody[opportunities.ConversionIn]
    ) -> opportunities.ConversionOut:
        """Convert the lead into a customer (linked or created through the customer
        archive) and an opportunity, in one audited transaction."""
        return await opportunities.convert_lead(lead_id, data)


class ReassignIn(Struct, forbid_unknown_fields=True, kw_only=True):
    employee_id: Annotated[int, Meta(ge=1, le=2**31 - 1)]
    reason: Annotated[str, Meta(min_length=1, max_length=200)]


class ReassignedOut(Struct):
    id: int
    owner: int
    previous_owner: int


class FollowUpController(Controller):
    """The escalation history of an item and a manager's reassignment."""

    path = "/"
    tags = ("sales: follow-ups",)

    @get("/leads/{lead_id:int}/follow-ups", opt={"permission": access.LEAD_READ})
    async def lead_history(self, lead_id: FromPath[int]) -> list[followups.StepOut]:
        """Reminders, escalations and reassignments of the lead's follow-ups."""
        return await followups.history("lead", lead_id)

    @get(
        "/opportunities/{opportunity_id:int}/follow-ups",
        opt={"permission": access.OPPORTUNITY_READ},
    )
    async def opportunity_history(self, opportunity_id: FromPath[int]) -> list[followups.StepOut]:
        return await followups.history("opportunity", opportunity_id)

    @post("/leads/{lead_id:int}/reassign", opt={"permission": access.ASSIGN}, status_code=200)
    async def reassign_lead(
        self, lead_id: FromPath[int], data: JSONBody[ReassignIn]
    ) -> ReassignedOut:
        """Give the lead to another employee (audited; both are told why)."""
        moved = await followups.reassign("lead", lead_id, data.employee_id, data.reason)
        return ReassignedOut(**moved)

    @post(
        "/opportunities/{opportunity_id:int}/reassign",
        opt={"permission": access.ASSIGN},
        status_code=200,
    )
    async def reassign_opportunity(
        self, opportunity_id: FromPath[int], data: JSONBody[ReassignIn]
    ) -> ReassignedOut:
        moved = await followups.reassign(
            "opportunity", opportunity_id, data.employee_id, data.reason
        )
        return ReassignedOut(**moved)


class IntakeController(Controller):
    path = "/intake"
    tags = ("sales: intake",)

    @post(
        "/leads",
        opt={"permission": access.LEAD_INTAKE, "location": "/api/v1/sales/leads/{id}"},
        status_code=201,
    )
    async def receive(
        self,
        data: JSONBody[leads.LeadIn],
        idempotency_key: Annotated[
            str | None, HeaderParameter(name="Idempotency-Key", max_length=128, required=False)
        ] = None,
    ) -> Response[leads.LeadOut]:
        """A lead from an external system (web form, call centre). ``Idempotency-Key`` is
        required: a retry with the same key and body answers the same lead (200)."""
        if idempotency_key is None or not 8 <= len(idempotency_key) <= 128:
            raise invalid(
                "header.Idempotency-Key", "required: 8 to 128 characters, unique per lead"
            )
        if not all(0x21 <= ord(c) <= 0x7E for c in idempotency_key):
            raise invalid("header.Idempotency-Key", "printable ASCII without spaces only")
        lead, created = await leads.receive_lead(data, idempotency_key)
        return Response(lead, status_code=201 if created else 200)


class OpportunityController(Controller):
    path = "/opportunities"
    tags = ("sales: opportunities",)

    @get("/", opt={"permission": access.OPPORTUNITY_READ})
    async def list_opportunities(
        self,
        status: Annotated[
            str | None, QueryParameter(max_length=8, pattern="^(open|won|lost)$")
        ] = None,
        stage: Text32 = None,
        owner_id: IdQuery = None,
        customer_id: IdQuery = None,
        limit: LimitQuery = 50,
        cursor: CursorQuery = None,
    ) -> Page[opportunities.OpportunityOut]:
        check_limit(limit)
        return await opportunities.list_opportunities(
            status=status, stage=stage, owner_id=owner_id, customer_id=customer_id,
            limit=limit, cursor=cursor,
        )  # fmt: skip

    @post("/", opt={"permission": access.OPPORTUNITY_WRITE})
    async def create(
        self, data: JSONBody[opportunities.OpportunityIn]
    ) -> opportunities.OpportunityOut:
        return await opportunities.create_opportunity(data)

    @get("/{opportunity_id:int}", opt={"permission": access.OPPORTUNITY_READ})
    async def detail(self, opportunity_id: FromPath[int]) -> opportunities.OpportunityOut:
        """The opportunity with its products and the stages it went through."""
        return await opportunities.get_opportunity(opportunity_id)

    @patch("/{opportunity_id:int}", opt={"permission": access.OPPORTUNITY_WRITE})
    async def update(
        self, opportunity_id: FromPath[int], data: JSONBody[opportunities.OpportunityPatch]
    ) -> opportunities.OpportunityOut:
        return await opportunities.update_opportunity(opportunity_id, data)

    @put("/{opportunity_id:int}/products", opt={"permission": access.OPPORTUNITY_WRITE})
    async def products(
        self, opportunity_id: FromPath[int], data: JSONBody[list[opportunities.ProductLine]]
    ) -> opportunities.OpportunityOut:
        """Replace the products (产品服务配置) of an open opportunity."""
        return await opportunities.replace_products(opportunity_id, data)

    @post(
        "/{opportunity_id:int}/stage", opt={"permission": access.OPPORTUNITY_WRITE}, status_code=200
    )
    async def stage(
        self, opportunity_id: FromPath[int], data: JSONBody[opportunities.StageMove]
    ) -> opportunities.OpportunityOut:
        """Move to a stage of the branch's pipeline (entry criteria checked; won needs
        products, lost a reason; a closed opportunity never moves back)."""
        return await opportunities.move_stage(opportunity_id, data)

    @post(
        "/{opportunity_id:int}/contract",
        opt={"permission": access.CONTRACT_WRITE,
             "location": "/api/v1/sales/contracts/{id}"},
    )  # fmt: skip
    async def sign(
        self, opportunity_id: FromPath[int], data: JSONBody[contracts.ContractFromDeal]
    ) -> contracts.SalesContractOut:
        """Sign the won opportunity as a contract (销售合同): the products sold, and the
        customer's contract in the archive, in one transaction; once per opportunity."""
        return await contracts.create_from_opportunity(opportunity_id, data)


class ContractController(Controller):
    path = "/contracts"
    tags = ("sales: contracts",)

    @get("/", opt={"permission": access.CONTRACT_READ})
    async def list_contracts(
        self,
        status: Annotated[
            str | None, QueryParameter(max_length=10, pattern="^(active|terminated)$")
        ] = None,
        customer_id: IdQuery = None,
        limit: LimitQuery = 50,
        cursor: CursorQuery = None,
    ) -> Page[contracts.SalesContractOut]:
        """Contracts of your deals and of everyone under you, newest first."""
        check_limit(limit)
        return await contracts.list_contracts(
            status=status, customer_id=customer_id, limit=limit, cursor=cursor
        )

    @get("/{contract_id:int}", opt={"permission": access.CONTRACT_READ})
    async def detail(self, contract_id: FromPath[int]) -> contracts.SalesContractOut:
        return await contracts.get_contract(contract_id)

    @post(
        "/{contract_id:int}/terminate", opt={"permission": access.CONTRACT_WRITE}, status_code=200
    )
    async def terminate(
        self, contract_id: FromPath[int], data: JSONBody[contracts.TerminationIn]
    ) -> contracts.SalesContractOut:
        """End the contract early (the product is closed); the archive's contract is
        terminated with it, and a commission rule's clawback applies in the next run."""
        return await contracts.terminate(contract_id, data)


class ActivityController(Controller):
    path = "/activities"
    tags = ("sales: activities",)

    @get("/", opt={"permission": access.ACTIVITY_READ})
    async def list_activities(
        self,
        lead_id: IdQuery = None,
        opportunity_id: IdQuery = None,
        customer_id: IdQuery = None,
        limit: LimitQuery = 50,
        cursor: CursorQuery = None,
    ) -> Page[activities.ActivityOut]:
        check_limit(limit)
        return await activities.list_activities(
            lead_id=lead_id, opportunity_id=opportunity_id, customer_id=customer_id,
            limit=limit, cursor=cursor,
        )  # fmt: skip

    @post("/", opt={"permission": access.ACTIVITY_WRITE})
    async def record(self, data: JSONBody[activities.ActivityIn]) -> activities.ActivityOut:
        """Record a call, visit, meeting or message; sets the next follow-up of its lead
        or opportunity."""
        return await activities.record_activity(data)

    @get("/{activity_id:int}", opt={"permission": access.ACTIVITY_READ})
    async def detail(self, activity_id: FromPath[int]) -> activities.ActivityOut:
        return await activities.get_activity(activity_id)


DayQuery = Annotated[date | None, QueryParameter(description="A day (YYYY-MM-DD)")]
ANALYTICS = {"permission": access.ANALYTICS_READ}


class AnalyticsController(Controller):
    """Figures over what you may see: your own work, your team's or your branch's."""

    path = "/analytics"
    tags = ("sales: analytics",)

    @get("/funnel", opt=ANALYTICS)
    async def funnel(self, start: DayQuery = None, end: DayQuery = None) -> analytics.Funnel:
        """Per stage: opportunities that entered it in [start, end), how many went on, and
        the mean days spent in it; won, lost and the win rate of the period."""
        return await analytics.funnel(start, end)

    @get("/win-loss", opt=ANALYTICS)
    async def win_loss(
        self, start: DayQuery = None, end: DayQuery = None
    ) -> list[analytics.WinLossRow]:
        """Closed opportunities by outcome, lost reason and competitor."""
        return await analytics.win_loss(start, end)

    @get("/channels", opt=ANALYTICS)
    async def channels(
        self, start: DayQuery = None, end: DayQuery = None
    ) -> list[analytics.ChannelRow]:
        """Per channel: leads, opportunities, won, conversion, won amount, cost and ROI."""
        return await analytics.channels(start, end)

    @get("/forecast", opt=ANALYTICS)
    async def forecast(
        self, months: Annotated[int, QueryParameter(ge=1, le=24)] = 6
    ) -> list[analytics.ForecastRow]:
        """The open pipeline by expected closing month, weighted by stage probability."""
        return await analytics.forecast(months)


class ChannelCostController(Controller):
    path = "/channel-costs"
    tags = ("sales: analytics",)

    @get("/", opt=ANALYTICS)
    async def list_costs(
        self, start: DayQuery = None, end: DayQuery = None
    ) -> list[analytics.ChannelCostOut]:
        return await analytics.list_channel_costs(start, end)

    @put("/", opt={"permission": access.CONFIG_WRITE})
    async def set_cost(self, data: JSONBody[analytics.ChannelCostIn]) -> analytics.ChannelCostOut:
        """Set what a channel cost a branch in a month (used when marketing reports none)."""
        return await analytics.set_channel_cost(data)


class PlanController(Controller):
    path = "/plans"
    tags = ("sales: plans",)

    @get("/", opt={"permission": access.PLAN_READ})
    async def list_plans(self, period_start: DayQuery = None) -> list[plans.PlanOut]:
        return await plans.list_plans(period_start)

    @post(
        "/",
        opt={"permission": access.PLAN_WRITE, "location": "/api/v1/sales/plans/{id}/attainment"},
    )
    async def create(self, data: JSONBody[plans.PlanIn]) -> plans.PlanOut:
        """A target for a branch, a team or a person, per month, quarter or year."""
        return await plans.create_plan(data)

    @get("/{plan_id:int}/attainment", opt={"permission": access.PLAN_READ})
    async def attainment(self, plan_id: FromPath[int]) -> plans.Attainment:
        """Won amount and count in the period against the target and the time elapsed."""
        return await plans.attainment(plan_id)


class CommissionController(Controller):
    path = "/commissions"
    tags = ("sales: commissions",)

    @post("/rules", opt={"permission": access.COMMISSION_WRITE})
    async def create_rule(self, data: JSONBody[commissions.RuleIn]) -> commissions.RuleOut:
        """A rate or non-overlapping marginal tiers per product category and period."""
        return await commissions.create_rule(data)

    @get("/rules/{rule_id:int}", opt={"permission": access.COMMISSION_READ})
    async def rule(self, rule_id: FromPath[int]) -> commissions.RuleOut:
        return await commissions.get_rule(rule_id)

    @put("/splits/{opportunity_id:int}", opt={"permission": access.COMMISSION_WRITE})
    async def split(
        self, opportunity_id: FromPath[int], data: JSONBody[list[commissions.SplitIn]]
    ) -> list[commissions.SplitIn]:
        """Who shares the opportunity's commission; the shares sum to 100 %."""
        return await commissions.set_split(opportunity_id, data)

    @get("/runs", opt={"permission": access.COMMISSION_READ})
    async def runs(self) -> list[commissions.RunOut]:
        return await commissions.list_runs()

    @post("/runs", opt={"permission": access.COMMISSION_WRITE}, status_code=202)
    async def compute(self, data: JSONBody[commissions.RunIn]) -> dict[str, Any]:
        """Compute a month's run in the background (again while it is a draft)."""
        return await commissions.request_run(data)

    @post("/runs/{run_id:int}/approve", opt={"permission": access.COMMISSION_APPROVE},
          status_code=200)  # fmt: skip
    async def approve(self, run_id: FromPath[int]) -> commissions.RunOut:
        """Approve a draft run: not by the person who computed it."""
        return await commissions.approve_run(run_id)

    @post("/runs/{run_id:int}/paid", opt={"permission": access.COMMISSION_APPROVE},
          status_code=200)  # fmt: skip
    async def paid(self, run_id: FromPath[int]) -> commissions.RunOut:
        return await commissions.mark_paid(run_id)

    @get("/statement", opt={"permission": access.COMMISSION_READ})
    async def statement(
        self, month: DayQuery = None, user_id: IdQuery = None
    ) -> list[commissions.LineOut]:
        """Commission lines of you and everyone under you."""
        return await commissions.statement(month, user_id)


@get("/pipeline", opt={"permission": access.OPPORTUNITY_READ}, tags=["sales: pipeline"])
async def pipeline(
    branch_id: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
) -> list[settings.StageSpec]:
    """The stages of a branch's pipeline (default: your home branch), in order. Branch
    managers change them in the branch's sales settings."""
    scope = require_scope()
    chosen = branch_id or scope.home_branch_id
    if chosen is None or chosen not in scope.branch_ids:
        raise invalid("query.branch_id", "give one of your branches")
    return list((await settings.for_branch(chosen)).stages)


ROUTES: list[Any] = [
    LeadController,
    IntakeController,
    OpportunityController,
    ContractController,
    ActivityController,
    FollowUpController,
    AnalyticsController,
    ChannelCostController,
    PlanController,
    CommissionController,
    pipeline,
]
