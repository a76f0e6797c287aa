"""Campaigns (营销项目/方案/活动): what they are for, whom they target, on which channel,
with which staff, budget and schedule; their cost lines (营销成本).

Every function runs under the caller's bound scope: row-level security shows and changes
only rows of the branches in that scope, so another branch's campaign is absent (404).
Each change commits together with its audit row (and its event).
"""

from __future__ import annotations

import secrets
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from bankcrm import audit, db
from bankcrm.context import require_scope
from bankcrm.jobs import emit_event
from bankcrm.web.pagination import Page, decode_cursor, encode_cursor
from bankcrm.web.problems import Problem, invalid, not_found
from bankcrm_customer_archive import services as archive
from bankcrm_marketing import events
from bankcrm_marketing.common import (
    CAMPAIGN,
    CAMPAIGN_STAFF,
    COST,
    ENTITY_CAMPAIGN,
    ENTITY_COST,
    ChannelName,
    Id,
    LongText,
    Money,
    Title,
    blank_checked,
    branch_for_new,
    check_staff,
    check_visible_staff,
    money_checked,
)

STALE_AFTER_DAYS = 90
"""A draft campaign not changed for this many days is closed by the daily job, and so is
an active one this many days past its end."""

COLUMNS = (
    "id, branch_id, title, body, status, created_at, updated_at, objective, plan, channel,"
    " message, product_code, criteria, score_model, score_min, owner, budget, starts_on,"
    " ends_on, control_share, seed, frequency_cap, frequency_days, targeted_at, launched_at"
)
Status = Literal["draft", "active", "closed"]
Share = Annotated[float, Meta(ge=0.0, le=0.9)]
"""The share of the targeted customers held out as the control group."""
Seed = Annotated[int, Meta(ge=0, le=2**31 - 1)]
Cap = Annotated[int, Meta(ge=1, le=100)]
Days = Annotated[int, Meta(ge=1, le=365)]
ProductCode = Annotated[str, Meta(min_length=1, max_length=32)]
ModelName = Annotated[str, Meta(min_length=1, max_length=64)]
Score = Annotated[float, Meta(ge=0.0, le=1.0)]
Category = Literal["channel", "material", "staff", "gift", "other"]


class CampaignIn(Struct, forbid_unknown_fields=True, kw_only=True):
    title: Title
    body: LongText = ""
    objective: LongText = ""
    """What the campaign is for (营销目标)."""
    plan: LongText = ""
    """How it will be done (营销方案)."""
    channel: ChannelName = "sms"
    """How members are contacted: sms, email, wechat (a message), call or visit (work for
    the staff)."""
    message: LongText = ""
    """The message sent, or the script of a call or visit."""
    product_code: ProductCode | None = None
    criteria: archive.CustomerFilter = msgspec.field(default_factory=archive.CustomerFilter)
    """The target: the archive's customer filter (``segment_id`` for a saved segment)."""
    score_model: ModelName | None = None
    """Keep only customers whose score by this model (``marketing_scores`` hook) is at
    least ``score_min``."""
    score_min: Score | None = None
    owner_id: Id | None = None
    """The member of staff responsible (default: you)."""
    budget: Money = Decimal("0")
    starts_on: date | None = None
    ends_on: date | None = None
    control_share: Share = 0.1
    seed: Seed | None = None
    """Seed of the control group draw (default: random, kept with the campaign)."""
    frequency_cap: Cap = 3
    """At most this many contacts of a customer, by every campaign ..."""
    frequency_days: Days = 30
    """... within this many days."""
    branch_id: Id | None = None
    """Default: your home branch. It must be one of the branches in your scope."""


