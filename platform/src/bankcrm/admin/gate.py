"""The gate in front of piccolo-admin: it routes each request through the parts that
decide what piccolo-admin may be asked and what of its answer leaves.

piccolo-admin knows nothing of bankcrm: it lists every table to every user whose
``BaseUser.admin`` is true, titles columns by their names, has no read-only or masked
columns and runs each query on whatever connection the engine hands out. One piccolo-admin
app is built at boot; the gate decides per request, with one part for each concern:

- only known admin paths are served (no Swagger page, no OpenAPI document, no media), and
  every unsafe request carries the double-submit token (:mod:`~bankcrm.admin.csrf`);
- logins and password changes go to :mod:`bankcrm.auth`, and ``/api/`` needs the staff
  session whose user the kernel resolved the scope for (:mod:`~bankcrm.admin.sessions`);
- per table: permissions, the scope narrowed to where the plugin is enabled, protected
  columns kept out of queries (:mod:`~bankcrm.admin.access`);
- the menu (:mod:`~bankcrm.admin.menu`) and schemas (:mod:`~bankcrm.admin.schema`) in the
  UI language (:mod:`~bankcrm.admin.language`); rows masked (:mod:`~bankcrm.admin.masking`);
- writes in one transaction with their audit rows (:mod:`~bankcrm.admin.writes`, whose
  hooks are in :mod:`~bankcrm.admin.hooks`; users are created by
  :mod:`~bankcrm.admin.user_creation`); reads audited (:mod:`~bankcrm.admin.read_audit`);
- forms for what is no row edit (:mod:`~bankcrm.admin.forms`);
- every error leaves as a problem document (:mod:`~bankcrm.admin.errors`).
"""

from __future__ import annotations

from collections.abc import Sequence

from litestar.types import Receive, Scope, Send

from bankcrm import business_calendar
from bankcrm.admin import display, menu, read_audit, sessions, ui
from bankcrm.admin.access import TableAccess
from bankcrm.admin.csrf import check_csrf
from bankcrm.admin.errors import as_problem, send_problem
from bankcrm.admin.exchange import (
    SAFE_METHODS,
    ASGIApp,
    Request,
    relay,
    run,
    send_body,
    send_json,
)
from bankcrm.admin.forms import Forms, PluginForm
from bankcrm.admin.language import remembered, ui_language
from bankcrm.admin.masking import Masking
from bankcrm.admin.schema import table_schema
from bankcrm.admin.screens import ScreenIndex, ScreenSpec
from bankcrm.admin.writes import write
from bankcrm.context import Scope as ActorScope
from bankcrm.web.problems import Problem

