"""The admin's staff session: logging in, the acting user behind a request, changing the
password (which ends the session).

Logins and password changes go to :mod:`bankcrm.auth` (rate limit, lockout, TOTP, login
journal, password policy), never to piccolo's own endpoints, whose check has nothing but
an in-memory rate limit. The session is the kernel's, so it serves the REST API as well.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bankcrm import auth, db
from bankcrm.admin.exchange import Request, cookie_header, read_form, send_json, text_field
from bankcrm.context import Scope as ActorScope
from bankcrm.context import current_scope
from bankcrm.web.problems import Problem

SESSION_COOKIE = "id"
"""piccolo's session cookie name, which the kernel's session middleware reads too."""


async def login(request: Request, *, secure: bool) -> None:
    """The admin's login form, answered by :func:`bankcrm.auth.login`."""
    data = await read_form(request)
    username = text_field(data, "username", 150)
    password = text_field(data, "password", 128)
    otp = text_field(data, "mfa_code", 10) or None
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
    cookie = cookie_header(
        SESSION_COOKIE, result.session_token, path="/", max_age=max_age, secure=secure
    )
    await send_json(request.send, 200, {"message": "logged in"}, [cookie])


async def acting_user(request: Request, *, foreign_actors: bool) -> ActorScope:
    """The kernel's scope, and only if it belongs to the staff session piccolo will use.

    piccolo-admin acts as the user of the session cookie; the kernel resolved the scope
    from a bearer token if one was sent, else from that same cookie, unless a plugin's
    ``resolve_actor`` (single sign-on; ``foreign_actors``) answered first: then the two
    are compared.
    """
    scope = current_scope()
    token = request.connection.cookies.get(SESSION_COOKIE)
    if scope is None or scope.user_id is None or not token:
        raise Problem(401, "log in to use the admin", code="unauthenticated")
    if "authorization" in request.connection.headers or (
        foreign_actors and await auth.user_for_session(token) != scope.user_id
    ):
        raise Problem(
            401, "the admin needs a staff session of the acting user", code="unauthenticated"
        )
    return scope


async def require_admin_ui(actor: ActorScope) -> None:
    """What piccolo-admin checks for what it serves: ``BaseUser.admin`` (and active)."""
    allowed = await db.fetchval(
        "SELECT admin AND active FROM piccolo_user WHERE id = $1", actor.user_id
    )
    if not allowed:
        raise Problem(401, "this account may not use the admin UI", code="unauthenticated")


async def change_password(request: Request, actor: ActorScope, *, secure: bool) -> None:
    """By :func:`bankcrm.auth.change_password`; every session ends, this one too."""
    assert actor.user_id is not None
    data = await read_form(request)
    current = text_field(data, "current_password", 128)
    new = text_field(data, "new_password", 128)
    if not current or not new:
        raise Problem(422, "enter the current and the new password", code="invalid")
    if new != text_field(data, "confirm_new_password", 128):
        raise Problem(422, "the new passwords do not match", code="invalid")
    try:
        await auth.change_password(actor.user_id, current, new)
    except (auth.PasswordRefused, auth.TooManyFailures) as exc:
        renamed = {"body.current": "body.current_password", "body.new": "body.new_password"}
        raise auth.refusal_problem(exc, renamed) from exc
    gone = cookie_header(SESSION_COOKIE, "", path="/", max_age=0, secure=secure)
    await send_json(request.send, 200, {"message": "password changed; log in again"}, [gone])