class CampaignPatch(Struct, forbid_unknown_fields=True, kw_only=True):
    title: Title | UnsetType = UNSET
    body: LongText | UnsetType = UNSET
    objective: LongText | UnsetType = UNSET
    plan: LongText | UnsetType = UNSET
    channel: ChannelName | UnsetType = UNSET
    message: LongText | UnsetType = UNSET
    product_code: ProductCode | UnsetType | None = UNSET
    criteria: archive.CustomerFilter | UnsetType = UNSET
    score_model: ModelName | UnsetType | None = UNSET
    score_min: Score | UnsetType | None = UNSET
    owner_id: Id | UnsetType | None = UNSET
    budget: Money | UnsetType = UNSET
    starts_on: date | UnsetType | None = UNSET
    ends_on: date | UnsetType | None = UNSET
    control_share: Share | UnsetType = UNSET
    seed: Seed | UnsetType = UNSET
    frequency_cap: Cap | UnsetType = UNSET
    frequency_days: Days | UnsetType = UNSET
    status: Literal["closed"] | UnsetType = UNSET
    """Only closing is a change of status here; a campaign is launched by ``launch``."""


class CampaignOut(Struct):
    id: int
    branch_id: int
    title: str
    body: str
    status: str
    objective: str
    plan: str
    channel: str
    message: str
    product_code: str | None
    criteria: dict[str, Any]
    score_model: str | None
    score_min: float | None
    owner_id: int | None
    budget: Decimal
    starts_on: date | None
    ends_on: date | None
    control_share: float
    seed: int
    frequency_cap: int
    frequency_days: int
    targeted_at: datetime | None
    launched_at: datetime | None
    created_at: datetime
    updated_at: datetime


class StaffIn(Struct, forbid_unknown_fields=True, kw_only=True):
    user_id: Id
    role: Annotated[str, Meta(max_length=64)] = ""


class StaffOut(Struct):
    id: int
    campaign_id: int
    user_id: int
    role: str


class CostIn(Struct, forbid_unknown_fields=True, kw_only=True):
    category: Category
    amount: Money
    spent_on: date
    note: LongText = ""


class CostOut(Struct):
    id: int
    campaign_id: int
    branch_id: int
    category: str
    amount: Decimal
    spent_on: date
    note: str
    created_at: datetime


def out(row: Any) -> CampaignOut:
    values = dict(row)
    values["criteria"] = msgspec.json.decode(values["criteria"] or "{}")
    values["owner_id"] = values.pop("owner")
    values["control_share"] = round(float(values["control_share"]), 6)
    if values["score_min"] is not None:
        values["score_min"] = round(float(values["score_min"]), 6)
    return CampaignOut(**values)


def criteria_of(row: Any) -> archive.CustomerFilter:
    return msgspec.json.decode(row["criteria"] or "{}", type=archive.CustomerFilter)


def _audited(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, Decimal | date) else v) for k, v in values.items()}


def _checked_criteria(criteria: archive.CustomerFilter) -> str:
    problems = archive.Problems()
    archive.filter_from_json(problems, msgspec.to_builtins(criteria), "body.criteria")
    problems.raise_if_any()
    return msgspec.json.encode(criteria).decode()


def _check_dates(starts_on: date | None, ends_on: date | None) -> None:
    if starts_on is not None and ends_on is not None and ends_on < starts_on:
        raise invalid("body.ends_on", "must not be before starts_on")


def _check_score(model: str | None, minimum: float | None) -> None:
    if (model is None) != (minimum is None):
        raise invalid("body.score_min", "score_model and score_min go together")


