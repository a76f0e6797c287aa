"""The kernel's own REST API: login and sessions, branches and enablement, plugins,
API clients and the audit trail."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from litestar import Request, Response, Router, delete, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from bankcrm import audit, auth, branches, business_calendar, db, oauth
from bankcrm.auth import DEFAULT_OVERLAP_MINUTES, MAX_OVERLAP_MINUTES
from bankcrm.context import bind_scope, require_scope
from bankcrm.credentials import Credential, assert_may_manage_credential, credential_guard
from bankcrm.kernel_plugin import CALENDAR_MANAGE
from bankcrm.web.guards import require_actor, require_permission
from bankcrm.web.pagination import Page, check_limit, decode_cursor, encode_cursor
from bankcrm.web.problems import FieldError, Problem, invalid, not_found

SESSION_COOKIE = "id"  # the name piccolo-admin reads: one session for API and admin


class LoginBody(msgspec.Struct):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=150)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    otp: Annotated[str, msgspec.Meta(max_length=10)] | None = None


class LoginAnswer(msgspec.Struct):
    user_id: int
    username: str
    expires_at: datetime
    password_change_required: bool = False
    """An administrator set the password: change it (``POST /auth/password``) before
    anything else is allowed."""


def _client_ip(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


@post(
    "/auth/login",
    opt={"public": True, "problems": (401, 429)},
    status_code=200,
    tags=["auth"],
)
async def login(
    request: Request[Any, Any, Any], data: JSONBody[LoginBody]
) -> Response[LoginAnswer]:
    """Log in with username, password and (if enrolled) a TOTP code; sets the session."""
    from bankcrm.webapp import current_kernel

    try:
        result = await auth.login(data.username, data.password, data.otp, _client_ip(request))
    except auth.AuthError as exc:
        raise exc.problem() from exc
    response = Response(
        LoginAnswer(
            result.user_id, data.username, result.expires_at, result.password_change_required
        )
    )
    response.set_cookie(
        SESSION_COOKIE,
        result.session_token,
        httponly=True,
        samesite="lax",
        secure=current_kernel().settings.secure_cookies,
        path="/",
        expires=int((result.expires_at - datetime.now(result.expires_at.tzinfo)).total_seconds()),
    )
    return response


@post("/auth/logout", opt={"permission": "authenticated"}, status_code=204, tags=["auth"])
async def logout(request: Request[Any, Any, Any]) -> Response[None]:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await auth.logout(token)
    response: Response[None] = Response(None, status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


class Me(msgspec.Struct):
    actor: str
    username: str
    branch_ids: list[int]
    permissions: list[str]
    superuser: bool
    password_change_required: bool = False


@get("/auth/me", opt={"permission": "authenticated"}, tags=["auth"])
async def me() -> Me:
    scope = require_scope()
    required = scope.user_id is not None and bool(
        await db.fetchval(
            'SELECT must_change_password FROM bankcrm_user_security WHERE "user" = $1',
            scope.user_id,
        )
    )
    return Me(
        scope.actor,
        scope.username,
        sorted(scope.branch_ids),
        sorted(scope.permissions),
        scope.is_superuser,
        required,
    )


class PasswordBody(msgspec.Struct):
    current: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    new: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]


OWN_CREDENTIAL = {"permission": "authenticated", "credential": "self"}
"""Self-service on the caller's own credential: declared, nothing to exceed."""


@post(
    "/auth/password",
    opt={**OWN_CREDENTIAL, "auth": "session", "problems": (429,)},
    status_code=204,
    tags=["auth"],
)
async def change_password(data: JSONBody[PasswordBody]) -> None:
    scope = require_scope()
    if scope.user_id is None:
        raise Problem(403, "API clients have no password", code="forbidden")
    try:
        await auth.change_password(scope.user_id, data.current, data.new)
    except (auth.PasswordRefused, auth.TooManyFailures) as exc:
        raise auth.refusal_problem(exc) from exc


class MfaEnrolment(msgspec.Struct):
    provisioning_uri: str


