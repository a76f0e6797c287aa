"""The domain logic: what the routes and the job call, and (with :mod:`.events`) what
other plugins may import.

Every function runs under the caller's bound scope. Row-level security shows and changes
only rows of the branches in that scope, so another branch's row is absent (404), never
forbidden. Each change commits together with its audit row and its event.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from bankcrm import audit, db
from bankcrm.context import require_scope
from bankcrm.jobs import emit_event
from bankcrm.web.pagination import Page, decode_cursor, encode_cursor
from bankcrm.web.problems import invalid, not_found
from bankcrm_reporting import events
from bankcrm_reporting.dashboard import PERIODS as PERIODS
from bankcrm_reporting.dashboard import DashboardOut as DashboardOut
from bankcrm_reporting.dashboard import bank_today as bank_today
from bankcrm_reporting.dashboard import dashboard as dashboard
from bankcrm_reporting.figures import compute as compute
from bankcrm_reporting.registry import Kpi as Kpi
from bankcrm_reporting.registry import registered as registered
from bankcrm_reporting.snapshots import take as take_snapshots  # noqa: F401
from bankcrm_reporting.sources import DataSource as DataSource
from bankcrm_reporting.sources import Dimension as Dimension
from bankcrm_reporting.sources import Filter as Filter
from bankcrm_reporting.sources import Measure as Measure
from bankcrm_reporting.sources import ReportQuery as ReportQuery
from bankcrm_reporting.sources import sql_source as sql_source

TABLE = "reporting_target"
ENTITY = "reporting.target"
"""The audit trail's name for these rows."""
COLUMNS = (
    "id, branch_id, metric, period, value, threshold, alerted_at, title, body, status,"
    " created_at, updated_at"
)
STALE_AFTER_DAYS = 90
"""An open target not changed for this many days is closed by the daily job."""

Id = Annotated[int, Meta(ge=1, le=2**31 - 1)]
Title = Annotated[str, Meta(min_length=1, max_length=200)]
Body = Annotated[str, Meta(max_length=4000)]
Status = Literal["open", "closed"]
Metric = Annotated[str, Meta(min_length=1, max_length=100)]
Period = Annotated[str, Meta(pattern=r"^20[0-9]{2}-(0[1-9]|1[0-2])$")]
Amount = Decimal
MAX_TARGET = Decimal(10) ** 15


class TargetIn(Struct, forbid_unknown_fields=True, kw_only=True):
    metric: Metric
    """A KPI a running plugin registers (``GET /api/v1/reporting/kpis``)."""
    period: Period
    """The month, ``YYYY-MM``."""
    value: Amount
    title: Title
    threshold: Amount | None = None
    """Alert when the KPI is worse than this (see the plugin's README)."""
    body: Body = ""
    branch_id: Id | None = None
    """Default: your home branch. It must be one of the branches in your scope."""


class TargetPatch(Struct, forbid_unknown_fields=True, kw_only=True):
    value: Amount | UnsetType = UNSET
    threshold: Amount | UnsetType | None = UNSET
    title: Title | UnsetType = UNSET
    body: Body | UnsetType = UNSET
    status: Status | UnsetType = UNSET


class TargetOut(Struct):
    id: int
    branch_id: int
    metric: str
    period: str
    value: Decimal
    threshold: Decimal | None
    alerted_at: datetime | None
    title: str
    body: str
    status: str
    created_at: datetime
    updated_at: datetime


def _out(row: Any) -> TargetOut:
    return TargetOut(**dict(row))


def _audited(row: Any) -> dict[str, Any]:
    threshold = None if row["threshold"] is None else str(row["threshold"])
    return {"metric": row["metric"], "period": row["period"], "value": str(row["value"]),
            "threshold": threshold, "title": row["title"], "status": row["status"]}  # fmt: skip


def _check_threshold(threshold: Decimal | None) -> None:
    if threshold is not None and not (threshold.is_finite() and abs(threshold) < MAX_TARGET):
        raise invalid("/body/threshold", "a number below 10^15 in magnitude, or null")


def _title(value: str) -> str:
    title = value.strip()
    if not title:
        raise invalid("/body/title", "must not be blank")
    return title