async def list_campaigns(
    *,
    status: str | None = None,
    branch_id: int | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[CampaignOut]:
    """The campaigns of the branches in scope, newest first, in keyset pages."""
    after = decode_cursor(cursor, (int,))
    rows = await db.fetch(
        f"SELECT {COLUMNS} FROM {CAMPAIGN}"
        " WHERE ($1::text IS NULL OR status = $1)"
        " AND ($2::bigint IS NULL OR branch_id = $2)"
        " AND ($3::bigint IS NULL OR id < $3)"
        " ORDER BY id DESC LIMIT $4",
        status,
        branch_id,
        after[0] if after else None,
        limit + 1,
    )
    items = [out(row) for row in rows[:limit]]
    more = len(rows) > limit
    return Page(items, encode_cursor([items[-1].id]) if more else None)


async def campaign_row(campaign_id: int, *, lock: bool = False) -> Any:
    row = await db.fetchrow(
        f"SELECT {COLUMNS} FROM {CAMPAIGN} WHERE id = $1{' FOR UPDATE' if lock else ''}",
        campaign_id,
    )
    if row is None:
        raise not_found(f"campaign {campaign_id}")
    return row


async def get_campaign(campaign_id: int) -> CampaignOut:
    return out(await campaign_row(campaign_id))


async def create_campaign(data: CampaignIn) -> CampaignOut:
    branch_id = branch_for_new(data.branch_id)
    title = blank_checked(data.title, "body.title")
    criteria = _checked_criteria(data.criteria)
    money_checked(data.budget, "body.budget")
    _check_dates(data.starts_on, data.ends_on)
    _check_score(data.score_model, data.score_min)
    owner = data.owner_id if data.owner_id is not None else require_scope().user_id
    await check_staff(owner, branch_id, "body.owner_id")
    seed = data.seed if data.seed is not None else secrets.randbelow(2**31 - 1)
    async with db.transaction():
        row = await db.fetchrow(
            f"INSERT INTO {CAMPAIGN} (branch_id, title, body, status, objective, plan, channel,"
            " message, product_code, criteria, score_model, score_min, owner, budget,"
            " starts_on, ends_on, control_share, seed, frequency_cap, frequency_days,"
            " created_at, updated_at) VALUES ($1, $2, $3, 'draft', $4, $5, $6, $7, $8, $9,"
            " $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, now(), now())"
            f" RETURNING {COLUMNS}",
            branch_id,
            title,
            data.body,
            data.objective,
            data.plan,
            data.channel,
            data.message,
            data.product_code,
            criteria,
            data.score_model,
            data.score_min,
            owner,
            data.budget,
            data.starts_on,
            data.ends_on,
            data.control_share,
            seed,
            data.frequency_cap,
            data.frequency_days,
        )
        assert row is not None
        created = out(row)
        await audit.record(
            audit.Action.CREATE,
            ENTITY_CAMPAIGN,
            created.id,
            branch_id=branch_id,
            after=_audited(msgspec.structs.asdict(created)),
        )
        await emit_event(
            events.CAMPAIGN_CREATED, {"campaign_id": created.id, "branch_id": branch_id}
        )
    return created


TARGETING_FIELDS = frozenset({"criteria", "score_model", "score_min", "control_share", "seed"})
"""Fields that decide who is targeted: fixed once the campaign is launched."""


async def update_campaign(campaign_id: int, data: CampaignPatch) -> CampaignOut:
    values = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not UNSET}
    if "title" in values:
        values["title"] = blank_checked(values["title"], "body.title")
    if "criteria" in values:
        values["criteria"] = _checked_criteria(values["criteria"])
    if "owner_id" in values:
        values["owner"] = values.pop("owner_id")
    if "budget" in values:
        money_checked(values["budget"], "body.budget")
    async with db.transaction():
        before = await campaign_row(campaign_id, lock=True)
        if before["status"] == "closed":
            raise Problem(409, "the campaign is closed", code="campaign_closed")
        if before["status"] == "active" and TARGETING_FIELDS & values.keys():
            field_name = sorted(TARGETING_FIELDS & values.keys())[0]
            raise Problem(
                409,
                f"body.{field_name}: the campaign is launched; its target is fixed",
                code="campaign_launched",
            )
        merged = {**dict(before), **values}
        _check_dates(merged["starts_on"], merged["ends_on"])
        _check_score(merged["score_model"], merged["score_min"])
        if "owner" in values:
            await check_staff(values["owner"], before["branch_id"], "body.owner_id")
        changed = {k: v for k, v in values.items() if before[k] != v}
        if not changed:
            return out(before)
        assignments = ", ".join(f"{column} = ${i}" for i, column in enumerate(changed, 2))
        row = await db.fetchrow(
            f"UPDATE {CAMPAIGN} SET {assignments}, updated_at = now() WHERE id = $1"
            f" RETURNING {COLUMNS}",
            campaign_id,
            *changed.values(),
        )
        assert row is not None
        await audit.record(
            audit.Action.UPDATE,
            ENTITY_CAMPAIGN,
            campaign_id,
            branch_id=row["branch_id"],
            before=_audited({k: before[k] for k in changed}),
            after=_audited(changed),
        )
        if changed.get("status") == "closed":
            await emit_event(
                events.CAMPAIGN_CLOSED,
                {"campaign_id": campaign_id, "branch_id": row["branch_id"]},
            )
    return out(row)


