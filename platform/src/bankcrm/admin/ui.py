"""The kernel's additions to piccolo-admin's pages, which it cannot be configured to do:
the menu titled by each screen's title, no button for what the gate would refuse, time
inputs in the viewer's zone.

A script and a stylesheet of this package (``static/``), served at ``bankcrm/``, are
linked into the admin's page; the script reads :func:`screens` (``api/screens/``) for the
signed-in viewer, titles the menu entries and headings, and marks the page with what is
denied on the table shown (``data-bankcrm-deny="create edit delete"``), which the
stylesheet hides. The gate refuses those requests all the same: this only spares the
clerk the refusal.
"""

from __future__ import annotations

from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from bankcrm.admin.exchange import Captured
from bankcrm.admin.language import text
from bankcrm.admin.screens import ScreenSpec
from bankcrm.context import Scope as ActorScope
from bankcrm.web.problems import Problem

ASSETS = {
    "admin.js": "text/javascript; charset=utf-8",
    "admin.css": "text/css; charset=utf-8",
}
LINKS = (
    b'<link rel="stylesheet" href="./bankcrm/admin.css">'
    b'<script defer src="./bankcrm/admin.js"></script></head>'
)


def denied(spec: ScreenSpec, actor: ActorScope) -> list[str]:
    """The row actions the gate refuses ``actor`` on ``spec``."""
    if not spec.may_write(actor):
        return ["create", "edit", "delete"]
    return [] if spec.creatable else ["create"]


def screens(
    visible: list[ScreenSpec], actor: ActorScope, language: str, zone: ZoneInfo
) -> dict[str, Any]:
    return {
        "zone": zone.key,
        "screens": {
            spec.tablename: {
                "title": text(spec.screen.title, language),
                "deny": denied(spec, actor),
                "row_page": spec.screen.row_page,
                "row_page_title": text(spec.screen.row_page_title, language)
                if spec.screen.row_page_title
                else None,
            }
            for spec in visible
        },
    }


def asset(name: str) -> Captured:
    """One of the script and stylesheet, as a captured answer."""
    if name not in ASSETS:
        raise Problem(404, "no such admin page", code="not_found")
    body = resources.files("bankcrm.admin").joinpath("static", name).read_bytes()
    captured = Captured(
        200,
        [(b"content-type", ASSETS[name].encode()), (b"cache-control", b"no-cache")],
    )
    captured.body.extend(body)
    return captured


def with_links(page: Captured) -> Captured:
    """piccolo-admin's page with the script and stylesheet linked in its head."""
    if page.status == 200 and page.header(b"content-type").startswith("text/html"):
        page.body = bytearray(bytes(page.body).replace(b"</head>", LINKS, 1))
    return page