def _branch_for_new(branch_id: int | None) -> int:
    scope = require_scope()
    chosen = branch_id if branch_id is not None else scope.home_branch_id
    if chosen is None:
        raise invalid("/body/branch_id", "required: you have no home branch")
    if chosen not in scope.branch_ids:
        raise invalid("/body/branch_id", "the branch is outside your scope")
    return chosen


async def list_targets(
    *,
    status: str | None = None,
    branch_id: int | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[TargetOut]:
    """The targets of the branches in scope, newest first, in keyset pages."""
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


async def get_target(target_id: int) -> TargetOut:
    row = await db.fetchrow(
        f"SELECT {COLUMNS} FROM {TABLE} WHERE id = $1",
        target_id,
    )
    if row is None:
        raise not_found(f"target {target_id}")
    return _out(row)


async def create_target(data: TargetIn) -> TargetOut:
    from bankcrm_reporting.kpis import catalogue

    if not Decimal(0) <= data.value < MAX_TARGET or not data.value.is_finite():
        raise invalid("/body/value", "a target from 0 to 10^15")
    if data.metric not in catalogue():
        raise invalid("/body/metric", f"no KPI {data.metric!r} (see GET /api/v1/reporting/kpis)")
    _check_threshold(data.threshold)
    branch_id = _branch_for_new(data.branch_id)
    title = _title(data.title)
    async with db.transaction():
        row = await db.fetchrow(
            f"INSERT INTO {TABLE} (branch_id, metric, period, value, threshold, title, body,"
            f" status, created_at, updated_at)"
            f" VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', now(), now()) RETURNING {COLUMNS}",
            branch_id, data.metric, data.period, data.value, data.threshold, title, data.body,
        )  # fmt: skip
        assert row is not None
        await audit.record(
            audit.Action.CREATE, ENTITY, row["id"], branch_id=branch_id, after=_audited(row)
        )
        await emit_event(
            events.TARGET_CREATED,
            {"target_id": row["id"], "branch_id": branch_id},
        )
    return _out(row)


async def update_target(
    target_id: int,
    data: TargetPatch,
) -> TargetOut:
    values = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not UNSET}
    if "title" in values:
        values["title"] = _title(values["title"])
    if "value" in values and not (
        values["value"].is_finite() and Decimal(0) <= values["value"] < MAX_TARGET
    ):
        raise invalid("/body/value", "a target from 0 to 10^15")
    _check_threshold(values.get("threshold"))
    async with db.transaction():
        before = await db.fetchrow(
            f"SELECT {COLUMNS} FROM {TABLE} WHERE id = $1 FOR UPDATE",
            target_id,
        )
        if before is None:
            raise not_found(f"target {target_id}")
        changed = {k: v for k, v in values.items() if before[k] != v}
        if not changed:
            return _out(before)
        assignments = ", ".join(f"{column} = ${i}" for i, column in enumerate(changed, 2))
        if "threshold" in changed:
            assignments += ", alerted_at = NULL"  # a new line may alert again
        row = await db.fetchrow(
            f"UPDATE {TABLE} SET {assignments}, updated_at = now() WHERE id = $1"
            f" RETURNING {COLUMNS}",
            target_id,
            *changed.values(),
        )
        assert row is not None
        await audit.record(
            audit.Action.UPDATE,
            ENTITY,
            target_id,
            branch_id=row["branch_id"],
            before={k: before[k] for k in changed},
            after=changed,
        )
        if changed.get("status") == "closed":
            await emit_event(
                events.TARGET_CLOSED,
                {"target_id": target_id, "branch_id": row["branch_id"]},
            )
    return _out(row)


async def delete_target(target_id: int) -> None:
    async with db.transaction():
        row = await db.fetchrow(
            f"DELETE FROM {TABLE} WHERE id = $1 RETURNING {COLUMNS}",
            target_id,
        )
        if row is None:
            raise not_found(f"target {target_id}")
        await audit.record(
            audit.Action.DELETE,
            ENTITY,
            target_id,
            branch_id=row["branch_id"],
            before=_audited(row),
        )


async def close_stale(days: int = STALE_AFTER_DAYS) -> int:
    """Close the open targets in scope unchanged for ``days`` days; how many.

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
                events.TARGET_CLOSED,
                {"target_id": row["id"], "branch_id": row["branch_id"]},
            )
    return len(rows)
