"""The gate in front of piccolo-admin: who may see which table, in which branches, how.

piccolo-admin knows nothing of bankcrm: it lists every table to every user whose
``BaseUser.admin`` is true, titles columns by their names, has no read-only or masked
columns and runs each query on whatever connection the engine hands out. One piccolo-admin
app is built at boot; this ASGI wrapper decides per request:

- only known admin paths are served (no Swagger page, no OpenAPI document, no media), and
  every unsafe request carries the double-submit CSRF token;
- logins and password changes go to :mod:`bankcrm.auth` (rate limit, lockout, TOTP,
  password policy), never to piccolo's own endpoints;
- ``/api/`` needs the staff session whose user the kernel resolved the scope for;
- per table: the screen's permission (reads; ``.write`` for writes), the scope narrowed to
  the branches where the table's plugin is enabled (row-level security does the rest),
  no filtering or sorting on masked or hidden columns;
- the table list, menu groups and links are computed here from the visible screens;
  schemas get the screen's labels in the UI language; masked columns are masked and hidden
  ones dropped from every row sent;
- writes run in one transaction with their audit rows (see :mod:`bankcrm.admin_hooks`),
  the request body read first and the answer sent only after the commit; screens that
  ``audit_reads`` get a view row for each row opened and an export row for each bulk read
  (the CSV export), committed before the answer leaves;
- every error leaves as a problem document (``application/problem+json``); a 422 also
  carries ``db_error``, the member piccolo-admin's form shows.
"""

from __future__ import annotations

import hmac
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast
from urllib.parse import parse_qsl, urlsplit

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.types import HTTPReceiveMessage, HTTPScope, Message, Receive, Scope, Send
from piccolo.apps.user.tables import BaseUser

from bankcrm import audit, auth, branches, db, pii
from bankcrm.admin_hooks import ADMIN_REASON, CACHED_TABLES, auditable
from bankcrm.admin_screens import ScreenIndex, ScreenSpec
from bankcrm.context import Scope as ActorScope
from bankcrm.context import current_scope, set_scope
from bankcrm.plugins import KERNEL_PLUGIN_NAME
from bankcrm.tables import Branch
from bankcrm.users import service as users
from bankcrm.users.admin_forms import FORMS_GROUP, AdminForm
from bankcrm.web.problems import PROBLEM_MEDIA_TYPE, TITLES, FieldError, Problem

log = logging.getLogger(__name__)

ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SESSION_COOKIE = "id"
CSRF_COOKIE = "csrftoken"
CSRF_HEADER = "x-csrftoken"
LANGUAGE_COOKIE = "bankcrm_admin_lang"
"""Set when the UI loads a translation: the server learns the language it shows."""

MAX_BODY_BYTES = 1024 * 1024
"""Admin writes are single rows of JSON; media uploads are not offered."""

SAFE_METHODS = frozenset({"GET", "HEAD"})
TABLE_ENDPOINTS = frozenset({"schema/", "ids/", "count/", "references/", "new/"})
LIST_PAGE_MAX = 100
"""The largest page the admin's list offers; its CSV export reads pages of 1000."""
READ_ONLY_SUFFIX = {"zh": "（只读）", "en": " (read-only)"}


@dataclass
class Captured:
    """A response of the wrapped app, held back until the gate has checked or committed."""

    status: int = 0
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            self.body.extend(message.get("body", b""))

    def header(self, name: bytes) -> str:
        for key, value in self.headers:
            if key.lower() == name:
                return value.decode("latin-1")
        return ""

    def json(self) -> Any:
        return json.loads(self.body)


