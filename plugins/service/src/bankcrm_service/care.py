"""Care tasks (客户关怀) and visit plans (走访管理): issue 12 item 5.

A daily job (:func:`generate`) creates

* a **birthday** task for each individual customer whose birthday falls within the
  look-ahead, due :data:`BIRTHDAY_LEAD_DAYS` business days before it in the customer's
  branch calendar (so a birthday on a Monday is greeted on the Friday before, and a
  holiday moves the day further back);
* a **visit** task per customer of a visit plan's value tier once per plan period (a
  private-banking plan of one month: one visit a month), due on the period's first
  business day.

Maturity care is not generated: the customer archive's public facade
(``holding_facts``) carries no maturity date for holdings, and this plugin does not read
the archive's tables. A task of kind ``maturity`` can still be recorded once it does.

Each task carries an ``occasion_key`` (kind, customer, day) that is unique, and the job
inserts with ``ON CONFLICT DO NOTHING``: a second run, or a redelivered message, creates
nothing. Staff complete or skip a task with a result note; a finished task appears on the
customer's timeline. Everything runs under the bound scope (row-level security).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from msgspec import Meta, Struct

from bankcrm import audit, business_calendar, db
from bankcrm.business_calendar import BranchCalendar
from bankcrm.context import require_scope
from bankcrm.web.pagination import Page, decode_cursor, encode_cursor
from bankcrm.web.problems import FieldError, Problem, invalid, not_found
from bankcrm_customer_archive import services as archive

TASK = "service_care_task"
PLAN = "service_visit_plan"
ENTITY = "service.care_task"
PLAN_ENTITY = "service.visit_plan"
BIRTHDAY_LEAD_DAYS = 3
"""Business days before the birthday a greeting is due."""
LOOK_AHEAD_DAYS = 30
"""How far ahead the job looks for birthdays."""

Kind = Literal["birthday", "maturity", "visit"]
Status = Literal["open", "done", "skipped"]
Tier = Literal["private", "wealth", "affluent", "mass"]
KINDS = {"birthday": ("生日关怀", "Birthday"), "maturity": ("到期关怀", "Maturity"),
         "visit": ("客户走访", "Visit")}  # fmt: skip
STATUSES = {"open": "待处理", "done": "已完成", "skipped": "已跳过"}
COLUMNS = (
    "id, branch_id, customer, kind, occasion_on, due_on, visit_plan, assignee, status,"
    " result, done_by, done_at, created_at"
)


class CareTaskOut(Struct):
    id: int
    branch_id: int
    customer_id: int
    kind: str
    occasion_on: date
    due_on: date
    visit_plan_id: int | None
    assignee: int | None
    status: str
    result: str
    done_by: str | None
    done_at: datetime | None
    created_at: datetime


class CareResultIn(Struct, forbid_unknown_fields=True):
    result: Annotated[str, Meta(min_length=1, max_length=1000)]
    """What happened (回访结果), required for completing and skipping alike."""


class VisitPlanIn(Struct, forbid_unknown_fields=True, kw_only=True):
    name: Annotated[str, Meta(min_length=1, max_length=100)]
    value_tier: Tier
    every_months: Annotated[int, Meta(ge=1, le=12)] = 1
    branch_id: Annotated[int, Meta(ge=1, le=2**31 - 1)] | None = None
    active: bool = True


class VisitPlanOut(Struct):
    id: int
    branch_id: int
    name: str
    value_tier: str
    every_months: int
    assignee: int | None
    active: bool
    created_at: datetime


class GenerateResult(Struct):
    birthday: int
    visit: int


def _out(row: Any) -> CareTaskOut:
    values = dict(row)
    values["customer_id"] = values.pop("customer")
    values["visit_plan_id"] = values.pop("visit_plan")
    return CareTaskOut(**values)


def business_days_before(calendar: BranchCalendar, day: date, count: int) -> date:
    """The business day ``count`` business days before ``day`` (0: ``day`` itself if the
    branch is open, else the business day before it)."""
    current = day
    if count == 0:
        while calendar.intervals(current) is None:
            current -= timedelta(days=1)
        return current
    found = 0
    while found < count:
        current -= timedelta(days=1)
        if calendar.intervals(current) is not None:
            found += 1
    return current


def first_business_day_from(calendar: BranchCalendar, day: date) -> date:
    current = day
    while calendar.intervals(current) is None:
        current += timedelta(days=1)
    return current


def next_birthday(birth: date, today: date) -> date:
    for year in (today.year, today.year + 1):
        try:
            candidate = birth.replace(year=year)
        except ValueError:  # 29 February in a common year: greeted on 28 February
            candidate = date(year, 2, 28)
        if candidate >= today:
            return candidate
    raise AssertionError("unreachable")


def period_start(today: date, every_months: int) -> date:
    """The first day of the plan period containing ``today`` (periods from January)."""
    month = (today.month - 1) // every_months * every_months + 1
    return date(today.year, month, 1)


async def insert_task(
    branch_id: int, customer: int, kind: str, occasion: date, due: date,
    plan: int | None = None, assignee: int | None = None,
) -> bool:  # fmt: skip
    key = f"{kind}:{customer}:{occasion.isoformat()}"
    row_id = await db.fetchval(
        f"INSERT INTO {TASK} (branch_id, customer, kind, occasion_on, due_on, occasion_key,"
        " visit_plan, assignee, status, result, created_at) VALUES ($1, $2, $3, $4, $5, $6,"
        " $7, $8, 'open', '', now()) ON CONFLICT (occasion_key) DO NOTHING RETURNING id",
        branch_id, customer, kind, occasion, due, key, plan, assignee,
    )  # fmt: skip
    if row_id is None:
        return False
    await audit.record(
        audit.Action.CREATE, ENTITY, row_id, branch_id=branch_id,
        after={"kind": kind, "customer": customer, "due_on": due.isoformat()},
    )  # fmt: skip
    return True


async def generate(today: date | None = None) -> GenerateResult:
    """Create the birthday and visit tasks due for the customers in scope (idempotent)."""
    today = today or datetime.now(business_calendar.DEFAULT_ZONE).date()
    calendars: dict[int, BranchCalendar] = {}

    async def calendar(branch_id: int) -> BranchCalendar:
        if branch_id not in calendars:
            calendars[branch_id] = await business_calendar.calendar_for(branch_id)
        return calendars[branch_id]

    birthdays = visits = 0
    async with db.transaction():
        for facts in await archive.customer_facts():
            if facts.birth_date is None or facts.kind != "individual":
                continue
            birthday = next_birthday(facts.birth_date, today)
            if birthday > today + timedelta(days=LOOK_AHEAD_DAYS):
                continue
            due = business_days_before(
                await calendar(facts.branch_id), birthday, BIRTHDAY_LEAD_DAYS
            )
            if await insert_task(facts.branch_id, facts.customer_id, "birthday", birthday, due):
                birthdays += 1
        plans = await db.fetch(
            f"SELECT id, branch_id, value_tier, every_months, assignee FROM {PLAN}"
            " WHERE active ORDER BY id"
        )
        for plan in plans:
            start = period_start(today, plan["every_months"])
            cursor: str | None = None
            while True:
                page = await archive.search_customers(
                    archive.CustomerFilter(
                        branch_id=plan["branch_id"], value_tiers=[plan["value_tier"]]
                    ),
                    limit=200,
                    cursor=cursor,
                )
                for customer in page.items:
                    due = first_business_day_from(await calendar(customer.branch_id), start)
                    inserted = await insert_task(
                        customer.branch_id, customer.id, "visit", start, due,
                        plan["id"], plan["assignee"],
                    )  # fmt: skip
                    visits += inserted
                cursor = page.next_cursor
                if cursor is None:
                    break
    return GenerateResult(birthday=birthdays, visit=visits)


async def list_tasks(
    *,
    status: str | None = None,
    kind: str | None = None,
    customer_id: int | None = None,
    branch_id: int | None = None,
    due_before: date | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[CareTaskOut]:
    """Care tasks of the branches in scope, by due day then id, in keyset pages."""
    after = decode_cursor(cursor, (str, int))
    after_day = date.fromisoformat(after[0]) if after else None
    rows = await db.fetch(
        f"SELECT {COLUMNS} FROM {TASK}"
        " WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR kind = $2)"
        " AND ($3::bigint IS NULL OR customer = $3) AND ($4::bigint IS NULL OR branch_id = $4)"
        " AND ($5::date IS NULL OR due_on <= $5)"
        " AND ($6::date IS NULL OR (due_on, id) > ($6, $7::bigint))"
        " ORDER BY due_on, id LIMIT $8",
        status, kind, customer_id, branch_id, due_before, after_day,
        after[1] if after else None, limit + 1,
    )  # fmt: skip
    items = [_out(r) for r in rows[:limit]]
    more = len(rows) > limit
    last = items[-1] if items else None
    return Page(items, encode_cursor([last.due_on.isoformat(), last.id]) if more and last else None)


async def get_task(care_task_id: int) -> CareTaskOut:
    row = await db.fetchrow(f"SELECT {COLUMNS} FROM {TASK} WHERE id = $1", care_task_id)
    if row is None:
        raise not_found(f"care task {care_task_id}")
    return _out(row)


async def finish(care_task_id: int, status: Literal["done", "skipped"], result: str) -> CareTaskOut:
    """Complete or skip an open task with its result note (once: a finished task is 409)."""
    note = result.strip()
    if not note:
        raise invalid("/body/result", "required: what happened")
    async with db.transaction():
        before = await db.fetchrow(
            f"SELECT {COLUMNS} FROM {TASK} WHERE id = $1 FOR UPDATE", care_task_id
        )
        if before is None:
            raise not_found(f"care task {care_task_id}")
        if before["status"] != "open":
            raise Problem(
                409,
                f"the care task is already {before['status']}",
                [FieldError("/body/result", "only an open task can be completed or skipped")],
                "bad_transition",
            )
        row = await db.fetchrow(
            f"UPDATE {TASK} SET status = $2, result = $3, done_by = $4, done_at = now()"
            f" WHERE id = $1 RETURNING {COLUMNS}",
            care_task_id, status, note, require_scope().actor,
        )  # fmt: skip
        assert row is not None
        await audit.record(
            audit.Action.UPDATE, ENTITY, care_task_id, branch_id=row["branch_id"],
            before={"status": "open"}, after={"status": status, "result": note},
        )  # fmt: skip
    return _out(row)


async def customer_done_tasks(customer_id: int, before: datetime, limit: int) -> list[CareTaskOut]:
    rows = await db.fetch(
        f"SELECT {COLUMNS} FROM {TASK} WHERE customer = $1 AND status <> 'open'"
        " AND done_at < $2 ORDER BY done_at DESC LIMIT $3",
        customer_id, before, limit,
    )  # fmt: skip
    return [_out(r) for r in rows]


def _plan_out(row: Any) -> VisitPlanOut:
    return VisitPlanOut(**dict(row))


PLAN_COLUMNS = "id, branch_id, name, value_tier, every_months, assignee, active, created_at"


async def list_plans() -> list[VisitPlanOut]:
    rows = await db.fetch(f"SELECT {PLAN_COLUMNS} FROM {PLAN} ORDER BY branch_id, id")
    return [_plan_out(r) for r in rows]


async def get_plan(visit_plan_id: int) -> VisitPlanOut:
    row = await db.fetchrow(f"SELECT {PLAN_COLUMNS} FROM {PLAN} WHERE id = $1", visit_plan_id)
    if row is None:
        raise not_found(f"visit plan {visit_plan_id}")
    return _plan_out(row)


async def create_plan(data: VisitPlanIn) -> VisitPlanOut:
    scope = require_scope()
    branch_id = data.branch_id if data.branch_id is not None else scope.home_branch_id
    if branch_id is None:
        raise invalid("/body/branch_id", "required: you have no home branch")
    if branch_id not in scope.branch_ids:
        raise invalid("/body/branch_id", "the branch is outside your scope")
    async with db.transaction():
        row = await db.fetchrow(
            f"INSERT INTO {PLAN} (branch_id, name, value_tier, every_months, active,"
            f" created_at, updated_at) VALUES ($1, $2, $3, $4, $5, now(), now())"
            f" RETURNING {PLAN_COLUMNS}",
            branch_id, data.name.strip(), data.value_tier, data.every_months, data.active,
        )  # fmt: skip
        assert row is not None
        await audit.record(
            audit.Action.CREATE, PLAN_ENTITY, row["id"], branch_id=branch_id,
            after={"name": row["name"], "value_tier": data.value_tier},
        )  # fmt: skip
    return _plan_out(row)
