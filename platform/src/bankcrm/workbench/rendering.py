"""Rendering staff pages: one Jinja2 environment over the kernel's and the plugins' templates.

Autoescaping is on for every template; pages carry no inline script (the
content-security policy refuses it), so behaviour lives in ``/app/static/workbench.js``.
Times are shown in the viewer's zone (their home branch's, Asia/Shanghai by default) in
the Chinese form ``2026年12月4日 14:05``, or ``2026-12-04 14:05`` in English; money with
thousands separators and two decimals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
import msgspec
from litestar import Request, Response

from bankcrm import business_calendar
from bankcrm.context import current_scope

LANGUAGE_COOKIE = "bankcrm_lang"
LANGUAGES = ("zh", "en")
DEFAULT_ZONE = business_calendar.DEFAULT_ZONE
ZONE_STATE = "viewer_zone"
"""Where :func:`remember_viewer_zone` keeps the viewer's zone on the request."""

_environment: jinja2.Environment | None = None


def configure(template_packages: Mapping[str, str]) -> None:
    """Load the kernel's templates and each plugin's (``plugin -> package``)."""
    global _environment
    loaders: list[jinja2.BaseLoader] = [jinja2.PackageLoader("bankcrm.workbench", "templates")]
    loaders += [
        jinja2.PackageLoader(package, "templates") for package in template_packages.values()
    ]
    environment = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["money"] = money
    environment.filters["plain"] = plain
    _environment = environment


def language_of(request: Request[Any, Any, Any]) -> str:
    chosen = request.query_params.get("lang") or request.cookies.get(LANGUAGE_COOKIE, "zh")
    return chosen if chosen in LANGUAGES else "zh"


def localtime(value: datetime | date | None, language: str, zone: ZoneInfo = DEFAULT_ZONE) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        local = value.astimezone(zone) if value.tzinfo else value
        if language == "en":
            return local.strftime("%Y-%m-%d %H:%M")
        return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"
    if language == "en":
        return value.isoformat()
    return f"{value.year}年{value.month}月{value.day}日"


def money(value: Any) -> str:
    try:
        amount = Decimal(str(value))
    except ArithmeticError:
        return str(value)
    return f"{amount:,.2f}"


def plain(value: Any) -> Any:
    """Structs and dataclasses as dicts and lists, for templates that walk any shape."""
    if is_dataclass(value) and not isinstance(value, type):
        return {k: plain(v) for k, v in asdict(value).items()}
    if isinstance(value, msgspec.Struct):
        return {f: plain(getattr(value, f)) for f in value.__struct_fields__}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


async def remember_viewer_zone(request: Request[Any, Any, Any]) -> None:
    """Pages' ``before_request``: the viewer's zone, looked up once per request, for
    :func:`render`'s ``when`` (rendering templates is not async)."""
    scope = current_scope()
    home = scope.home_branch_id if scope else None
    request.state[ZONE_STATE] = await business_calendar.viewer_zone(home)


def render(
    request: Request[Any, Any, Any], template: str, *, status_code: int = 200, **context: Any
) -> Response[str]:
    if _environment is None:
        raise RuntimeError("staff pages are not configured: create the app first")
    language = language_of(request)
    scope = current_scope()

    def t(zh: str, en: str) -> str:
        return en if language == "en" else zh

    html = _environment.get_template(template).render(
        lang=language,
        t=t,
        when=lambda value: localtime(value, language, request.state.get(ZONE_STATE, DEFAULT_ZONE)),
        scope=scope,
        username=scope.username if scope else "",
        path=request.url.path,
        **context,
    )
    response = Response(html, status_code=status_code, media_type="text/html; charset=utf-8")
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, language, samesite="strict", httponly=True)
    return response


__all__ = [
    "configure",
    "language_of",
    "localtime",
    "money",
    "plain",
    "remember_viewer_zone",
    "render",
]