def ui_language(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """``zh`` unless the admin UI was switched to another language (English)."""
    chosen = connection.cookies.get(LANGUAGE_COOKIE, "")
    return "en" if chosen and not chosen.lower().startswith("zh") else "zh"


async def read_body(receive: Receive, limit: int = MAX_BODY_BYTES) -> bytes:
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Problem(400, "the client went away before the request body arrived")
        body.extend(cast(bytes, message.get("body", b"")))
        if len(body) > limit:
            raise Problem(413, f"admin requests are limited to {limit} bytes", code="too_large")
        if not message.get("more_body", False):
            return bytes(body)


def replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the app the body already read, then the real stream."""
    sent = False

    async def again() -> HTTPReceiveMessage:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return cast(HTTPReceiveMessage, await receive())

    return again


def parse_body(body: bytes, content_type: str) -> dict[str, Any]:
    if content_type.startswith("application/x-www-form-urlencoded"):
        return dict(parse_qsl(body.decode("utf-8", "replace")))
    try:
        data = json.loads(body or b"{}")
    except ValueError as exc:
        raise Problem(400, "the body is not valid JSON", code="validation") from exc
    if not isinstance(data, dict):
        raise Problem(400, "the body must be a JSON object", code="validation")
    return data


def _text(data: dict[str, Any], key: str, limit: int) -> str:
    value = data.get(key)
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or len(value) > limit:
        raise Problem(
            422,
            f"{key}: expected text of at most {limit} characters",
            [FieldError(f"body.{key}", "invalid")],
            "invalid",
        )
    return value


def _flag(value: Any, default: bool) -> bool:
    """A checkbox as JSON or as form text (``"false"`` is not true)."""
    if value is None or value == "":
        return default
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "on", "yes")
    return bool(value)


@dataclass
class Request:
    scope: Scope
    receive: Receive
    send: Send
    connection: ASGIConnection[Any, Any, Any, Any]

    @property
    def method(self) -> str:
        return cast(HTTPScope, self.scope)["method"].upper()


class AdminGate:
    def __init__(
        self,
        app: ASGIApp,
        index: ScreenIndex,
        *,
        mount_path: str,
        production: bool,
        allowed_hosts: tuple[str, ...] = (),
        foreign_actors: bool = True,
        forms: Sequence[AdminForm] = (),
    ) -> None:
        """``foreign_actors``: some plugin implements ``resolve_actor``. ``forms``: actions
        that are no row edit, served and run here (see :meth:`_forms`)."""
        self.app = app
        self.forms = {form.slug: form for form in forms}
        self.foreign_actors = foreign_actors
        self.index = index
        self.mount_path = mount_path
        self.production = production
        self.allowed_hosts = allowed_hosts
        self._columns = {
            name: frozenset(c._meta.name for c in table._meta.columns)
            for name, table in index.tables.items()
        }
        self.masked_readables = {
            name
            for name, table in index.tables.items()
            if (spec := index.screens.get(name)) is not None
            and {c._meta.name for c in table.get_readable().columns} & spec.protected_columns
        }

    # --- entry ----------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw_path = scope.get("raw_path") or b""
        if raw_path.rstrip(b"/") == self.mount_path.encode() and not raw_path.endswith(b"/"):
            # The app's assets are relative URLs: they resolve under /admin/ only.
            query = scope.get("query_string", b"")
            location = self.mount_path + "/" + (f"?{query.decode('latin-1')}" if query else "")
            await self._send(send, 301, b"", [(b"location", location.encode("latin-1"))])
            return
        request = Request(scope, receive, send, ASGIConnection(scope))
        try:
            await self._route(request)
        except Problem as problem:
            await self._problem(request, problem)

    async def _route(self, request: Request) -> None:
        path: str = request.scope["path"]
        method = request.method
        if method not in SAFE_METHODS:
            self._check_csrf(request)
        if path == "/" or path.startswith("/assets/"):
            if method not in SAFE_METHODS:
                raise Problem(405, "the admin pages are read with GET", code="method")
            await self.app(request.scope, request.receive, request.send)
        elif path.startswith("/public/"):
            await self._public(request, path[len("/public/") :])
        elif path.startswith("/api/"):
            await self._api(request, path[len("/api/") :])
        else:
            raise Problem(404, "no such admin page", code="not_found")

    def _check_csrf(self, request: Request) -> None:
        """piccolo-admin's double-submit token, checked for every unsafe request.

        piccolo-admin checks it again for what it serves itself; the logins and password
        changes the gate answers would otherwise go unchecked.
        """
        cookie = request.connection.cookies.get(CSRF_COOKIE, "")
        header = request.connection.headers.get(CSRF_HEADER, "")
        if not cookie or not header or not hmac.compare_digest(cookie, header):
            raise Problem(
                403, "the CSRF token is missing or does not match the cookie", code="csrf"
            )
        if request.scope.get("scheme") == "https":
            origin = request.connection.headers.get("origin") or request.connection.headers.get(
                "referer", ""
            )
            if urlsplit(origin).hostname not in self.allowed_hosts:
                raise Problem(403, "the request's origin is not an allowed host", code="csrf")

    # --- public: login, translations -----------------------------------------------------

    async def _public(self, request: Request, rest: str) -> None:
        method = request.method
        if rest == "login/" and method == "POST":
            await self._login(request)
        elif (rest == "logout/" and method == "POST") or (
            rest in ("meta/", "translations/") and method in SAFE_METHODS
        ):
            await self._pass(request)
        elif rest.startswith("translations/") and method in SAFE_METHODS:
            captured = await self._run(request.scope, request.receive)
            code = rest[len("translations/") :].strip("/")
            headers = []
            if captured.status == 200:
                cookie = Cookie(
                    key=LANGUAGE_COOKIE,
                    value=code,
                    path=self.mount_path,
                    max_age=365 * 24 * 3600,
                    httponly=True,
                    samesite="lax",
                    secure=self.production,
                )
                headers.append(cookie.to_encoded_header())
            await self._relay(request, captured, extra_headers=headers)
        else:
            # piccolo's HTML login form (it loads Google Fonts) and its docs are not served.
            raise Problem(404, "no such admin page", code="not_found")

    async def _login(self, request: Request) -> None:
        """The admin's login form, answered by :func:`bankcrm.auth.login`.

        piccolo's own endpoint would check the password with nothing but an in-memory rate
        limit: no lockout, no TOTP, no login journal. The session is the kernel's, so it
        serves the REST API as well.
        """
        body = await read_body(request.receive, 64 * 1024)
        data = parse_body(body, request.connection.headers.get("content-type", ""))
        username = _text(data, "username", 150)
        password = _text(data, "password", 128)
        otp = _text(data, "mfa_code", 10) or None
        if not username or not password:
            raise Problem(422, "Missing username or password", code="invalid")
        client = request.scope.get("client")
        ip = client[0] if client else "unknown"
        try:
            result = await auth.login(username, password, otp, ip)
        except auth.AuthError as exc:
            # The UI shows its code field only on exactly this detail.
            detail = "MFA code required" if exc.code == "mfa_required" else str(exc)
            raise exc.problem(detail) from exc
        max_age = int((result.expires_at - datetime.now(UTC)).total_seconds())
        cookie = Cookie(
            key=SESSION_COOKIE,
            value=result.session_token,
            path="/",
            max_age=max_age,
            httponly=True,
            samesite="lax",
            secure=self.production,
        )
        await self._json(request.send, 200, {"message": "logged in"}, [cookie.to_encoded_header()])

    # --- api ------------------------------------------------------------------------------

    async def _actor(self, request: Request) -> ActorScope:
        """The kernel's scope, and only if it belongs to the staff session piccolo will use.

        piccolo-admin acts as the user of the session cookie; the kernel resolved the scope
        from a bearer token if one was sent, else from that same cookie, unless a plugin's
        ``resolve_actor`` (single sign-on) answered first: then the two are compared.
        """
        scope = current_scope()
        token = request.connection.cookies.get(SESSION_COOKIE)
        if scope is None or scope.user_id is None or not token:
            raise Problem(401, "log in to use the admin", code="unauthenticated")
        if "authorization" in request.connection.headers or (
            self.foreign_actors and await auth.user_for_session(token) != scope.user_id
        ):
            raise Problem(
                401, "the admin needs a staff session of the acting user", code="unauthenticated"
            )
        return scope

    async def _api(self, request: Request, rest: str) -> None:
        actor = await self._actor(request)
        method = request.method
        if rest.startswith("tables/") and rest != "tables/grouped/" and rest != "tables/":
            # piccolo-admin's own authentication checks the admin flag on these.
            await self._table(request, actor, rest[len("tables/") :])
            return
        if method in SAFE_METHODS and rest == "user/":
            await self._pass(request)
            return
        await self._require_admin_ui(actor)
        if rest.startswith("forms/"):
            await self._forms(request, actor, rest[len("forms/") :])
            return
        if method in SAFE_METHODS and rest == "tables/":
            visible = await self.visible_screens(actor)
            await self._json(request.send, 200, sorted(s.tablename for s in visible))
        elif method in SAFE_METHODS and rest == "tables/grouped/":
            await self._json(
                request.send, 200, self._grouped(await self.visible_screens(actor), request)
            )
        elif method in SAFE_METHODS and rest == "links/":
            await self._json(
                request.send, 200, self._links(await self.visible_screens(actor), request)
            )
        elif rest == "change-password/" and method == "POST":
            await self._change_password(request, actor)
        else:
            raise Problem(404, "no such admin endpoint", code="not_found")

    @staticmethod
    async def _require_admin_ui(actor: ActorScope) -> None:
        """What piccolo-admin checks for what it serves: ``BaseUser.admin`` (and active)."""
        allowed = await db.fetchval(
            "SELECT admin AND active FROM piccolo_user WHERE id = $1", actor.user_id
        )
        if not allowed:
            raise Problem(401, "this account may not use the admin UI", code="unauthenticated")

    async def _enabled(self, plugin: str) -> frozenset[int] | None:
        """Branches where ``plugin`` is enabled; None for the kernel, which always is."""
        if plugin == KERNEL_PLUGIN_NAME:
            return None
        return (await branches.snapshot()).enabled_branches(plugin)

    async def visible_screens(self, actor: ActorScope) -> list[ScreenSpec]:
        enabled: dict[str, frozenset[int] | None] = {}
        visible = []
        for spec in self.index.screens.values():
            if not spec.may_read(actor):
                continue
            if spec.plugin not in enabled:
                enabled[spec.plugin] = await self._enabled(spec.plugin)
            where = enabled[spec.plugin]
            if where is None or where & actor.branch_ids:
                visible.append(spec)
        return visible

    def _grouped(self, visible: list[ScreenSpec], request: Request) -> dict[str, Any]:
        language = ui_language(request.connection)
        grouped: dict[str, list[str]] = {}
        for spec in visible:
            title = spec.group.en if language == "en" else spec.group.zh
            grouped.setdefault(title, []).append(spec.tablename)
        return {
            "grouped": {title: sorted(grouped[title]) for title in sorted(grouped)},
            "ungrouped": [],
        }

    def _links(self, visible: list[ScreenSpec], request: Request) -> dict[str, str]:
        """The screens' titles as sidebar links: the menu itself can only show table names."""
        language = ui_language(request.connection)
        links: dict[str, str] = {}
        for spec in sorted(visible, key=lambda s: (s.group.zh, s.tablename)):
            title = spec.screen.title.en if language == "en" else spec.screen.title.zh
            if title in links:
                title = f"{title} ({spec.plugin})"
            links[title] = f"#/{spec.tablename}/"
        return links

    async def _forms(self, request: Request, actor: ActorScope, rest: str) -> None:
        """The forms the actor may use, as piccolo-admin's UI asks for them (list, grouped
        list, one form, its JSON schema, a submission), in the UI's language. A submission
        runs the form's action, which applies the same service and audit as the REST API;
        its refusal is a problem document like any other."""
        language = ui_language(request.connection)
        usable = {slug: f for slug, f in self.forms.items() if actor.has(f.permission)}
        method = request.method
        slug, _, sub = rest.strip("/").partition("/")
        if method in SAFE_METHODS and rest == "":
            await self._json(request.send, 200, [f.summary(language) for f in usable.values()])
            return
        if method in SAFE_METHODS and rest == "grouped/":
            title = FORMS_GROUP.en if language == "en" else FORMS_GROUP.zh
            summaries = [f.summary(language) for f in usable.values()]
            grouped = {title: summaries} if summaries else {}
            await self._json(request.send, 200, {"grouped": grouped, "ungrouped": []})
            return
        form = usable.get(slug)
        if form is None:
            raise Problem(404, "no such form", code="not_found")
        if method in SAFE_METHODS and sub == "":
            await self._json(request.send, 200, form.summary(language))
        elif method in SAFE_METHODS and sub == "schema":
            await self._json(request.send, 200, form.schema(language))
        elif method == "POST" and sub == "":
            body = await read_body(request.receive, 64 * 1024)
            data = parse_body(body, request.connection.headers.get("content-type", ""))
            message = await form.action(form.parse(data))
            await self._json(request.send, 200, {"custom_form_success": message})
        else:
            raise Problem(404, "no such form endpoint", code="not_found")

    async def _change_password(self, request: Request, actor: ActorScope) -> None:
        assert actor.user_id is not None
        body = await read_body(request.receive, 64 * 1024)
        data = parse_body(body, request.connection.headers.get("content-type", ""))
        current = _text(data, "current_password", 128)
        new = _text(data, "new_password", 128)
        if not current or not new:
            raise Problem(422, "enter the current and the new password", code="invalid")
        if new != _text(data, "confirm_new_password", 128):
            raise Problem(422, "the new passwords do not match", code="invalid")
        try:
            await auth.change_password(actor.user_id, current, new)
        except (auth.PasswordRefused, auth.TooManyFailures) as exc:
            renamed = {"body.current": "body.current_password", "body.new": "body.new_password"}
            raise auth.refusal_problem(exc, renamed) from exc
        gone = Cookie(
            key=SESSION_COOKIE,
            value="",
            path="/",
            max_age=0,
            httponly=True,
            samesite="lax",
            secure=self.production,
        )
        await self._json(
            request.send,
            200,
            {"message": "password changed; log in again"},
            [gone.to_encoded_header()],
        )

    # --- tables ---------------------------------------------------------------------------

    async def _table(self, request: Request, actor: ActorScope, rest: str) -> None:
        name, _, sub = rest.partition("/")
        method = request.method
        spec = self.index.screens.get(name)
        if spec is None and name not in self.index.pickers:
            raise Problem(404, f"no admin screen {name!r}", code="not_found")
        if sub == "ids/" and method in SAFE_METHODS and not (spec and spec.may_read(actor)):
            # A key picker: the user edits a screen with a foreign key to this table.
            pickers = [s for s in self.index.pickers.get(name, []) if s.may_read(actor)]
            if not pickers:
                raise Problem(403, f"you may not use the admin screen {name!r}", code="forbidden")
            allowed: frozenset[int] | None = frozenset()
            for picker in pickers:
                where = await self._enabled(picker.plugin)
                allowed = None if where is None or allowed is None else allowed | where
            await self._narrow(actor, allowed)
            await self._read(request, actor, name, spec, "ids/")
            return
        if spec is None or not spec.may_read(actor):
            raise Problem(403, f"you may not use the admin screen {name!r}", code="forbidden")
        kind = sub if sub in TABLE_ENDPOINTS else "" if sub == "" else "row"
        if kind == "row" and (not sub.endswith("/") or "/" in sub[:-1]):
            raise Problem(404, "no such admin endpoint", code="not_found")
        if method not in SAFE_METHODS:
            if spec.read_only:
                raise Problem(405, f"{name} is read-only", code="read_only")
            if not spec.may_write(actor):
                raise Problem(
                    403,
                    f"changing {name} needs the permission {spec.write_permission!r}",
                    code="forbidden",
                )
            allowed_methods = {"": {"POST"}, "row": {"PATCH", "DELETE"}}.get(kind, set())
            if method not in allowed_methods:
                raise Problem(
                    405, f"{method} is not offered here; edit rows with PATCH", code="method"
                )
            if method == "POST" and not spec.creatable:
                raise Problem(
                    405,
                    f"{name} rows are not created in the admin: use the module's REST API"
                    " or its import",
                    code="method",
                )
        await self._narrow(actor, await self._enabled(spec.plugin), spec)
        if method in SAFE_METHODS:
            await self._read(request, actor, name, spec, kind, sub[:-1] if kind == "row" else "")
        else:
            await self._write(request, spec, kind)

    async def _narrow(
        self, actor: ActorScope, allowed: frozenset[int] | None, spec: ScreenSpec | None = None
    ) -> None:
        """Limit the request to the branches where the table's plugin is enabled."""
        if allowed is None:
            return
        narrowed = actor.narrowed(allowed)
        if not narrowed.branch_ids:
            plugin = spec.plugin if spec else "its module"
            raise Problem(
                404,
                f"no screen here: {plugin!r} is not enabled for your branch",
                code="plugin_disabled",
            )
        set_scope(narrowed)

    def _check_query(self, request: Request, name: str, spec: ScreenSpec | None) -> None:
        """No filter, sort or search may probe a masked, hidden or secret column."""
        protected = spec.protected_columns if spec else frozenset()
        for key, value in request.connection.query_params.multi_items():
            if key == "search":
                if name in self.masked_readables:
                    raise Problem(
                        400,
                        f"{name} cannot be searched: its titles are masked",
                        [FieldError("query.search", "protected column")],
                        "protected",
                    )
                continue
            if key == "__order":
                fields = {part.strip().lstrip("-") for part in str(value).split(",")}
                unknown = sorted(fields - self._columns[name])
                if unknown:
                    # piccolo-admin would fail with a 500 on these.
                    raise Problem(
                        400,
                        f"cannot sort on {', '.join(unknown)}: no such column",
                        [FieldError("query.__order", "unknown column")],
                        "validation",
                    )
            else:
                field_name = key.removesuffix("[]")
                for suffix in ("__operator", "__match"):
                    field_name = field_name.removesuffix(suffix)
                fields = {field_name}
            blocked = sorted(fields & protected)
            if blocked:
                raise Problem(
                    400,
                    f"{', '.join(blocked)} cannot be filtered or sorted on",
                    [FieldError(f"query.{key}", "protected column")],
                    "protected",
                )

    async def _read(
        self,
        request: Request,
        actor: ActorScope,
        name: str,
        spec: ScreenSpec | None,
        kind: str,
        row_key: str = "",
    ) -> None:
        self._check_query(request, name, spec)
        if spec is not None and kind == "" and self.is_export(request):
            needed = spec.screen.export_permission
            if needed and not actor.has(needed):
                raise Problem(
                    403,
                    f"exporting {name} needs the permission {needed!r}, as the REST export does",
                    code="forbidden",
                )
        captured = await self._run(request.scope, request.receive)
        if captured.status >= 400:
            raise self._as_problem(captured)
        if spec is not None and spec.screen.audit_reads and request.method == "GET":
            await self._audit_read(request, spec, spec.screen.audit_reads, kind, row_key, captured)
        if kind in ("", "row", "schema/", "new/", "ids/", "references/"):
            data = captured.json()
            language = ui_language(request.connection)
            if kind == "schema/" and spec is not None:
                data = self._schema(spec, data, language)
            elif kind == "" and spec is not None:
                data["rows"] = [self._row(spec, row) for row in data.get("rows", [])]
            elif kind in ("row", "new/") and spec is not None:
                data = self._row(spec, data)
            elif kind == "ids/":
                data = await self._ids(name, data)
            elif kind == "references/":
                visible = {s.tablename for s in await self.visible_screens(actor)}
                data["references"] = [
                    r for r in data.get("references", []) if r.get("tableName") in visible
                ]
            captured.body = bytearray(json.dumps(data, ensure_ascii=False).encode())
        await self._relay(request, captured)

    @staticmethod
    def is_export(request: Request) -> bool:
        """The admin's CSV export reads pages larger than its list ever asks for."""
        try:
            size = int(request.connection.query_params.get("__page_size") or 0)
        except ValueError:
            return False
        return size > LIST_PAGE_MAX

    async def _audit_read(
        self,
        request: Request,
        spec: ScreenSpec,
        entity: str,
        kind: str,
        row_key: str,
        captured: Captured,
    ) -> None:
        """A view for a row opened, an export for a bulk page, committed before answering.

        The admin UI opens a row (detail and edit form alike) with ``GET <table>/<id>/``
        and exports by reading pages of 1000 rows from ``GET <table>/``; its list never
        asks for more than :data:`LIST_PAGE_MAX`. Counts, schemas and list pages are not
        recorded, as the REST API's search is not.
        """
        if kind == "row":
            async with db.transaction():
                branch_id = await self._row_branch(spec, row_key)
                await audit.record(
                    audit.Action.VIEW,
                    entity,
                    row_key,
                    branch_id=branch_id,
                    after={"screen": "admin"},
                    reason=ADMIN_REASON,
                )
            return
        params = request.connection.query_params
        if kind != "" or not self.is_export(request):
            return
        pk = spec.table._meta.primary_key._meta.name
        rows = captured.json().get("rows", [])
        after: dict[str, Any] = {
            "screen": "admin",
            "format": "csv",
            "filters": {
                key: params.getall(key)
                for key in params
                if not key.startswith("__") or key == "__order"
            },
            "columns": params.get("__visible_fields") or "all",
            "page": int(params.get("__page") or 1),
            "rows": len(rows),
        }
        if rows and pk in rows[0]:
            after["ids"] = [row[pk] for row in rows]
        # No single branch owns a bulk read: the exporter's home branch, so the trail
        # shows it to whoever oversees them (the append refuses a branch outside the
        # narrowed scope; without one the row is kept for the owner's review only).
        scope = current_scope()
        home = scope.home_branch_id if scope else None
        async with db.transaction():
            await audit.record(
                audit.Action.EXPORT,
                entity,
                "export",
                branch_id=home if scope and home in scope.branch_ids else None,
                after=after,
                reason=ADMIN_REASON,
            )

    @staticmethod
    async def _row_branch(spec: ScreenSpec, row_key: str) -> int | None:
        """The branch of the row just read (row-level security applies)."""
        column = spec.audit_branch_column
        if column is None:
            return None
        table = spec.table
        pk = table._meta.primary_key
        branch: int | None = await db.fetchval(
            f"SELECT {db.quote_ident(table._meta.get_column_by_name(column)._meta.db_column_name)}"
            f" FROM {db.quote_ident(table._meta.tablename)}"
            f" WHERE {db.quote_ident(pk._meta.db_column_name)} = $1",
            pk.value_type(row_key),
        )
        return branch

    def _schema(self, spec: ScreenSpec, schema: dict[str, Any], language: str) -> dict[str, Any]:
        properties: dict[str, Any] = schema.get("properties", {})
        for column in list(properties):
            if column in spec.hidden_columns:
                del properties[column]
                continue
            label = spec.label(column, language)
            if label is not None:
                properties[column]["title"] = label
            if column in spec.screen.read_only_columns:
                properties[column]["title"] += READ_ONLY_SUFFIX[language]
        extra = schema.setdefault("extra", {})
        for key in ("visible_column_names", "visible_filter_names"):
            if key in extra:
                extra[key] = [c for c in extra[key] if c not in spec.hidden_columns]
        title = spec.screen.title
        extra["help_text"] = title.en if language == "en" else title.zh
        return schema

    def _row(self, spec: ScreenSpec, row: dict[str, Any]) -> dict[str, Any]:
        masked = spec.screen.masked_columns
        unsent = spec.unsent_columns
        for key in list(row):
            value = row[key]
            if key in unsent:
                del row[key]
            elif value is None:
                continue
            elif key in masked or (
                key.endswith("_readable")
                and self._readable_masked(spec, key.removesuffix("_readable"))
            ):
                row[key] = pii.mask(str(value))
        for column in spec.scoped_references:
            readable = f"{column}_readable"
            if row.get(column) is not None and readable in row and not row[readable]:
                # Row-level security hid the referenced row (another branch's): its key
                # is not shown either.
                row[column] = None
                row[readable] = None
        return row

    def _readable_masked(self, spec: ScreenSpec, column: str) -> bool:
        try:
            target = spec.table._meta.get_column_by_name(column)
        except ValueError:
            return False
        references = getattr(target, "_foreign_key_meta", None)
        if references is None:
            return False
        return references.resolved_references._meta.tablename in self.masked_readables

    async def _ids(self, name: str, ids: dict[str, Any]) -> dict[str, Any]:
        if name == BaseUser._meta.tablename:
            # Staff pickers offer only people who work in the viewer's branches, not the
            # bank's whole staff list.
            scope = current_scope()
            if scope is None or not scope.is_superuser:
                branch_ids = sorted(scope.branch_ids) if scope else []
                staff = {
                    str(r["user"])
                    for r in await db.fetch(
                        "SELECT DISTINCT m.user FROM bankcrm_membership m"
                        " WHERE m.branch = ANY($1::bigint[])",
                        branch_ids,
                    )
                }
                ids = {key: value for key, value in ids.items() if str(key) in staff}
        if name == Branch._meta.tablename:
            # Branches carry no RLS: a picker offers only those the narrowed scope covers.
            scope = current_scope()
            allowed = scope.branch_ids if scope else frozenset()
            ids = {key: value for key, value in ids.items() if int(key) in allowed}
        if name in self.masked_readables:
            ids = {key: pii.mask(str(value)) for key, value in ids.items()}
        return ids

    async def _write(self, request: Request, spec: ScreenSpec, kind: str) -> None:
        """One transaction around the write and its audit rows, committed before answering.

        The body is read before a connection is taken, so a slow upload holds none; the
        answer is held back until the commit, so a read right after it sees the change.
        """
        body = await read_body(request.receive)
        async with db.transaction() as transaction:
            if issubclass(spec.table, BaseUser) and kind == "":
                captured = await self._create_user(spec, body)
            else:
                captured = await self._run(request.scope, replay(body, request.receive))
            if captured.status >= 400:
                await transaction.rollback()
        if captured.status >= 400:
            raise self._as_problem(captured)
        if spec.tablename in CACHED_TABLES:
            branches.invalidate()
        if kind == "row" and captured.header(b"content-type").startswith("application/json"):
            # piccolo answers a PATCH with the whole row as stored: masks apply here too.
            data = self._row(spec, captured.json())
            captured.body = bytearray(json.dumps(data, ensure_ascii=False).encode())
        await self._relay(request, captured)

    async def _create_user(self, spec: ScreenSpec, body: bytes) -> Captured:
        """piccolo creates users without hooks, so without policy or audit: done here."""
        data = parse_body(body, "application/json")
        username = _text(data, "username", 100)
        password = _text(data, "password", 128)
        if not username or not password:
            raise Problem(422, "username and password are required", code="invalid")
        flags = {
            k: _flag(data.get(k), default)
            for k, default in (("active", True), ("admin", True), ("superuser", False))
        }
        try:
            user_id = await auth.create_user(
                username,
                password,
                email=_text(data, "email", 255),
                first_name=_text(data, "first_name", 255),
                last_name=_text(data, "last_name", 255),
                superuser=flags["superuser"],
                admin_ui=flags["admin"],
            )
        except ValueError as exc:
            raise Problem(
                422, str(exc), [FieldError("body.password", str(exc))], "password_policy"
            ) from exc
        if not flags["active"]:
            await db.fetch("UPDATE piccolo_user SET active = false WHERE id = $1", user_id)
        # The administrator chose the password: the user replaces it at the first login.
        await users.require_password_change(user_id)
        shown = {"username": username, "password": password, **flags}
        await audit.record(
            audit.Action.CREATE,
            spec.entity,
            user_id,
            branch_id=None,
            after=auditable(spec, shown),
            reason=ADMIN_REASON,
        )
        captured = Captured(201, [(b"content-type", b"application/json")])
        captured.body.extend(json.dumps({"id": user_id}).encode())
        return captured

    # --- plumbing -------------------------------------------------------------------------

    async def _pass(self, request: Request) -> None:
        """Served by piccolo-admin as it is, but for errors, which become problems."""
        captured = await self._run(request.scope, request.receive)
        if captured.status >= 400:
            raise self._as_problem(captured)
        await self._relay(request, captured)

    async def _run(self, scope: Scope, receive: Receive) -> Captured:
        captured = Captured()
        await self.app(scope, receive, captured.send)
        return captured

    def _as_problem(self, captured: Captured) -> Problem:
        """piccolo-admin's error (text, ``{"detail"}``, ``{"db_error"}``) as a Problem."""
        status = captured.status
        text = bytes(captured.body).decode("utf-8", "replace")
        detail, errors = text, []
        if captured.header(b"content-type").startswith("application/json"):
            try:
                data = json.loads(text)
            except ValueError:
                data = None
            if isinstance(data, dict):
                found = data.get("db_error") or data.get("detail") or data.get("error")
                if isinstance(found, list):
                    errors = [
                        FieldError(".".join(str(p) for p in e.get("loc", [])), str(e.get("msg")))
                        for e in found
                        if isinstance(e, dict)
                    ]
                    found = "; ".join(f"{e.field}: {e.message}" for e in errors)
                if found:
                    detail = str(found)
        if status >= 500:
            log.error("piccolo-admin failed", extra={"status": status, "detail": detail[:500]})
            detail = "an unexpected error occurred; quote the request id to support"
        return Problem(status, detail or TITLES.get(status, "Error"), errors)

    async def _problem(self, request: Request, problem: Problem) -> None:
        scope = current_scope()
        state = request.scope.get("state", {})
        body: dict[str, Any] = {
            "type": f"https://bankcrm.dev/problems/{problem.code}"
            if problem.code
            else "about:blank",
            "title": TITLES.get(problem.status, "Error"),
            "status": problem.status,
            "detail": problem.detail,
            "instance": self.mount_path + request.scope["path"],
            "request_id": state.get("request_id")
            or (scope.request_id if scope else "")
            or uuid.uuid4().hex,
            "errors": [e.as_dict() for e in problem.errors],
        }
        if problem.status == 422:
            body["db_error"] = problem.detail
        headers = [
            (k.encode("latin-1"), v.encode("latin-1")) for k, v in (problem.headers or {}).items()
        ]
        await self._json(
            request.send, problem.status, body, headers, content_type=PROBLEM_MEDIA_TYPE
        )

    async def _relay(
        self,
        request: Request,
        captured: Captured,
        extra_headers: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        headers = [(k, v) for k, v in captured.headers if k.lower() != b"content-length"]
        await self._send(
            request.send, captured.status, bytes(captured.body), headers + (extra_headers or [])
        )

    async def _json(
        self,
        send: Send,
        status: int,
        data: Any,
        headers: list[tuple[bytes, bytes]] | None = None,
        content_type: str = "application/json",
    ) -> None:
        body = json.dumps(data, ensure_ascii=False).encode()
        await self._send(
            send, status, body, [(b"content-type", content_type.encode()), *(headers or [])]
        )

    @staticmethod
    async def _send(
        send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]
    ) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [*headers, (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body, "more_body": False})