async def delete_campaign(campaign_id: int) -> None:
    """Delete a draft campaign (its targeting goes with it); a launched one is closed."""
    async with db.transaction():
        row = await campaign_row(campaign_id, lock=True)
        if row["status"] not in ("draft", "open"):
            raise Problem(
                409, "only a draft campaign can be deleted; close it", code="campaign_launched"
            )
        await db.fetch("DELETE FROM marketing_member WHERE campaign = $1", campaign_id)
        await db.fetch(f"DELETE FROM {CAMPAIGN_STAFF} WHERE campaign = $1", campaign_id)
        if await db.fetchval(f"SELECT count(*) FROM {COST} WHERE campaign = $1", campaign_id):
            raise Problem(
                409, "the campaign has cost lines; close it instead", code="campaign_has_costs"
            )
        await db.fetch(f"DELETE FROM {CAMPAIGN} WHERE id = $1", campaign_id)
        await audit.record(
            audit.Action.DELETE,
            ENTITY_CAMPAIGN,
            campaign_id,
            branch_id=row["branch_id"],
            before=_audited({"title": row["title"], "status": row["status"]}),
        )


async def close_stale(days: int = STALE_AFTER_DAYS) -> int:
    """Close the campaigns in scope left as drafts for ``days`` days, or active ``days``
    past their end; how many. Safe to run twice: a closed row is no longer selected."""
    async with db.transaction():
        rows = await db.fetch(
            f"UPDATE {CAMPAIGN} SET status = 'closed', updated_at = now()"
            " WHERE (status IN ('draft', 'open')"
            "        AND updated_at < now() - make_interval(days => $1))"
            " OR (status = 'active' AND ends_on < current_date - $1)"
            " RETURNING id, branch_id",
            days,
        )
        for row in rows:
            await audit.record(
                audit.Action.UPDATE,
                ENTITY_CAMPAIGN,
                row["id"],
                branch_id=row["branch_id"],
                after={"status": "closed"},
                reason=f"unchanged or ended for {days} days",
            )
            await emit_event(
                events.CAMPAIGN_CLOSED,
                {"campaign_id": row["id"], "branch_id": row["branch_id"]},
            )
    return len(rows)


# --- staff (营销人员) -------------------------------------------------------------------------


async def list_staff(campaign_id: int) -> list[StaffOut]:
    await campaign_row(campaign_id)
    rows = await db.fetch(
        f'SELECT id, campaign, "user", role FROM {CAMPAIGN_STAFF} WHERE campaign = $1 ORDER BY id',
        campaign_id,
    )
    return [StaffOut(r["id"], r["campaign"], r["user"], r["role"]) for r in rows]


async def get_staff(campaign_id: int, staff_id: int) -> StaffOut:
    row = await db.fetchrow(
        f'SELECT id, campaign, "user", role FROM {CAMPAIGN_STAFF} WHERE id = $1 AND campaign = $2',
        staff_id,
        campaign_id,
    )
    if row is None:
        raise not_found(f"staff assignment {staff_id}")
    return StaffOut(row["id"], row["campaign"], row["user"], row["role"])


