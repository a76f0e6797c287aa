"""REST routes of service, mounted under ``/api/v1/service``.

The kernel's guards run first: an authenticated actor, the plugin enabled for the
actor's branch (the scope is narrowed to those branches) and the permission each handler
names in ``opt``. A handler that names none is refused, not opened.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from bankcrm.web.pagination import Page, check_limit
from bankcrm.web.problems import Problem
from bankcrm_service import access, care, faq, ratelimit, services, sla, triage_queue
from bankcrm_service.settings import root_settings

READ = {"permission": access.TICKET_READ}
WRITE = {"permission": access.TICKET_WRITE}
SLA_READ = {"permission": access.SLA_READ}
SLA_WRITE = {"permission": access.SLA_WRITE}
FAQ_READ = {"permission": access.FAQ_READ}
FAQ_WRITE = {"permission": access.FAQ_WRITE}
PLAN_WRITE = {"permission": access.VISIT_PLAN_WRITE}

StatusQuery = Annotated[
    services.Status | None,
    QueryParameter(description="Only the tickets with this status"),
]
KindQuery = Annotated[services.Kind | None, QueryParameter(description="Only this kind")]
CustomerQuery = Annotated[
    int | None, QueryParameter(ge=1, le=2**31 - 1, description="Only this customer's tickets")
]
BranchQuery = Annotated[
    int | None,
    QueryParameter(ge=1, le=2**31 - 1, description="Only this branch's tickets"),
]
LimitQuery = Annotated[int, QueryParameter(description="1 to 200")]
CursorQuery = Annotated[str | None, QueryParameter(max_length=512)]


class TicketController(Controller):
    path = "/tickets"
    tags = ("service: tickets",)

    @get("/", opt=READ)
    async def list_tickets(
        self,
        status: StatusQuery = None,
        kind: KindQuery = None,
        customer_id: CustomerQuery = None,
        branch_id: BranchQuery = None,
        limit: LimitQuery = 50,
        cursor: CursorQuery = None,
    ) -> Page[services.TicketOut]:
        """The tickets of the branches in your scope, newest first; pass
        ``next_cursor`` back as ``cursor`` for the next page."""
        check_limit(limit)
        return await services.list_tickets(
            status=status,
            kind=kind,
            customer_id=customer_id,
            branch_id=branch_id,
            limit=limit,
            cursor=cursor,
        )

    @post("/", opt=WRITE)
    async def create(
        self,
        data: JSONBody[services.TicketIn],
    ) -> services.TicketOut:
        """Open a ticket (status ``new``) in one of your branches (default: the customer's,
        else your home branch); a complaint repeating one of the customer's within 90 days
        is linked to it and raised to high priority."""
        return await services.create_ticket(data)

    @get("/{ticket_id:int}", opt=READ)
    async def detail(
        self,
        ticket_id: FromPath[int],
    ) -> services.TicketOut:
        return await services.get_ticket(ticket_id)

    @patch("/{ticket_id:int}", opt=WRITE)
    async def update(
        self,
        ticket_id: FromPath[int],
        data: JSONBody[services.TicketPatch],
    ) -> services.TicketOut:
        """Change the title, body, priority or status (along the allowed moves — reopening
        a resolved or closed ticket is ``in_progress`` — else 409 ``bad_transition``); a
        status change is kept in the history with ``note``; every change is audited."""
        return await services.update_ticket(ticket_id, data)

    @get("/{ticket_id:int}/history", opt=READ)
    async def history(self, ticket_id: FromPath[int]) -> list[services.TicketEventOut]:
        """Every status change of the ticket, oldest first, with who and why."""
        return await services.ticket_history(ticket_id)

    @get("/{ticket_id:int}/urgency", opt=READ)
    async def urgency(self, ticket_id: FromPath[int]) -> services.UrgencyOut:
        """The priority the ticket's signals suggest, with the reasons shown to staff:
        words of urgency, negative words, a threat to go to the regulator or the press, a
        repeated complaint, the customer's value tier."""
        return await services.ticket_urgency(ticket_id)

    @get("/{ticket_id:int}/sla", opt=SLA_READ)
    async def sla_steps(self, ticket_id: FromPath[int]) -> list[sla.SlaStepOut]:
        """The SLA warning and escalation of the ticket (each at most once), with whom
        they told; the due time itself is on the ticket."""
        await services.get_ticket(ticket_id)
        return await sla.ticket_steps(ticket_id)

    @get("/{ticket_id:int}/faq-suggestions", opt=FAQ_READ)
    async def faq_suggestions(self, ticket_id: FromPath[int]) -> list[faq.SuggestionOut]:
        """The published FAQ articles (of the ticket's branch and those above it) most
        like the ticket's title and text, best first, with a confidence from 0 to 1."""
        return await faq.ticket_suggestions(ticket_id)

    @get("/{ticket_id:int}/triage", opt=READ)
    async def triage(self, ticket_id: FromPath[int]) -> triage_queue.TriageOut:
        """What the kind model read in the ticket (kind, confidence), whether it waits in
        the manual triage queue, and what staff decided."""
        return await triage_queue.get(ticket_id)

    @post("/{ticket_id:int}/triage", opt=WRITE, status_code=200)
    async def review_triage(
        self, ticket_id: FromPath[int], data: JSONBody[triage_queue.ReviewIn]
    ) -> triage_queue.TriageOut:
        """Confirm or correct the model's reading: the ticket takes ``kind`` (and
        ``priority``; its SLA follows) and leaves the queue; the correction is kept as a
        labelled example, audited."""
        return await triage_queue.review(ticket_id, data)

    @delete("/{ticket_id:int}", opt=WRITE, status_code=204)
    async def remove(self, ticket_id: FromPath[int]) -> None:
        """Delete the ticket; its content stays in the audit trail."""
        await services.delete_ticket(ticket_id)


