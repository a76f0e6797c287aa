"""piccolo-admin's double-submit CSRF token, checked by the gate for every unsafe request.

piccolo-admin checks it again for what it serves itself; the logins, password changes and
forms the gate answers would otherwise go unchecked. The kernel configures no Litestar
CSRF; should it ever, its config must exclude ``/admin``, whose cookie and header have the
same names.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from bankcrm.admin.exchange import Request
from bankcrm.web.problems import Problem

CSRF_COOKIE = "csrftoken"
CSRF_HEADER = "x-csrftoken"


def check_csrf(request: Request, allowed_hosts: tuple[str, ...]) -> None:
    """The cookie and the header agree; over HTTPS the origin is one of ``allowed_hosts``."""
    cookie = request.connection.cookies.get(CSRF_COOKIE, "")
    header = request.connection.headers.get(CSRF_HEADER, "")
    if not cookie or not header or not hmac.compare_digest(cookie, header):
        raise Problem(403, "the CSRF token is missing or does not match the cookie", code="csrf")
    if request.scope.get("scheme") == "https":
        origin = request.connection.headers.get("origin") or request.connection.headers.get(
            "referer", ""
        )
        if urlsplit(origin).hostname not in allowed_hosts:
            raise Problem(403, "the request's origin is not an allowed host", code="csrf")
