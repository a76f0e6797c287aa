"""The notification centre's REST API: the caller's own notifications only."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.params import FromPath, FromQuery, QueryParameter

from bankcrm.context import require_scope
from bankcrm.notifications import service
from bankcrm.web.guards import require_actor, require_permission
from bankcrm.web.pagination import Page, check_limit, decode_cursor, encode_cursor
from bankcrm.web.problems import Problem, invalid, not_found

OWN = {"permission": "authenticated"}


class NotificationOut(msgspec.Struct):
    id: uuid.UUID
    template: str
    category: str
    title: str
    body: str
    source: dict[str, Any]
    """``{"plugin", "table", "id", "branch_id"}``: the record to link to."""
    created_at: datetime
    read_at: datetime | None


class Badge(msgspec.Struct):
    unread: int


class ReadAll(msgspec.Struct):
    marked: int


def _user_id() -> int:
    scope = require_scope()
    if scope.user_id is None:
        raise Problem(403, "only staff users have a notification centre", code="forbidden")
    return scope.user_id


def _out(row: service.NotificationRow) -> NotificationOut:
    return NotificationOut(
        row.id,
        row.template,
        row.category,
        row.title,
        row.body,
        {
            "plugin": row.source_plugin,
            "table": row.source_table,
            "id": row.source_id,
            "branch_id": row.branch_id,
        },
        row.created_at,
        row.read_at,
    )


def _after(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    values = decode_cursor(cursor, (str, str))
    if values is None:
        return None
    try:
        return datetime.fromisoformat(values[0]), uuid.UUID(values[1])
    except ValueError as exc:
        raise invalid("query.cursor", "not a cursor returned by this API") from exc


@get("/notifications", opt=OWN, tags=["notifications"])
async def list_notifications(
    unread: FromQuery[bool] = False,
    language: Annotated[str, QueryParameter(pattern="^(zh-CN|en)$")] = "zh-CN",
    limit: FromQuery[int] = 50,
    cursor: Annotated[str | None, QueryParameter(max_length=512)] = None,
) -> Page[NotificationOut]:
    """Your notifications, newest first, in zh-CN or English."""
    check_limit(limit)
    rows = await service.list_for(
        _user_id(), language=language, unread_only=unread, limit=limit + 1, after=_after(cursor)
    )
    items = [_out(r) for r in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor([last.created_at.isoformat(), str(last.id)])
    return Page(items, next_cursor)


@get("/notifications/badge", opt=OWN, tags=["notifications"])
async def badge(request: Request[Any, Any, Any]) -> Response[Badge | None]:
    """The unread count, cheap enough to poll: send the ETag back as ``If-None-Match`` and
    an unchanged count answers 304 with no body."""
    count = await service.unread_count(_user_id())
    etag = f'W/"{count}"'
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if request.headers.get("if-none-match") == etag:
        return Response(None, status_code=304, headers=headers)
    return Response(Badge(count), headers=headers)


@post(
    "/notifications/{notification_id:uuid}/read", opt=OWN, status_code=204, tags=["notifications"]
)
async def read_one(notification_id: FromPath[uuid.UUID]) -> None:
    if not await service.mark_read(_user_id(), notification_id):
        raise not_found(f"notification {notification_id}")


@post("/notifications/read-all", opt=OWN, status_code=200, tags=["notifications"])
async def read_all() -> ReadAll:
    return ReadAll(await service.mark_all_read(_user_id()))


def notification_router() -> Router:
    return Router(
        path="/api/v1",
        route_handlers=[list_notifications, badge, read_one, read_all],
        guards=[require_actor, require_permission],
    )