async def add_staff(campaign_id: int, data: StaffIn) -> StaffOut:
    async with db.transaction():
        campaign = await campaign_row(campaign_id, lock=True)
        await check_visible_staff(data.user_id, campaign["branch_id"], "body.user_id")
        existing = await db.fetchval(
            f'SELECT id FROM {CAMPAIGN_STAFF} WHERE campaign = $1 AND "user" = $2',
            campaign_id,
            data.user_id,
        )
        if existing is not None:
            raise Problem(
                409, "body.user_id: already assigned to the campaign", code="staff_assigned"
            )
        staff_id = await db.fetchval(
            f'INSERT INTO {CAMPAIGN_STAFF} (branch_id, campaign, "user", role)'
            " VALUES ($1, $2, $3, $4) RETURNING id",
            campaign["branch_id"],
            campaign_id,
            data.user_id,
            data.role,
        )
        await audit.record(
            audit.Action.UPDATE,
            ENTITY_CAMPAIGN,
            campaign_id,
            branch_id=campaign["branch_id"],
            after={"staff_added": data.user_id, "role": data.role},
        )
    return StaffOut(staff_id, campaign_id, data.user_id, data.role)


async def remove_staff(campaign_id: int, staff_id: int) -> None:
    async with db.transaction():
        campaign = await campaign_row(campaign_id, lock=True)
        user_id = await db.fetchval(
            f'DELETE FROM {CAMPAIGN_STAFF} WHERE id = $1 AND campaign = $2 RETURNING "user"',
            staff_id,
            campaign_id,
        )
        if user_id is None:
            raise not_found(f"staff assignment {staff_id}")
        await audit.record(
            audit.Action.UPDATE,
            ENTITY_CAMPAIGN,
            campaign_id,
            branch_id=campaign["branch_id"],
            after={"staff_removed": user_id},
        )


# --- costs (营销成本) -------------------------------------------------------------------------

COST_COLUMNS = "id, campaign, branch_id, category, amount, spent_on, note, created_at"


def cost_out(row: Any) -> CostOut:
    values = dict(row)
    values["campaign_id"] = values.pop("campaign")
    return CostOut(**values)


async def list_costs(campaign_id: int) -> list[CostOut]:
    await campaign_row(campaign_id)
    rows = await db.fetch(
        f"SELECT {COST_COLUMNS} FROM {COST} WHERE campaign = $1 ORDER BY spent_on, id",
        campaign_id,
    )
    return [cost_out(r) for r in rows]


async def get_cost(campaign_id: int, cost_id: int) -> CostOut:
    row = await db.fetchrow(
        f"SELECT {COST_COLUMNS} FROM {COST} WHERE id = $1 AND campaign = $2",
        cost_id,
        campaign_id,
    )
    if row is None:
        raise not_found(f"cost line {cost_id}")
    return cost_out(row)


async def add_cost(campaign_id: int, data: CostIn) -> CostOut:
    money_checked(data.amount, "body.amount")
    async with db.transaction():
        campaign = await campaign_row(campaign_id, lock=True)
        if campaign["status"] == "closed":
            raise Problem(409, "the campaign is closed", code="campaign_closed")
        row = await db.fetchrow(
            f"INSERT INTO {COST} (branch_id, campaign, category, amount, spent_on, note,"
            f" created_at) VALUES ($1, $2, $3, $4, $5, $6, now()) RETURNING {COST_COLUMNS}",
            campaign["branch_id"],
            campaign_id,
            data.category,
            data.amount,
            data.spent_on,
            data.note,
        )
        assert row is not None
        await audit.record(
            audit.Action.CREATE,
            ENTITY_COST,
            row["id"],
            branch_id=campaign["branch_id"],
            after=_audited({"campaign": campaign_id, "category": data.category,
                            "amount": data.amount, "spent_on": data.spent_on}),
        )  # fmt: skip
    return cost_out(row)


async def delete_cost(campaign_id: int, cost_id: int) -> None:
    async with db.transaction():
        row = await db.fetchrow(
            f"DELETE FROM {COST} WHERE id = $1 AND campaign = $2 RETURNING {COST_COLUMNS}",
            cost_id,
            campaign_id,
        )
        if row is None:
            raise not_found(f"cost line {cost_id}")
        await audit.record(
            audit.Action.DELETE,
            ENTITY_COST,
            cost_id,
            branch_id=row["branch_id"],
            before=_audited({"category": row["category"], "amount": row["amount"]}),
        )