class SlaPolicyController(Controller):
    path = "/sla-policies"
    tags = ("service: SLAs",)

    @get("/", opt=SLA_READ)
    async def list_policies(self, branch_id: BranchQuery = None) -> list[sla.SlaPolicyOut]:
        """The SLA policies of the branches in your scope."""
        return await sla.list_policies(branch_id)

    @post("/", opt=SLA_WRITE)
    async def create(self, data: JSONBody[sla.SlaPolicyIn]) -> sla.SlaPolicyOut:
        """Business hours to resolve tickets of a kind, priority and customer tier (each
        empty = any) in a branch and the branches below it; the most specific policy of
        the nearest branch applies to tickets created (or re-prioritised) afterwards."""
        return await sla.create_policy(data)

    @get("/{sla_policy_id:int}", opt=SLA_READ)
    async def detail(self, sla_policy_id: FromPath[int]) -> sla.SlaPolicyOut:
        return await sla.get_policy(sla_policy_id)

    @patch("/{sla_policy_id:int}", opt=SLA_WRITE)
    async def update(
        self, sla_policy_id: FromPath[int], data: JSONBody[sla.SlaPolicyPatch]
    ) -> sla.SlaPolicyOut:
        return await sla.update_policy(sla_policy_id, data)

    @delete("/{sla_policy_id:int}", opt=SLA_WRITE, status_code=204)
    async def remove(self, sla_policy_id: FromPath[int]) -> None:
        await sla.delete_policy(sla_policy_id)


DateQuery = Annotated[date | None, QueryParameter(description="A day (YYYY-MM-DD)")]
PriorityQuery = Annotated[
    services.Priority | None, QueryParameter(description="Only this priority")
]


class SlaReportController(Controller):
    path = "/sla"
    tags = ("service: SLAs",)

    @get("/breaches", opt=SLA_READ)
    async def breaches(
        self,
        date_from: DateQuery = None,
        date_to: DateQuery = None,
        branch_id: BranchQuery = None,
        kind: KindQuery = None,
        priority: PriorityQuery = None,
    ) -> sla.BreachReport:
        """SLA breaches of the tickets created from ``date_from`` to ``date_to`` (default:
        the last 30 days) per branch, kind, priority and month, in the branches in your
        scope: tickets, breached (recorded, or running past the due time), still open past
        the due time, and the breach rate."""
        return await sla.breach_report(
            date_from, date_to, branch_id=branch_id, kind=kind, priority=priority
        )


