"""REST routes of service, mounted under ``/api/v1/service``.

The kernel's guards run first: an authenticated actor, the plugin enabled for the
actor's branch (the scope is narrowed to those branches) and the permission each handler
names in ``opt``. A handler that names none is refused, not opened.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from bankcrm.web.pagination import Page, check_limit
from bankcrm_service import access, services

READ = {"permission": access.TICKET_READ}
WRITE = {"permission": access.TICKET_WRITE}

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

    @delete("/{ticket_id:int}", opt=WRITE, status_code=204)
    async def remove(self, ticket_id: FromPath[int]) -> None:
        """Delete the ticket; its content stays in the audit trail."""
        await services.delete_ticket(ticket_id)


ROUTES: list[Any] = [TicketController]