TABLE_ENDPOINTS = frozenset({"schema/", "ids/", "count/", "references/", "new/"})
REWRITTEN = frozenset({"", "row", "schema/", "new/", "ids/", "references/"})
"""Table endpoints whose answers the gate rewrites (labels, masks, scope)."""


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
        forms: Sequence[PluginForm] = (),
    ) -> None:
        """``foreign_actors``: some plugin implements ``resolve_actor``. ``forms``: actions
        that are no row edit (see :mod:`bankcrm.admin.forms`)."""
        self.app = app
        self.index = index
        self.mount_path = mount_path
        self.production = production
        self.allowed_hosts = allowed_hosts
        self.foreign_actors = foreign_actors
        self.access = TableAccess(index)
        self.masking = Masking(index)
        self.forms = Forms(forms, self.access.enabled)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw_path = scope.get("raw_path") or b""
        if raw_path.rstrip(b"/") == self.mount_path.encode() and not raw_path.endswith(b"/"):
            # The app's assets are relative URLs: they resolve under /admin/ only.
            query = scope.get("query_string", b"")
            location = self.mount_path + "/" + (f"?{query.decode('latin-1')}" if query else "")
            await send_body(send, 301, b"", [(b"location", location.encode("latin-1"))])
            return
        request = Request.of(scope, receive, send)
        try:
            await self._route(request)
        except Problem as problem:
            await send_problem(request, problem, self.mount_path)

    async def _route(self, request: Request) -> None:
        path: str = request.scope["path"]
        method = request.method
        if method not in SAFE_METHODS:
            check_csrf(request, self.allowed_hosts)
        if path == "/" or path.startswith(("/assets/", "/bankcrm/")):
            if method not in SAFE_METHODS:
                raise Problem(405, "the admin pages are read with GET", code="method")
            if path.startswith("/bankcrm/"):
                await relay(request.send, ui.asset(path[len("/bankcrm/") :].rstrip("/")))
            elif path == "/":
                page = await run(self.app, request.scope, request.receive)
                await relay(request.send, ui.with_links(page))
            else:
                await self.app(request.scope, request.receive, request.send)
        elif path.startswith("/public/"):
            await self._public(request, path[len("/public/") :])
        elif path.startswith("/api/"):
            await self._api(request, path[len("/api/") :])
        else:
            raise Problem(404, "no such admin page", code="not_found")

    async def _public(self, request: Request, rest: str) -> None:
        """Login, logout and the UI's translations: before any session."""
        method = request.method
        if rest == "login/" and method == "POST":
            await sessions.login(request, secure=self.production)
        elif (rest == "logout/" and method == "POST") or (
            rest in ("meta/", "translations/") and method in SAFE_METHODS
        ):
            await self._pass(request)
        elif rest.startswith("translations/") and method in SAFE_METHODS:
            captured = await run(self.app, request.scope, request.receive)
            code = rest[len("translations/") :].strip("/")
            cookie = remembered(captured, code, mount_path=self.mount_path, secure=self.production)
            await relay(request.send, captured, cookie)
        else:
            # piccolo's HTML login form (it loads Google Fonts) and its docs are not served.
            raise Problem(404, "no such admin page", code="not_found")

    async def _api(self, request: Request, rest: str) -> None:
        actor = await sessions.acting_user(request, foreign_actors=self.foreign_actors)
        method = request.method
        if rest.startswith("tables/") and rest not in ("tables/grouped/", "tables/"):
            # piccolo-admin's own authentication checks the admin flag on these.
            await self._table(request, actor, rest[len("tables/") :])
            return
        if method in SAFE_METHODS and rest == "user/":
            await self._pass(request)
            return
        await sessions.require_admin_ui(actor)
        language = ui_language(request.connection)
        if rest.startswith("forms/"):
            await self.forms.serve(request, actor, rest[len("forms/") :])
        elif method in SAFE_METHODS and rest == "tables/":
            visible = await self.access.visible_screens(actor)
            await send_json(request.send, 200, sorted(s.tablename for s in visible))
        elif method in SAFE_METHODS and rest == "tables/grouped/":
            visible = await self.access.visible_screens(actor)
            await send_json(request.send, 200, menu.grouped(visible, language))
        elif method in SAFE_METHODS and rest == "screens/":
            visible = await self.access.visible_screens(actor)
            zone = await business_calendar.viewer_zone(actor.home_branch_id)
            await send_json(request.send, 200, ui.screens(visible, actor, language, zone))
        elif method in SAFE_METHODS and rest == "links/":
            # No extra links: the menu itself carries the screens' titles (see ui).
            await send_json(request.send, 200, {})
        elif rest == "change-password/" and method == "POST":
            await sessions.change_password(request, actor, secure=self.production)
        else:
            raise Problem(404, "no such admin endpoint", code="not_found")

    async def _table(self, request: Request, actor: ActorScope, rest: str) -> None:
        name, _, sub = rest.partition("/")
        method = request.method
        spec = self.index.screens.get(name)
        if spec is None and name not in self.index.pickers:
            raise Problem(404, f"no admin screen {name!r}", code="not_found")
        if sub == "ids/" and method in SAFE_METHODS and not (spec and spec.may_read(actor)):
            # A key picker: the user edits a screen with a foreign key to this table.
            self.access.narrow(actor, await self.access.picker_branches(name, actor))
            await self._read(request, actor, name, spec, "ids/")
            return
        if spec is None or not spec.may_read(actor):
            raise Problem(403, f"you may not use the admin screen {name!r}", code="forbidden")
        kind = sub if sub in TABLE_ENDPOINTS else "" if sub == "" else "row"
        if kind == "row" and (not sub.endswith("/") or "/" in sub[:-1]):
            raise Problem(404, "no such admin endpoint", code="not_found")
        if method not in SAFE_METHODS:
            self.access.check_write(spec, actor, method, kind)
        self.access.narrow(actor, await self.access.enabled(spec.plugin), spec)
        if method in SAFE_METHODS:
            await self._read(request, actor, name, spec, kind, sub[:-1] if kind == "row" else "")
        else:
            await write(self.app, request, spec, kind, self.masking)

    async def _read(
        self,
        request: Request,
        actor: ActorScope,
        name: str,
        spec: ScreenSpec | None,
        kind: str,
        row_key: str = "",
    ) -> None:
        """piccolo-admin's answer to a read, audited if the screen says so, then rewritten."""
        self.access.check_query(request, name, spec)
        if spec is not None and kind == "":
            self.access.check_export(request, actor, spec)
        captured = await run(self.app, request.scope, request.receive)
        if captured.status >= 400:
            raise as_problem(captured)
        if spec is not None:
            await read_audit.record_read(request, spec, kind, row_key, captured)
        if kind in REWRITTEN:
            data = captured.json()
            if kind == "schema/" and spec is not None:
                data = table_schema(spec, data, ui_language(request.connection))
            elif kind == "" and spec is not None:
                data["rows"] = [self.masking.row(spec, row) for row in data.get("rows", [])]
                if not read_audit.is_export(request):
                    zone = await business_calendar.viewer_zone(actor.home_branch_id)
                    display.list_rows(spec, data["rows"], ui_language(request.connection), zone)
            elif kind in ("row", "new/") and spec is not None:
                data = self.masking.row(spec, data)
            elif kind == "ids/":
                data = self.masking.ids(name, await self.access.picker_ids(name, data))
            elif kind == "references/":
                data["references"] = await self.access.visible_references(
                    actor, data.get("references", [])
                )
            captured.replace_json(data)
        await relay(request.send, captured)

    async def _pass(self, request: Request) -> None:
        """Served by piccolo-admin as it is, but for errors, which become problems."""
        captured = await run(self.app, request.scope, request.receive)
        if captured.status >= 400:
            raise as_problem(captured)
        await relay(request.send, captured)
