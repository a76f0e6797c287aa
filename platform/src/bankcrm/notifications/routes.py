"""The notification centre's REST API: the caller's own notifications and settings, and
for operators the deliveries of their branches (dead letters, sent again on request)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, Router, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from bankcrm.context import require_scope
from bankcrm.notifications import dead_letters, preferences, service
from bankcrm.notifications.tables import MANAGE_PERMISSION
from bankcrm.web.guards import require_actor, require_permission
from bankcrm.web.pagination import Page, check_limit, decode_cursor, encode_cursor
from bankcrm.web.problems import Problem, invalid, not_found

OWN = {"permission": "authenticated", "auth": "session"}
"""A notification centre is a staff user's own: API tokens are refused (403)."""
MANAGE = {"permission": MANAGE_PERMISSION}


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


# --- preferences and quiet hours ------------------------------------------------------------

Category = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
ChannelName = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Clock = Annotated[str, msgspec.Meta(max_length=5, examples=["22:00"])]


class PreferenceIn(msgspec.Struct, forbid_unknown_fields=True):
    category: Category
    channel: ChannelName
    enabled: bool
    template: Annotated[str, msgspec.Meta(max_length=128)] | None = None
    """A template of the category; absent or null: the whole category."""


class QuietHoursIn(msgspec.Struct, forbid_unknown_fields=True):
    start: Clock
    end: Clock
    """Before ``start`` for an overnight range (22:00 to 08:00)."""
    timezone: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] = (
        preferences.DEFAULT_TIMEZONE
    )


class PreferencesIn(msgspec.Struct, forbid_unknown_fields=True):
    preferences: Annotated[
        list[PreferenceIn], msgspec.Meta(max_length=preferences.MAX_PREFERENCES)
    ] = []
    quiet_hours: QuietHoursIn | None = None


class PreferenceOut(msgspec.Struct):
    category: str
    template: str | None
    channel: str
    enabled: bool


class QuietHoursOut(msgspec.Struct):
    start: str
    end: str
    timezone: str


class TemplateChoice(msgspec.Struct):
    template: str
    channels: list[str]
    mandatory: bool
    """In-app cannot be turned off."""
    urgent: bool
    """Not held by quiet hours."""


class CategoryChoice(msgspec.Struct):
    category: str
    templates: list[TemplateChoice]


class ChannelChoice(msgspec.Struct):
    name: str
    label_zh: str
    label_en: str


class PreferencesOut(msgspec.Struct):
    preferences: list[PreferenceOut]
    """Only the channels you turned off (or back on for one template); the rest are on."""
    quiet_hours: QuietHoursOut | None
    categories: list[CategoryChoice]
    """What can be chosen: categories, their templates and the channels they use."""
    channels: list[ChannelChoice]


async def _preferences_out(user_id: int) -> PreferencesOut:
    stored = await preferences.preferences_of(user_id)
    quiet = await preferences.quiet_hours_of(user_id)
    installed = service.channels()
    return PreferencesOut(
        [PreferenceOut(p.category, p.template or None, p.channel, p.enabled) for p in stored],
        None
        if quiet is None
        else QuietHoursOut(
            quiet.starts.strftime("%H:%M"), quiet.ends.strftime("%H:%M"), quiet.timezone
        ),
        [
            CategoryChoice(
                category,
                [
                    TemplateChoice(
                        t.key,
                        [c for c in t.channels if installed.get(c) is not None],
                        t.mandatory,
                        t.urgent,
                    )
                    for t in members
                ],
            )
            for category, members in service.catalogue().categories().items()
        ],
        [
            ChannelChoice(c.name, c.label_zh, c.label_en)
            for c in sorted(installed.channels.values(), key=lambda c: c.name)
        ],
    )


@get("/notifications/preferences", opt=OWN, tags=["notifications"])
async def get_preferences() -> PreferencesOut:
    """Your channel choices per category (or template) and your quiet hours."""
    return await _preferences_out(_user_id())


@put("/notifications/preferences", opt=OWN, status_code=200, tags=["notifications"])
async def put_preferences(data: JSONBody[PreferencesIn]) -> PreferencesOut:
    """Replace your channel choices and quiet hours (``quiet_hours: null``: none)."""
    user_id = _user_id()
    chosen = [
        preferences.ChannelPreference(p.category, p.template or "", p.channel, p.enabled)
        for p in data.preferences
    ]
    preferences.check_preferences(chosen, service.catalogue(), service.channels())
    quiet = None
    if data.quiet_hours is not None:
        given = data.quiet_hours
        starts = preferences.parse_clock(given.start, "body.quiet_hours.start")
        ends = preferences.parse_clock(given.end, "body.quiet_hours.end")
        if starts == ends:
            raise invalid("body.quiet_hours.end", "must differ from start")
        timezone = preferences.check_timezone(given.timezone, "body.quiet_hours.timezone")
        quiet = preferences.QuietPeriod(starts, ends, timezone)
    await preferences.replace_settings(user_id, chosen, quiet)
    return await _preferences_out(user_id)


# --- deliveries (operators) -------------------------------------------------------------------


class DeliveryOut(msgspec.Struct):
    id: int
    branch_id: int
    notification: str
    template: str
    recipient: str
    """The recipient's username."""
    channel: str
    status: str
    attempts: int
    reason: str
    """Why it failed, was dead-lettered or skipped (empty once sent)."""
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    retried_at: datetime | None
    retried_by: str


def _delivery_out(row: dead_letters.DeliveryRow) -> DeliveryOut:
    return DeliveryOut(**{f: getattr(row, f) for f in DeliveryOut.__struct_fields__})


@get("/notifications/deliveries", opt=MANAGE, tags=["notifications"])
async def list_deliveries(
    status: Annotated[
        str, QueryParameter(pattern="^(" + "|".join(dead_letters.STATUSES) + ")$")
    ] = "dead",
    limit: FromQuery[int] = 50,
    cursor: Annotated[str | None, QueryParameter(max_length=512)] = None,
) -> Page[DeliveryOut]:
    """Deliveries of your branches, newest first: by default the dead letters, each with
    the reason it failed."""
    check_limit(limit)
    before = decode_cursor(cursor, (int,))
    rows = await dead_letters.list_deliveries(status, limit + 1, before[0] if before else None)
    next_cursor = encode_cursor([rows[limit - 1].id]) if len(rows) > limit else None
    return Page([_delivery_out(r) for r in rows[:limit]], next_cursor)


@post(
    "/notifications/deliveries/{delivery_id:int}/retry",
    opt=MANAGE,
    status_code=200,
    tags=["notifications"],
)
async def retry_delivery(delivery_id: FromPath[int]) -> DeliveryOut:
    """Send a dead letter again (audited). Asking twice sends it once."""
    return _delivery_out(await dead_letters.retry(delivery_id))


def notification_router() -> Router:
    return Router(
        path="/api/v1",
        route_handlers=[
            list_notifications,
            badge,
            read_one,
            read_all,
            get_preferences,
            put_preferences,
            list_deliveries,
            retry_delivery,
        ],
        guards=[require_actor, require_permission],
    )