@post(
    "/auth/mfa/enrol",
    opt={**OWN_CREDENTIAL, "auth": "session"},
    status_code=200,
    tags=["auth"],
)
async def mfa_enrol() -> MfaEnrolment:
    """Start TOTP enrolment; confirm with a code to activate it."""
    scope = require_scope()
    if scope.user_id is None:
        raise Problem(403, "API clients cannot enrol MFA", code="forbidden")
    return MfaEnrolment(await auth.start_mfa_enrolment(scope.user_id, scope.username))


class MfaConfirm(msgspec.Struct):
    code: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{6}$")]


@post(
    "/auth/mfa/confirm",
    opt={**OWN_CREDENTIAL, "auth": "session"},
    status_code=204,
    tags=["auth"],
)
async def mfa_confirm(data: JSONBody[MfaConfirm]) -> None:
    scope = require_scope()
    if scope.user_id is None or not await auth.confirm_mfa(scope.user_id, data.code):
        raise invalid("body.code", "the code does not match; check the device clock")


# --- plugins and branches -----------------------------------------------------------------


@get("/plugins", opt={"permission": "authenticated"}, tags=["plugins"])
async def list_plugins() -> list[dict[str, Any]]:
    """Installed plugins: version, status (active / disabled / error with reason), hooks."""
    from bankcrm.webapp import current_kernel

    tree = await branches.snapshot()
    scope = require_scope()
    answer = []
    for record in current_kernel().registry.records.values():
        item = record.as_dict()
        item["enabled_branch_ids"] = sorted(tree.enabled_branches(record.name) & scope.branch_ids)
        answer.append(item)
    return answer


class BranchOut(msgspec.Struct):
    id: int
    code: str
    name: str
    name_en: str
    parent_id: int | None
    level: int
    enabled_plugins: list[str]


def _branch_out(tree: branches.TreeSnapshot, node: branches.BranchNode) -> BranchOut:
    from bankcrm.webapp import current_kernel

    plugins = current_kernel().registry.order
    enabled = [p for p in plugins if tree.plugin_enabled(node.id, p)]
    return BranchOut(
        node.id, node.code, node.name, node.name_en, node.parent_id, node.level, enabled
    )


@get("/branches", opt={"permission": "authenticated"}, tags=["branches"])
async def list_branches() -> list[BranchOut]:
    """The branches in your scope, with the plugins enabled for each."""
    tree = await branches.snapshot()
    scope = require_scope()
    return [
        _branch_out(tree, n)
        for n in sorted(tree.nodes.values(), key=lambda n: n.path)
        if n.id in scope.branch_ids
    ]


@get("/branches/{branch_id:int}", opt={"permission": "authenticated"}, tags=["branches"])
async def get_branch(branch_id: FromPath[int]) -> BranchOut:
    """One branch of your scope, with the plugins enabled for it."""
    tree = await branches.snapshot()
    node = tree.nodes.get(branch_id)
    if node is None or branch_id not in require_scope().branch_ids:
        raise not_found(f"branch {branch_id}")
    return _branch_out(tree, node)


class BranchIn(msgspec.Struct):
    code: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    parent_id: int
    name_en: Annotated[str, msgspec.Meta(max_length=200)] = ""


@post("/branches", opt={"permission": "bankcrm.branch.manage"}, tags=["branches"])
async def create_branch(data: JSONBody[BranchIn]) -> BranchOut:
    scope = require_scope()
    if data.parent_id not in scope.branch_ids:
        raise invalid("body.parent_id", "the parent branch is outside your scope")
    try:
        async with db.transaction():
            node = await branches.create_branch(data.code, data.name, data.name_en, data.parent_id)
            await audit.record(
                audit.Action.CREATE,
                "bankcrm.branch",
                node.id,
                branch_id=data.parent_id,
                after=msgspec.to_builtins(data),
            )
    except branches.BranchError as exc:
        raise invalid(f"body.{exc.field}", str(exc)) from exc
    return BranchOut(node.id, node.code, node.name, node.name_en, node.parent_id, node.level, [])


class EnablementIn(msgspec.Struct):
    enabled: bool


