"""Sales plans and targets (销售计划): per branch, team or person, per month, quarter or
year, for all products or one product category; amount and count. Attainment is computed
from the opportunities won in the period and shown against the time elapsed.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated, Literal

from msgspec import Meta, Struct

import bankcrm.organisation.service as organisation
from bankcrm import audit, branches, db
from bankcrm.context import require_scope
from bankcrm.web.problems import Problem, not_found
from bankcrm_customer_archive import services as archive
from bankcrm_sales.analytics import ZONE
from bankcrm_sales.common import DecimalText, Problems, check_owner, money

PLAN = "sales_plan"
ENTITY = "sales.plan"
Id = Annotated[int, Meta(ge=1, le=2**31 - 1)]
COLUMNS = (
    "id, branch_id, team_id, owner, period, period_start, product_category, target_amount,"
    " target_count, created_by, created_at"
)


class PlanIn(Struct, forbid_unknown_fields=True, kw_only=True):
    branch_id: Id
    team_id: Id | None = None
    """A team's plan (its members' wins); give at most one of team_id and owner_id."""
    owner_id: Id | None = None
    """A person's plan (their wins)."""
    period: Literal["month", "quarter", "year"]
    period_start: date
    """The first day of the month, quarter or year."""
    product_category: Literal["", "deposit", "loan", "card", "wealth"] = ""
    """Blank: every product."""
    target_amount: DecimalText
    target_count: Annotated[int, Meta(ge=0, le=1_000_000)] = 0


class PlanOut(Struct):
    id: int
    branch_id: int
    team_id: int | None
    owner: int | None
    period: str
    period_start: date
    product_category: str
    target_amount: DecimalText
    target_count: int
    created_by: str
    created_at: datetime


class Attainment(Struct):
    plan: PlanOut
    period_end: date
    won_amount: Decimal
    won_count: int
    amount_attainment: float | None
    """won / target amount, in %."""
    count_attainment: float | None
    elapsed: float
    """Share of the period gone by today, in %."""
    on_track: bool
    """Amount attainment at least the elapsed share."""


def period_end(period: str, start: date) -> date:
    months = {"month": 1, "quarter": 3, "year": 12}[period]
    month = start.month - 1 + months
    return date(start.year + month // 12, month % 12 + 1, 1)


async def create_plan(data: PlanIn) -> PlanOut:
    problems = Problems()
    scope = require_scope()
    if data.branch_id not in scope.branch_ids:
        problems.add("body.branch_id", "the branch is outside your scope")
    if data.team_id is not None and data.owner_id is not None:
        problems.add("body.owner_id", "a plan is for a branch, a team or a person, not both")
    starts = {"month": range(1, 13), "quarter": (1, 4, 7, 10), "year": (1,)}[data.period]
    if data.period_start.day != 1 or data.period_start.month not in starts:
        problems.add("body.period_start", f"must be the first day of a {data.period}")
    amount = money(problems, "body.target_amount", data.target_amount)
    if data.owner_id is not None:
        await check_owner(problems, "body.owner_id", data.owner_id, data.branch_id)
    if data.team_id is not None and data.team_id not in {
        t.id for t in await organisation.list_teams(data.branch_id)
    }:
        problems.add("body.team_id", "no team of this branch has this id")
    problems.raise_if_any()
    async with db.transaction():
        row = await db.fetchrow(
            f"INSERT INTO {PLAN} (branch_id, team_id, owner, period, period_start,"
            " product_category, target_amount, target_count, created_by, created_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now())"
            " ON CONFLICT DO NOTHING RETURNING " + COLUMNS,
            data.branch_id, data.team_id, data.owner_id, data.period, data.period_start,
            data.product_category, amount, data.target_count, scope.actor,
        )  # fmt: skip
        if row is None:
            raise Problem(
                409, "a plan for this branch, team or person, period and category exists",
                code="duplicate",
            )  # fmt: skip
        await audit.record(
            audit.Action.CREATE, ENTITY, row["id"], branch_id=data.branch_id,
            after={k: row[k] for k in ("team_id", "owner", "period", "period_start",
                                        "product_category", "target_amount", "target_count")},
        )  # fmt: skip
    return PlanOut(**dict(row))


async def list_plans(period_start: date | None = None) -> list[PlanOut]:
    rows = await db.fetch(
        f"SELECT {COLUMNS} FROM {PLAN} WHERE ($1::date IS NULL OR period_start = $1)"
        " ORDER BY period_start DESC, id",
        period_start,
    )
    return [PlanOut(**dict(r)) for r in rows]


async def attainment(plan_id: int, today: date | None = None) -> Attainment:
    row = await db.fetchrow(f"SELECT {COLUMNS} FROM {PLAN} WHERE id = $1", plan_id)
    if row is None:
        raise not_found(f"plan {plan_id}")
    plan = PlanOut(**dict(row))
    end = period_end(plan.period, plan.period_start)
    since = datetime.combine(plan.period_start, time(), ZONE)
    until = datetime.combine(end, time(), ZONE)
    owners: list[int] | None = None
    if plan.owner is not None:
        owners = [plan.owner]
    elif plan.team_id is not None:
        members = await organisation.list_employees(team_id=plan.team_id, limit=1000)
        owners = [m.user_id for m in members if m.user_id is not None]
    tree = await branches.snapshot()
    products: list[int] | None = None
    if plan.product_category:
        products = [p.id for p in await archive.list_products(category=plan.product_category)]
    won = await db.fetchrow(
        "SELECT count(*) AS n, coalesce(sum(CASE WHEN $5::int[] IS NULL THEN o.amount ELSE"
        " (SELECT sum(p.amount) FROM sales_opportunity_product p WHERE p.opportunity = o.id"
        " AND p.product = ANY($5::int[])) END), 0) AS amount FROM sales_opportunity o"
        " WHERE o.status = 'won' AND o.closed_at >= $1 AND o.closed_at < $2"
        " AND o.branch_id = ANY($3::bigint[]) AND ($4::int[] IS NULL OR o.owner = ANY($4::int[]))"
        " AND ($5::int[] IS NULL OR EXISTS (SELECT 1 FROM sales_opportunity_product p"
        " WHERE p.opportunity = o.id AND p.product = ANY($5::int[])))",
        since, until, sorted(tree.subtree(plan.branch_id)), owners, products,
    )  # fmt: skip
    assert won is not None
    today = today or datetime.now(ZONE).date()
    span = (end - plan.period_start).days
    gone = min(max((today - plan.period_start).days, 0), span)
    elapsed = round(100.0 * gone / span, 1)
    amount_share = (
        round(float(won["amount"] / plan.target_amount) * 100, 1) if plan.target_amount else None
    )
    count_share = round(100.0 * won["n"] / plan.target_count, 1) if plan.target_count else None
    return Attainment(
        plan, end, Decimal(won["amount"]), won["n"], amount_share, count_share, elapsed,
        (amount_share or 0) >= elapsed,
    )  # fmt: skip
