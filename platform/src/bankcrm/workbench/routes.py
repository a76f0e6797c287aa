"""The staff workbench under ``/app``: login, the home page, and the plugins' pages.

A page is a GET that renders HTML under the same session, scope and guards as the API.
Whoever is not logged in is sent to the login page (and back afterwards); a refusal is a
page that says why, in the viewer's language, with the API's status code.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

from litestar import Request, Response, Router, get
from litestar.response import Redirect
from litestar.static_files import create_static_files_router

from bankcrm import db
from bankcrm.assignment import service as assignment
from bankcrm.context import require_scope
from bankcrm.notifications import service as notifications
from bankcrm.plugin_api import Pages, WorkbenchLink
from bankcrm.runtime import Kernel
from bankcrm.web.guards import CENTRAL_GUARDS
from bankcrm.web.problems import Problem
from bankcrm.workbench import rendering as pages
from bankcrm.workbench.sso import SSO_LOGIN, sso_callback, sso_login

STATIC = "/app/static"
HOME = "/app/"
LOGIN = "/app/login"
PAGE = {"permission": "authenticated", "page": True}
_links: list[tuple[str, WorkbenchLink]] = []


def page_problem(request: Request[Any, Any, Any], exc: Problem) -> Response[Any]:
    if exc.status == 401 and request.method == "GET":
        return Redirect(f"{LOGIN}?next={quote(request.url.path)}", status_code=303)
    return pages.render(request, "problem.html", status_code=exc.status, problem=exc)


@get(LOGIN, opt={"public": True, "page": True}, include_in_schema=False)
async def login_page(request: Request[Any, Any, Any]) -> Response[str]:
    target = request.query_params.get("next", HOME)
    # Only a path of this site: an absolute or scheme-relative URL would be an open redirect.
    if not target.startswith("/") or target.startswith("//"):
        target = HOME
    from bankcrm.webapp import current_kernel

    sso = None
    if current_kernel().settings.oidc is not None:
        sso = f"{SSO_LOGIN}?next={quote(target)}"
    return pages.render(request, "login.html", next=target, sso=sso)


@get(HOME, opt=PAGE, include_in_schema=False)
async def home(request: Request[Any, Any, Any]) -> Response[str]:
    """The clerk's desk: unread notifications, open work, and where to go next."""
    scope = require_scope()
    language = pages.language_of(request)
    latest: list[Any] = []
    unread = 0
    work: list[dict[str, Any]] = []
    if scope.user_id is not None:
        latest = await notifications.list_for(
            scope.user_id, language=language, unread_only=False, limit=8, after=None
        )
        unread = await notifications.unread_count(scope.user_id)
        work = await open_work(scope.user_id, language)
    links = [
        link
        for _, link in _links
        if link.permission == "authenticated" or scope.has(link.permission)
    ]
    return pages.render(
        request, "home.html", notifications=latest, unread=unread, work=work, links=links
    )


async def open_work(user_id: int, language: str, limit: int = 20) -> list[dict[str, Any]]:
    """The user's open assignments, newest first, with where to open each."""
    rows = await db.fetch(
        "SELECT a.work_kind, a.item_id, a.how, a.assigned_at FROM bankcrm_assignment a"
        " JOIN bankcrm_employee e ON e.id = a.employee_id WHERE e.user_id = $1"
        " AND a.released_at IS NULL ORDER BY a.assigned_at DESC LIMIT $2",
        user_id,
        limit,
    )
    kinds = assignment.work_kinds()
    found = []
    for row in rows:
        kind = kinds.get(row["work_kind"])
        title = (kind.title.en if language == "en" else kind.title.zh) if kind else row["work_kind"]
        url = kind.url.format(item_id=quote(row["item_id"])) if kind and kind.url else ""
        found.append({**dict(row), "title": title, "url": url})
    return found


def workbench_routers(kernel: Kernel) -> list[Any]:
    """The kernel's pages, each plugin's under ``/app/<plugin>``, and the static files."""
    templates: dict[str, str] = {}
    routers: list[Any] = [
        Router(
            path="/",
            route_handlers=[login_page, home, sso_login, sso_callback],
            guards=list(CENTRAL_GUARDS),
            exception_handlers={Problem: page_problem},
            before_request=pages.remember_viewer_zone,
            include_in_schema=False,
        ),
        create_static_files_router(
            path=STATIC,
            directories=[Path(__file__).parent / "static"],
            opt={"public": True},
            include_in_schema=False,
        ),
    ]
    for plugin, answer in kernel.registry.call_each("register_pages"):
        if not isinstance(answer, Pages):
            continue
        templates[plugin] = answer.templates_package
        if answer.static:
            routers.append(
                create_static_files_router(
                    path=f"/app/{plugin}/static",
                    directories=[Path(str(resources.files(answer.templates_package))) / "static"],
                    opt={"public": True},
                    include_in_schema=False,
                )
            )
        routers.append(
            Router(
                path=f"/app/{plugin}",
                route_handlers=list(answer.handlers),
                guards=list(CENTRAL_GUARDS),
                exception_handlers={Problem: page_problem},
                before_request=pages.remember_viewer_zone,
                opt={"plugin": plugin, "page": True},
                include_in_schema=False,
            )
        )
    _links.clear()
    for plugin, answer in kernel.registry.call_each("register_workbench_links"):
        _links.extend((plugin, link) for link in answer or () if isinstance(link, WorkbenchLink))
    pages.configure(templates)
    return routers


__all__ = ["HOME", "LOGIN", "STATIC", "open_work", "workbench_routers"]