@put(
    "/branches/{branch_id:int}/plugins/{plugin:str}",
    opt={"permission": "bankcrm.plugin.manage"},
    tags=["branches"],
)
async def set_enablement(
    branch_id: FromPath[int], plugin: FromPath[str], data: JSONBody[EnablementIn]
) -> dict[str, Any]:
    """Enable or disable a plugin for a branch and its sub-branches."""
    from bankcrm.webapp import current_kernel

    scope = require_scope()
    if branch_id not in scope.branch_ids:
        raise not_found(f"branch {branch_id}")
    requires = {r.name: r.requires for r in current_kernel().registry.active()}
    try:
        async with db.transaction():
            await branches.set_plugin_enabled(
                branch_id, plugin, data.enabled, requires=requires, changed_by=scope.actor
            )
            await audit.record(
                audit.Action.UPDATE,
                "bankcrm.plugin_enablement",
                f"{branch_id}:{plugin}",
                branch_id=branch_id,
                after={"enabled": data.enabled},
            )
    except branches.EnablementError as exc:
        raise Problem(409, str(exc), [FieldError("path.plugin", str(exc))], "enablement") from exc
    return {"branch_id": branch_id, "plugin": plugin, "enabled": data.enabled}


def _settings_type(plugin: str) -> type:
    from bankcrm.webapp import current_kernel

    for name, settings_type in current_kernel().registry.call_each("register_settings"):
        if name == plugin and settings_type is not None:
            return settings_type
    raise not_found(f"settings of plugin {plugin!r}")


@get(
    "/branches/{branch_id:int}/plugins/{plugin:str}/settings",
    opt={"permission": "authenticated"},
    tags=["branches"],
)
async def get_plugin_settings(branch_id: FromPath[int], plugin: FromPath[str]) -> dict[str, Any]:
    """A plugin's effective settings for a branch (inherited from the nearest ancestor)."""
    if branch_id not in require_scope().branch_ids:
        raise not_found(f"branch {branch_id}")
    settings: Any = await branches.plugin_settings(plugin, branch_id, _settings_type(plugin))
    return msgspec.to_builtins(settings)


@put(
    "/branches/{branch_id:int}/plugins/{plugin:str}/settings",
    opt={"permission": "bankcrm.plugin.manage"},
    tags=["branches"],
)
async def put_plugin_settings(
    branch_id: FromPath[int], plugin: FromPath[str], data: JSONBody[dict[str, Any]]
) -> dict[str, Any]:
    """Replace a plugin's settings for a branch and its sub-branches (validated)."""
    scope = require_scope()
    if branch_id not in scope.branch_ids:
        raise not_found(f"branch {branch_id}")
    settings_type = _settings_type(plugin)
    try:
        settings: Any = msgspec.convert(data, settings_type)
    except msgspec.ValidationError as exc:
        raise invalid("body", str(exc)) from exc
    stored: dict[str, Any] = msgspec.to_builtins(settings)
    async with db.transaction():
        await branches.store_plugin_settings(branch_id, plugin, stored, scope.actor)
        await audit.record(
            audit.Action.UPDATE,
            "bankcrm.plugin_settings",
            f"{branch_id}:{plugin}",
            branch_id=branch_id,
            after=stored,
        )
    return stored


class KpiOut(msgspec.Struct):
    name: str
    plugin: str
    title: str
    title_en: str
    unit: str
    value: float


@get("/kpis", opt={"permission": "authenticated"}, tags=["kpis"])
async def list_kpis() -> list[KpiOut]:
    """Every live KPI that plugins enabled for you contribute, over your branches."""
    from bankcrm.webapp import current_kernel

    tree = await branches.snapshot()
    scope = require_scope()
    answer = []
    for plugin, specs in current_kernel().registry.call_each("register_metrics"):
        visible = scope.narrowed(tree.enabled_branches(plugin))
        if not visible.branch_ids:
            continue
        with bind_scope(visible):
            for spec in specs or []:
                if spec.compute is not None:
                    value = await spec.compute()
                    answer.append(
                        KpiOut(
                            spec.name, plugin, spec.title, spec.title_en, spec.unit, float(value)
                        )
                    )
    return answer


# --- API clients --------------------------------------------------------------------------


