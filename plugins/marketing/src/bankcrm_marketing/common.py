"""What the plugin's modules share: table names, value types and small checks."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from msgspec import Meta

from bankcrm import db, staff
from bankcrm.context import require_scope
from bankcrm.web.problems import invalid

PLUGIN = "marketing"
CAMPAIGN = "marketing_campaign"
CAMPAIGN_STAFF = "marketing_campaign_staff"
MEMBER = "marketing_member"
CONTACT = "marketing_contact"
COST = "marketing_cost"
DO_NOT_CONTACT = "marketing_do_not_contact"

ENTITY_CAMPAIGN = "marketing.campaign"
"""The audit trail's names for the rows."""
ENTITY_COST = "marketing.cost"
ENTITY_CONTACT = "marketing.contact"
ENTITY_DO_NOT_CONTACT = "marketing.do_not_contact"

Id = Annotated[int, Meta(ge=1, le=2**31 - 1)]
Title = Annotated[str, Meta(min_length=1, max_length=200)]
LongText = Annotated[str, Meta(max_length=4000)]
Money = Decimal
"""An amount in CNY: checked by :func:`money_checked` (0 to 10^15, two decimals)."""
ChannelName = Literal["sms", "email", "wechat", "call", "visit"]
CHANNELS: tuple[str, ...] = ("sms", "email", "wechat", "call", "visit")
MESSAGE_CHANNELS = frozenset({"sms", "email", "wechat"})
"""Channels that send a message to the customer (through a gateway)."""
STAFF_CHANNELS = frozenset({"call", "visit"})
"""Channels that are work for a member of staff (a call, a visit at the branch)."""
DNC_ALL = "all"


def branch_for_new(branch_id: int | None) -> int:
    scope = require_scope()
    chosen = branch_id if branch_id is not None else scope.home_branch_id
    if chosen is None:
        raise invalid("body.branch_id", "required: you have no home branch")
    if chosen not in scope.branch_ids:
        raise invalid("body.branch_id", "the branch is outside your scope")
    return chosen


async def check_staff(user_id: int | None, branch_id: int, field_name: str) -> None:
    """A person named on a row must work in a branch covering the row's branch."""
    if user_id is None:
        return
    problem = await staff.reference_problem(user_id, branch_id)
    if problem is not None:
        raise invalid(field_name, problem)


async def check_visible_staff(user_id: int, branch_id: int, field_name: str) -> None:
    """Staff picked by id: someone who may work on the row's branch and whom the caller
    sees whole (every branch they belong to is in the caller's scope), as the kernel's
    user routes show people."""
    await check_staff(user_id, branch_id, field_name)
    rows = await db.fetch('SELECT branch FROM bankcrm_membership WHERE "user" = $1', user_id)
    if any(r["branch"] not in require_scope().branch_ids for r in rows):
        raise invalid(field_name, "the user belongs to branches outside your scope")


def blank_checked(value: str, field_name: str) -> str:
    text = value.strip()
    if not text:
        raise invalid(field_name, "must not be blank")
    return text


def money_checked(value: Decimal, field_name: str) -> Decimal:
    if not value.is_finite() or value < 0 or value >= 10**15:
        raise invalid(field_name, "must be an amount from 0 to 10^15")
    if value != value.quantize(Decimal("0.01")):
        raise invalid(field_name, "at most two decimals")
    return value
