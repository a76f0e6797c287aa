"""The domain logic: what the routes and the job call, and (with :mod:`.events`) what
other plugins may import.

Every function runs under the caller's bound scope. Row-level security shows and changes
only rows of the branches in that scope, so another branch's row is absent (404), never
forbidden. Each change commits together with its audit row and its event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from bankcrm import audit, db
from bankcrm.context import require_scope
from bankcrm.jobs import emit_event
from bankcrm.web.pagination import Page, decode_cursor, encode_cursor
from bankcrm.web.problems import invalid, not_found
from bankcrm_marketing import events

TABLE = "marketing_campaign"
ENTITY = "marketing.campaign"
"""The audit trail's name for these rows."""
COLUMNS = "id, branch_id, title, body, status, created_at, updated_at"
STALE_AFTER_DAYS = 90
"""An open campaign not changed for this many days is closed by the daily job."""

Id = Annotated[int, Meta(ge=1, le=2**31 - 1)]
Title = Annotated[str, Meta(min_length=1, max_length=200)]
Body = Annotated[str, Meta(max_length=4000)]
Status = Literal["open", "closed"]


class CampaignIn(Struct, forbid_unknown_fields=True, kw_only=True):
    title: Title
    body: Body = ""
    branch_id: Id | None = None
    """Default: your home branch. It must be one of the branches in your scope."""


class CampaignPatch(Struct, forbid_unknown_fields=True, kw_only=True):
    title: Title | UnsetType = UNSET
    body: Body | UnsetType = UNSET
    status: Status | UnsetType = UNSET


class CampaignOut(Struct):
    id: int
    branch_id: int
    title: str
    body: str
    status: str
    created_at: datetime
    updated_at: datetime


def _out(row: Any) -> CampaignOut:
    return CampaignOut(**dict(row))


def _audited(row: Any) -> dict[str, Any]:
    return {"title": row["title"], "body": row["body"], "status": row["status"]}


def _title(value: str) -> str:
    title = value.strip()
    if not title:
        raise invalid("body.title", "must not be blank")
    return title


def _branch_for_new(branch_id: int | None) -> int:
    scope = require_scope()
    chosen = branch_id if branch_id is not None else scope.home_branch_id
    if chosen is None:
        raise invalid("body.branch_id", "required: you have no home branch")
    if chosen not in scope.branch_ids:
        raise invalid("body.branch_id", "the branch is outside your scope")
    return chosen


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
        f"SELECT {COLUMNS} FROM {TABLE}"
        " WHERE ($1::text IS NULL OR status = $1)"
        " AND ($2::bigint IS NULL OR branch_id = $2)"
        " AND ($3::bigint IS NULL OR id < $3)"
        " ORDER BY id DESC LIMIT $4",
        status,
        branch_id,
        after[0] if after else None,
        limit + 1,
    )
    items = [_out(row) for row in rows[:limit]]
    more = len(rows) > limit
    return Page(items, encode_cursor([items[-1].id]) if more else None)


async def get_campaign(campaign_id: int) -> CampaignOut:
    row = await db.fetchrow(
        f"SELECT {COLUMNS} FROM {TABLE} WHERE id = $1",
        campaign_id,
    )
    if row is None:
        raise not_found(f"campaign {campaign_id}")
    return _out(row)


async def create_campaign(data: CampaignIn) -> CampaignOut:
    branch_id = _branch_for_new(data.branch_id)
    title = _title(data.title)
    async with db.transaction():
        row = await db.fetchrow(
            f"INSERT INTO {TABLE} (branch_id, title, body, status, created_at, updated_at)"
            f" VALUES ($1, $2, $3, 'open', now(), now()) RETURNING {COLUMNS}",
            branch_id,
            title,
            data.body,
        )
        assert row is not None
        await audit.record(
            audit.Action.CREATE, ENTITY, row["id"], branch_id=branch_id, after=_audited(row)
        )
        await emit_event(
            events.CAMPAIGN_CREATED,
            {"campaign_id": row["id"], "branch_id": branch_id},
        )
    return _out(row)


async def update_campaign(
    campaign_id: int,
    data: CampaignPatch,
) -> CampaignOut:
    values = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not UNSET}
    if "title" in values:
        values["title"] = _title(values["title"])
    async with db.transaction():
        before = await db.fetchrow(
            f"SELECT {COLUMNS} FROM {TABLE} WHERE id = $1 FOR UPDATE",
            campaign_id,
        )
        if before is None:
            raise not_found(f"campaign {campaign_id}")
        changed = {k: v for k, v in values.items() if before[k] != v}
        if not changed:
            return _out(before)
        assignments = ", ".join(f"{column} = ${i}" for i, column in enumerate(changed, 2))
        row = await db.fetchrow(
            f"UPDATE {TABLE} SET {assignments}, updated_at = now() WHERE id = $1"
            f" RETURNING {COLUMNS}",
            campaign_id,
            *changed.values(),
        )
        assert row is not None
        await audit.record(
            audit.Action.UPDATE,
            ENTITY,
            campaign_id,
            branch_id=row["branch_id"],
            before={k: before[k] for k in changed},
            after=changed,
        )
        if changed.get("status") == "closed":
            await emit_event(
                events.CAMPAIGN_CLOSED,
                {"campaign_id": campaign_id, "branch_id": row["branch_id"]},
            )
    return _out(row)


async def delete_campaign(campaign_id: int) -> None:
    async with db.transaction():
        row = await db.fetchrow(
            f"DELETE FROM {TABLE} WHERE id = $1 RETURNING {COLUMNS}",
            campaign_id,
        )
        if row is None:
            raise not_found(f"campaign {campaign_id}")
        await audit.record(
            audit.Action.DELETE,
            ENTITY,
            campaign_id,
            branch_id=row["branch_id"],
            before=_audited(row),
        )


async def close_stale(days: int = STALE_AFTER_DAYS) -> int:
    """Close the open campaigns in scope unchanged for ``days`` days; how many.

    Safe to run twice: a closed row is no longer selected."""
    async with db.transaction():
        rows = await db.fetch(
            f"UPDATE {TABLE} SET status = 'closed', updated_at = now()"
            " WHERE status = 'open' AND updated_at < now() - make_interval(days => $1)"
            " RETURNING id, branch_id",
            days,
        )
        for row in rows:
            await audit.record(
                audit.Action.UPDATE,
                ENTITY,
                row["id"],
                branch_id=row["branch_id"],
                before={"status": "open"},
                after={"status": "closed"},
                reason=f"unchanged for {days} days",
            )
            await emit_event(
                events.CAMPAIGN_CLOSED,
                {"campaign_id": row["id"], "branch_id": row["branch_id"]},
            )
    return len(rows)