class ApiClientIn(msgspec.Struct):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    branch_id: int
    permissions: list[Annotated[str, msgspec.Meta(max_length=128)]]
    expires_at: datetime | None = None


class ApiClientOut(msgspec.Struct):
    id: int
    name: str
    branch_id: int
    permissions: list[str]
    created_at: datetime
    rotated_at: datetime | None
    rotated_by: str
    previous_token_valid_until: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None
    token: str | None = None
    """Only in the answer to create and rotate: store it, it is not shown again."""


def _client_out(row: Any, token: str | None = None) -> ApiClientOut:
    return ApiClientOut(
        row["id"],
        row["name"],
        row["branch"],
        list(row["permissions"]),
        row["created_at"],
        row["rotated_at"],
        row["rotated_by"],
        row["previous_valid_until"],
        row["expires_at"],
        row["revoked_at"],
        token,
    )


async def _client_in_scope(client_id: int) -> Any:
    row = await db.fetchrow("SELECT * FROM bankcrm_api_client WHERE id = $1", client_id)
    if row is None or row["branch"] not in require_scope().branch_ids:
        raise not_found(f"API client {client_id}")
    return row


@get("/api-clients", opt={"permission": "bankcrm.api_client.manage"}, tags=["api-clients"])
async def list_api_clients() -> list[ApiClientOut]:
    scope = require_scope()
    rows = await db.fetch(
        "SELECT * FROM bankcrm_api_client WHERE branch = ANY($1::bigint[]) ORDER BY id",
        sorted(scope.branch_ids),
    )
    return [_client_out(r) for r in rows]


API_CLIENT_ROUTE = {"permission": "bankcrm.api_client.manage", "credential": "api_client"}


@post("/api-clients", opt=API_CLIENT_ROUTE, tags=["api-clients"])
async def create_api_client(data: JSONBody[ApiClientIn]) -> ApiClientOut:
    """Create a client bound to a branch; it can never hold more than its creator."""
    scope = require_scope()
    if data.branch_id not in scope.branch_ids:
        raise invalid("body.branch_id", "the branch is outside your scope")
    extra = [p for p in data.permissions if not scope.has(p)]
    if extra:
        raise invalid("body.permissions", f"you cannot grant what you lack: {', '.join(extra)}")
    assert_may_manage_credential(
        scope, Credential("api_client", None, data.branch_id, frozenset(data.permissions))
    )
    async with db.transaction():
        issued = await auth.create_api_client(
            data.name, data.branch_id, sorted(set(data.permissions)), scope.actor, data.expires_at
        )
        await audit.record(
            audit.Action.CREATE,
            "bankcrm.api_client",
            issued.client_id,
            branch_id=data.branch_id,
            after={"name": data.name, "permissions": data.permissions},
        )
    row = await _client_in_scope(issued.client_id)
    return _client_out(row, issued.token)


class RotationIn(msgspec.Struct):
    overlap_minutes: Annotated[int, msgspec.Meta(ge=0, le=MAX_OVERLAP_MINUTES)] = (
        DEFAULT_OVERLAP_MINUTES
    )
    """How long the old token keeps working, so the integration can switch without an
    outage; 0 cuts it off at once (a leaked token)."""


@post(
    "/api-clients/{client_id:int}/rotate",
    opt=API_CLIENT_ROUTE,
    tags=["api-clients"],
    status_code=200,
)
async def rotate_api_client(
    client_id: FromPath[int], data: JSONBody[RotationIn | None] = None
) -> ApiClientOut:
    """A new token for the client (shown once). Only someone who could have granted all
    the client holds may rotate it; the old token works for ``overlap_minutes`` more."""
    overlap = (data or RotationIn()).overlap_minutes
    row = await _client_in_scope(client_id)
    scope = require_scope()
    async with db.transaction():
        issued = await auth.rotate_api_client(client_id, scope.actor, overlap)
        if issued is None:
            raise Problem(409, "the client is revoked; create a new one", code="revoked")
        # No switch-over means the secret leaked: the access tokens it bought go with it.
        ended = await oauth.revoke_all(client_id) if overlap == 0 else 0
        await audit.record(
            audit.Action.UPDATE,
            "bankcrm.api_client",
            client_id,
            branch_id=row["branch"],
            after={"rotated": True, "overlap_minutes": overlap, "access_tokens_ended": ended},
        )
    return _client_out(await _client_in_scope(client_id), issued.token)