class FaqCategoryController(Controller):
    path = "/faq-categories"
    tags = ("service: FAQ",)

    @get("/", opt=FAQ_READ)
    async def list_categories(self, branch_id: BranchQuery = None) -> list[faq.FaqCategoryOut]:
        return await faq.list_categories(branch_id)

    @post("/", opt=FAQ_WRITE)
    async def create(self, data: JSONBody[faq.FaqCategoryIn]) -> faq.FaqCategoryOut:
        return await faq.create_category(data)

    @get("/{faq_category_id:int}", opt=FAQ_READ)
    async def detail(self, faq_category_id: FromPath[int]) -> faq.FaqCategoryOut:
        return await faq.get_category(faq_category_id)

    @patch("/{faq_category_id:int}", opt=FAQ_WRITE)
    async def update(
        self, faq_category_id: FromPath[int], data: JSONBody[faq.FaqCategoryPatch]
    ) -> faq.FaqCategoryOut:
        return await faq.update_category(faq_category_id, data)

    @delete("/{faq_category_id:int}", opt={**FAQ_WRITE, "problems": (409,)}, status_code=204)
    async def remove(self, faq_category_id: FromPath[int]) -> None:
        """Delete an empty category (409 while articles are filed under it)."""
        await faq.delete_category(faq_category_id)


ArticleStatusQuery = Annotated[
    faq.ArticleStatus | None, QueryParameter(description="draft or published")
]
CategoryQuery = Annotated[
    int | None, QueryParameter(ge=1, le=2**31 - 1, description="Only this category")
]
OffsetQuery = Annotated[int, QueryParameter(ge=0, le=1_000_000)]
QuestionQuery = Annotated[str, QueryParameter(min_length=1, max_length=500)]


class FaqArticleController(Controller):
    path = "/faq-articles"
    tags = ("service: FAQ",)

    @get("/", opt=FAQ_READ)
    async def list_articles(
        self,
        status: ArticleStatusQuery = None,
        category_id: CategoryQuery = None,
        branch_id: BranchQuery = None,
        limit: LimitQuery = 50,
        offset: OffsetQuery = 0,
    ) -> list[faq.FaqArticleOut]:
        check_limit(limit)
        return await faq.list_articles(
            status=status, category_id=category_id, branch_id=branch_id, limit=limit,
            offset=offset,
        )  # fmt: skip

    @post("/", opt=FAQ_WRITE)
    async def create(self, data: JSONBody[faq.FaqArticleIn]) -> faq.FaqArticleOut:
        """A new article (version 1), a draft unless ``status`` is ``published``."""
        return await faq.create_article(data)

    @get("/{faq_article_id:int}", opt=FAQ_READ)
    async def detail(self, faq_article_id: FromPath[int]) -> faq.FaqArticleOut:
        return await faq.get_article(faq_article_id)

    @patch("/{faq_article_id:int}", opt=FAQ_WRITE)
    async def update(
        self, faq_article_id: FromPath[int], data: JSONBody[faq.FaqArticlePatch]
    ) -> faq.FaqArticleOut:
        """Edit, publish (``status``) or withdraw an article: each change is a new version."""
        return await faq.update_article(faq_article_id, data)

    @get("/{faq_article_id:int}/versions", opt=FAQ_READ)
    async def versions(self, faq_article_id: FromPath[int]) -> list[faq.FaqVersionOut]:
        """Every version of the article, newest first, with who made it."""
        return await faq.article_versions(faq_article_id)

    @delete("/{faq_article_id:int}", opt=FAQ_WRITE, status_code=204)
    async def remove(self, faq_article_id: FromPath[int]) -> None:
        await faq.delete_article(faq_article_id)

    @get("/search", opt=FAQ_READ)
    async def search(self, q: QuestionQuery) -> list[faq.SuggestionOut]:
        """The published articles most like ``q`` for your home branch, best first."""
        return await faq.search(q)


TriageStateQuery = Annotated[
    triage_queue.State,
    QueryParameter(name="state", description="queued (the queue), auto, confirmed or corrected"),
]


class TriageQueueController(Controller):
    path = "/triage-queue"
    tags = ("service: triage",)

    @get("/", opt=READ)
    async def list_queue(
        self,
        triage_state: TriageStateQuery = "queued",
        branch_id: BranchQuery = None,
        limit: LimitQuery = 50,
    ) -> list[triage_queue.TriageOut]:
        """The manual triage queue: tickets whose kind the model read with low confidence,
        oldest first (or, with ``state``, the tickets in another triage state)."""
        check_limit(limit)
        return await triage_queue.queue(state=triage_state, branch_id=branch_id, limit=limit)


