"""What the sales modules share: names, the owner hand-over and small checks.

Leads, opportunities and activities are visible to their owner and to everyone above the
owner in the manager tree (an access rule, enforced by row-level security, which holds
for writes too). So a relationship manager cannot hand a lead to a colleague by writing
the owner column: the database refuses a row its writer could not see. Owners change only
where the assignment engine decided (new work, an idle item, a manager's reassignment);
those writes run as the engine's system actor for exactly that statement.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from msgspec import Meta

from bankcrm import assignment, db, staff
from bankcrm.assignment import WorkItem
from bankcrm.context import require_scope
from bankcrm.web.problems import FieldError, Problem, invalid

PLUGIN = "sales"
LEAD = "sales_lead"
OPPORTUNITY = "sales_opportunity"
OPPORTUNITY_PRODUCT = "sales_opportunity_product"
STAGE_CHANGE = "sales_stage_change"
ACTIVITY = "sales_activity"
INTAKE_KEY = "sales_intake_key"

LEAD_KIND = "sales.lead"
"""The assignment engine's kind of work, also the audit trail's entity name."""
OPPORTUNITY_KIND = "sales.opportunity"
ACTIVITY_ENTITY = "sales.activity"
ENGINE_ACTOR = "system:sales.assignment"

MAX_AMOUNT = Decimal("1e15")
DecimalText = Annotated[str, Meta(pattern=r"^-?[0-9]{1,18}(\.[0-9]{1,6})?$", max_length=26)]
"""An amount as a decimal string (``"1500000.00"``): exact, and described as such in the
API's schema (a bare ``Decimal`` is only a string there)."""


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Problems:
    """Field problems collected before anything is written, raised as one 422."""

    errors: list[FieldError] = field(default_factory=list)

    def add(self, field_name: str, message: str) -> None:
        self.errors.append(FieldError(field_name, message))

    def raise_if_any(self) -> None:
        if self.errors:
            first = self.errors[0]
            raise Problem(422, f"{first.field}: {first.message}", self.errors, "invalid")


def money(problems: Problems, field_name: str, value: Any) -> Decimal | None:
    """A non-negative amount with at most two decimals, or None with a problem noted."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        problems.add(field_name, "must be a number")
        return None
    if not amount.is_finite() or amount < 0 or amount >= MAX_AMOUNT:
        problems.add(field_name, "must be between 0 and 10^15")
        return None
    if amount != amount.quantize(Decimal("0.01")):
        problems.add(field_name, "at most two decimals")
        return None
    return amount


def branch_for_new(branch_id: int | None, field_name: str = "body.branch_id") -> int:
    scope = require_scope()
    chosen = branch_id if branch_id is not None else scope.home_branch_id
    if chosen is None:
        raise invalid(field_name, "required: you have no home branch")
    if chosen not in scope.branch_ids:
        raise invalid(field_name, "the branch is outside your scope")
    return chosen


def future(problems: Problems, field_name: str, value: datetime | None) -> None:
    if value is None:
        return
    if value.tzinfo is None:
        problems.add(field_name, "give a time zone (e.g. +08:00)")
    elif value <= utcnow():
        problems.add(field_name, "must be in the future")


async def check_owner(problems: Problems, field_name: str, user_id: int, branch_id: int) -> None:
    message = await staff.reference_problem(user_id, branch_id)
    if message is not None:
        problems.add(field_name, message)


@contextlib.asynccontextmanager
async def as_engine() -> AsyncIterator[None]:
    """Run the enclosed statements of the current transaction as the assignment engine.

    Only for writes that hand work to the owner the engine (or a manager through it)
    chose; the caller's actor is put back afterwards, so audit rows name the caller."""
    actor = require_scope().actor
    await db.fetch("SELECT set_config('bankcrm.actor', $1, true)", ENGINE_ACTOR)
    try:
        yield
    finally:
        await db.fetch("SELECT set_config('bankcrm.actor', $1, true)", actor)


async def assign_owner(
    kind: str, item_id: int, branch_id: int, attributes: dict[str, Any]
) -> assignment.Assigned:
    """The owner the kernel's engine gives new work to (by the branch's rules)."""
    assigned = await assignment.assign(WorkItem(kind, str(item_id), branch_id, attributes))
    if assigned.user_id is None:
        raise Problem(
            409,
            f"employee {assigned.employee_id} got this work but has no staff login;"
            " link the employee to a user or change the assignment rules",
            code="no_assignee",
        )
    return assigned


def work_attributes(
    product: str, amount: Decimal | None, channel: str, vip: bool = False
) -> dict[str, Any]:
    return {
        "product": product,
        "amount": float(amount or 0),
        "channel": channel,
        "vip": vip,
    }