@delete(
    "/api-clients/{client_id:int}",
    opt=API_CLIENT_ROUTE,
    tags=["api-clients"],
    status_code=204,
)
async def revoke_api_client(client_id: FromPath[int]) -> None:
    row = await _client_in_scope(client_id)
    async with db.transaction():
        await auth.revoke_api_client(client_id)
        await audit.record(
            audit.Action.DELETE,
            "bankcrm.api_client",
            client_id,
            branch_id=row["branch"],
            after={"revoked": True},
        )


# --- business calendar -------------------------------------------------------------------


class CalendarDayOut(msgspec.Struct):
    day: date
    open: bool
    opens: time | None
    closes: time | None
    national: str | None
    """``holiday`` or ``workday`` (an adjusted working day, 调休) when the nation says so."""
    override: bool


class HoursIn(msgspec.Struct):
    weekday: Annotated[int, msgspec.Meta(ge=0, le=6)]
    opens: time
    closes: time


class BranchHoursIn(msgspec.Struct):
    hours: Annotated[list[HoursIn], msgspec.Meta(max_length=7)]
    timezone: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] = "Asia/Shanghai"


class OverrideIn(msgspec.Struct):
    closed: bool = True
    opens: time | None = None
    closes: time | None = None
    reason: Annotated[str, msgspec.Meta(max_length=200)] = ""


def _branch_in_scope(branch_id: int) -> int:
    if branch_id not in require_scope().branch_ids:
        raise not_found(f"branch {branch_id}")
    return branch_id


@get(
    "/calendar/{branch_id:int}/{year:int}/{month:int}",
    opt={"permission": "authenticated"},
    tags=["calendar"],
)
async def calendar_month(
    branch_id: FromPath[int], year: FromPath[int], month: FromPath[int]
) -> list[CalendarDayOut]:
    """The branch's days of a month: open or not, hours, national holiday or 调休 day."""
    _branch_in_scope(branch_id)
    if not 1 <= month <= 12:
        raise invalid("path.month", "must be 1 to 12")
    if not 1990 <= year <= 2200:
        raise invalid("path.year", "must be between 1990 and 2200")
    calendar = await business_calendar.calendar_for(branch_id)
    return [CalendarDayOut(**d) for d in business_calendar.month_days(calendar, year, month)]