def client_address(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


@post(
    "/self-service/ask",
    opt={"public": True, "problems": (429, 503)},
    status_code=200,
    tags=["service: self-service"],
)
async def self_service_ask(
    request: Request[Any, Any, Any], data: JSONBody[faq.AskIn]
) -> faq.AskOut:
    """The public self-service (no login): the best published public FAQ article for a
    question with a confidence from 0 to 1. Below the configured threshold, with a name and
    a phone number or e-mail address, a ticket is opened for a person to call back
    (``handed_over``, ``ticket_number``). Answers carry no personal data. Rate-limited per
    client address (429 with ``Retry-After``)."""
    _, settings = await root_settings()
    wait = ratelimit.SELF_SERVICE.hit(client_address(request), settings.self_service_per_minute)
    if wait:
        raise Problem(
            429, "too many questions from your address; wait a minute", code="rate_limited",
            headers={"Retry-After": str(int(wait))},
        )  # fmt: skip
    return await faq.ask(data)


CareStatusQuery = Annotated[
    care.Status | None, QueryParameter(description="Only the tasks with this status")
]
CareKindQuery = Annotated[care.Kind | None, QueryParameter(description="Only this kind")]
DueBeforeQuery = Annotated[
    date | None, QueryParameter(description="Only the tasks due on or before this day")
]


class CareTaskController(Controller):
    path = "/care-tasks"
    tags = ("service: care",)

    @get("/", opt=READ)
    async def list_care_tasks(
        self,
        status: CareStatusQuery = None,
        kind: CareKindQuery = None,
        customer_id: CustomerQuery = None,
        branch_id: BranchQuery = None,
        due_before: DueBeforeQuery = None,
        limit: LimitQuery = 50,
        cursor: CursorQuery = None,
    ) -> Page[care.CareTaskOut]:
        """Care tasks (birthday, maturity, visit) of the branches in your scope, by due
        day; pass ``next_cursor`` back as ``cursor`` for the next page."""
        check_limit(limit)
        return await care.list_tasks(
            status=status, kind=kind, customer_id=customer_id, branch_id=branch_id,
            due_before=due_before, limit=limit, cursor=cursor,
        )  # fmt: skip

    @get("/{care_task_id:int}", opt=READ)
    async def get_care_task(self, care_task_id: FromPath[int]) -> care.CareTaskOut:
        return await care.get_task(care_task_id)

    @post("/{care_task_id:int}/complete", opt=WRITE, status_code=200)
    async def complete_care_task(
        self, care_task_id: FromPath[int], data: JSONBody[care.CareResultIn]
    ) -> care.CareTaskOut:
        """Mark an open task done with its result; it then shows on the customer's
        timeline."""
        return await care.finish(care_task_id, "done", data.result)

    @post("/{care_task_id:int}/skip", opt=WRITE, status_code=200)
    async def skip_care_task(
        self, care_task_id: FromPath[int], data: JSONBody[care.CareResultIn]
    ) -> care.CareTaskOut:
        """Skip an open task, saying why."""
        return await care.finish(care_task_id, "skipped", data.result)


class VisitPlanController(Controller):
    path = "/visit-plans"
    tags = ("service: care",)

    @get("/", opt=READ)
    async def list_visit_plans(self) -> list[care.VisitPlanOut]:
        """The visit plans (走访计划) of the branches in your scope."""
        return await care.list_plans()

    @get("/{visit_plan_id:int}", opt=READ)
    async def get_visit_plan(self, visit_plan_id: FromPath[int]) -> care.VisitPlanOut:
        return await care.get_plan(visit_plan_id)

    @post("/", opt=PLAN_WRITE)
    async def create_visit_plan(self, data: JSONBody[care.VisitPlanIn]) -> care.VisitPlanOut:
        """A visit plan: every customer of the tier gets a visit task each period."""
        return await care.create_plan(data)


ROUTES: list[Any] = [
    TicketController, SlaPolicyController, SlaReportController, FaqCategoryController,
    FaqArticleController, TriageQueueController, CareTaskController, VisitPlanController,
    self_service_ask,
]  # fmt: skip