@put(
    "/calendar/{branch_id:int}/hours",
    opt={"permission": CALENDAR_MANAGE},
    tags=["calendar"],
    status_code=200,
)
async def set_branch_hours(branch_id: FromPath[int], data: JSONBody[BranchHoursIn]) -> None:
    """Replace the branch's weekly opening hours (an empty list: inherit the parent's)."""
    _branch_in_scope(branch_id)
    try:
        ZoneInfo(data.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise invalid("body.timezone", f"unknown time zone {data.timezone!r}") from exc
    seen = set()
    for i, row in enumerate(data.hours):
        if row.opens >= row.closes:
            raise invalid(f"body.hours[{i}].closes", "must be after opens")
        if row.weekday in seen:
            raise invalid(f"body.hours[{i}].weekday", "given twice")
        seen.add(row.weekday)
    async with db.transaction():
        before = await db.fetch(
            "DELETE FROM bankcrm_branch_hours WHERE branch = $1 RETURNING weekday, opens, closes",
            branch_id,
        )
        for row in data.hours:
            await db.fetch(
                "INSERT INTO bankcrm_branch_hours (branch, weekday, opens, closes, timezone)"
                " VALUES ($1, $2, $3, $4, $5)",
                branch_id, row.weekday, row.opens, row.closes, data.timezone,
            )  # fmt: skip
        await audit.record(
            audit.Action.UPDATE,
            "bankcrm.branch_hours",
            str(branch_id),
            branch_id=branch_id,
            before={"hours": [[r[0], str(r[1]), str(r[2])] for r in before]},
            after={"hours": [[h.weekday, str(h.opens), str(h.closes)] for h in data.hours],
                   "timezone": data.timezone},
        )  # fmt: skip
    business_calendar.invalidate()


@put(
    "/calendar/{branch_id:int}/overrides/{day:date}",
    opt={"permission": CALENDAR_MANAGE},
    tags=["calendar"],
    status_code=200,
)
async def set_calendar_override(
    branch_id: FromPath[int], day: FromPath[date], data: JSONBody[OverrideIn]
) -> None:
    """Close the branch on ``day``, or open it with special hours."""
    _branch_in_scope(branch_id)
    if not data.closed and (data.opens is None or data.closes is None or data.opens >= data.closes):
        raise invalid("body.closes", "an open day needs opens before closes")
    async with db.transaction():
        await db.fetch(
            "INSERT INTO bankcrm_branch_calendar_override (branch, day, closed, opens, closes,"
            " reason) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (branch, day) DO UPDATE"
            " SET closed = $3, opens = $4, closes = $5, reason = $6",
            branch_id, day, data.closed, None if data.closed else data.opens,
            None if data.closed else data.closes, data.reason,
        )  # fmt: skip
        await audit.record(
            audit.Action.UPDATE,
            "bankcrm.calendar_override",
            f"{branch_id}:{day}",
            branch_id=branch_id,
            after={"day": str(day), "closed": data.closed, "reason": data.reason},
        )
    business_calendar.invalidate()


# --- audit --------------------------------------------------------------------------------


class AuditEntry(msgspec.Struct):
    id: int
    at: datetime
    branch_id: int | None
    actor: str
    action: str
    entity: str
    entity_id: str
    before: Any
    after: Any
    reason: str
    request_id: str


@get("/audit", opt={"permission": "bankcrm.audit.read"}, tags=["audit"])
async def list_audit(
    entity: Annotated[str | None, QueryParameter(max_length=128)] = None,
    entity_id: Annotated[str | None, QueryParameter(max_length=64)] = None,
    actor: Annotated[str | None, QueryParameter(max_length=128)] = None,
    action: Annotated[str | None, QueryParameter(max_length=32)] = None,
    limit: FromQuery[int] = 50,
    cursor: Annotated[str | None, QueryParameter(max_length=512)] = None,
) -> Page[AuditEntry]:
    """The audit trail of your branches, newest first (row-level security applies)."""
    check_limit(limit)
    after = decode_cursor(cursor, (int,))
    rows = await db.fetch(
        "SELECT id, at, branch_id, actor, action, entity, entity_id, before, after, reason,"
        " request_id FROM bankcrm_audit WHERE ($1::text IS NULL OR entity = $1)"
        " AND ($2::text IS NULL OR entity_id = $2) AND ($3::text IS NULL OR actor = $3)"
        " AND ($4::text IS NULL OR action = $4) AND ($5::bigint IS NULL OR id < $5)"
        " ORDER BY id DESC LIMIT $6",
        entity,
        entity_id,
        actor,
        action,
        after[0] if after else None,
        limit + 1,
    )
    items = [
        AuditEntry(
            r["id"],
            r["at"],
            r["branch_id"],
            r["actor"],
            r["action"],
            r["entity"],
            r["entity_id"],
            msgspec.json.decode(r["before"]) if r["before"] else None,
            msgspec.json.decode(r["after"]) if r["after"] else None,
            r["reason"],
            r["request_id"],
        )
        for r in rows[:limit]
    ]
    next_cursor = encode_cursor([items[-1].id]) if len(rows) > limit else None
    return Page(items, next_cursor)


def kernel_router() -> Router:
    return Router(
        path="/api/v1",
        route_handlers=[
            login,
            logout,
            me,
            change_password,
            mfa_enrol,
            mfa_confirm,
            list_plugins,
            list_branches,
            get_branch,
            create_branch,
            set_enablement,
            get_plugin_settings,
            put_plugin_settings,
            list_kpis,
            list_api_clients,
            create_api_client,
            rotate_api_client,
            revoke_api_client,
            list_audit,
            calendar_month,
            set_branch_hours,
            set_calendar_override,
        ],
        guards=[require_actor, require_permission, credential_guard],
    )
