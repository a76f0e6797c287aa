"""Who may issue, change or reveal a credential: never someone who holds less than it does.

Rotating an API client hands its new token to the caller; resetting a password or MFA lets
the caller become the user. So every operation on a credential checks, in one place, that
the caller could have granted everything the credential holds, and that the credential's
branch is in the caller's scope. A route that operates on a credential declares
``opt={"credential": "<kind>"}`` with the path parameter naming it; the central guard
:func:`credential_guard` loads the credential through the kind's loader and refuses with
403 ``credential_exceeds_caller``. Routes that create a credential call
:func:`assert_may_manage_credential` with what they are about to issue.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from bankcrm import db
from bankcrm.context import Scope, current_scope
from bankcrm.web.problems import FieldError, Problem, not_found


@dataclass(frozen=True)
class Credential:
    kind: str
    key: Any
    branch_id: int | None
    permissions: frozenset[str]
    superuser: bool = False
    """A superuser's credential: only a superuser may manage it."""


SELF = "self"
"""The caller's own credential (change your password, enrol your MFA): nothing to exceed."""

CREDENTIAL_PATH = re.compile(r"api-client|password|mfa|otp|token|session|credential|secret")
"""Paths that look like they touch a credential: their unsafe routes must declare one."""

CredentialLoader = Callable[[Any], Awaitable[Credential | None]]


async def _api_client(client_id: Any) -> Credential | None:
    # Read as the owner of the question, not through the caller's filter: a client of
    # another branch must be refused as out of scope, not silently missed.
    row = await db.fetchrow(
        "SELECT id, branch, permissions FROM bankcrm_api_client WHERE id = $1", int(client_id)
    )
    if row is None:
        return None
    return Credential("api_client", row["id"], row["branch"], frozenset(row["permissions"] or []))


async def _user(user_id: Any) -> Credential | None:
    # A user holds the union of their memberships' roles; named by a branch outside the
    # caller's scope if they have one, so that the guard hides them. The per-branch rules
    # (bankcrm.users.service) then check each membership against the caller's own there.
    rows = await db.fetch(
        "SELECT u.id, u.superuser, m.branch, r.permissions FROM piccolo_user u"
        ' LEFT JOIN bankcrm_membership m ON m."user" = u.id'
        " LEFT JOIN bankcrm_role r ON r.id = m.role WHERE u.id = $1 ORDER BY m.id",
        int(user_id),
    )
    if not rows:
        return None
    scope = current_scope()
    reach = scope.branch_ids if scope else frozenset()
    held = [row["branch"] for row in rows if row["branch"] is not None]
    outside = [branch for branch in held if branch not in reach]
    return Credential(
        "user",
        rows[0]["id"],
        (outside or held or [None])[0],
        frozenset(p for row in rows for p in row["permissions"] or []),
        superuser=bool(rows[0]["superuser"]),
    )


LOADERS: dict[str, tuple[str, CredentialLoader]] = {
    "api_client": ("client_id", _api_client),
    "user": ("user_id", _user),
}
"""kind -> (path parameter naming the credential, loader)."""


def exceeding(scope: Scope, credential: Credential, where: str = "body") -> list[FieldError]:
    """What ``credential`` holds that ``scope`` could not grant (empty: may manage it);
    ``where`` is the request's part naming the credential (its path key, or the body that
    describes a new one)."""
    if scope.is_superuser:
        return []
    problems = []
    if credential.superuser:
        problems.append(FieldError(where, "belongs to a superuser"))
    if credential.branch_id is not None and credential.branch_id not in scope.branch_ids:
        problems.append(FieldError(where, "its branch is outside your scope"))
    missing = sorted(p for p in credential.permissions if not scope.has(p))
    if missing:
        problems.append(FieldError(where, f"holds what you lack: {', '.join(missing)}"))
    return problems


def assert_may_manage_credential(scope: Scope, credential: Credential, where: str = "body") -> None:
    problems = exceeding(scope, credential, where)
    if problems:
        raise Problem(
            403,
            f"this {credential.kind.replace('_', ' ')} holds more than you may grant",
            problems,
            "credential_exceeds_caller",
        )


async def credential_guard(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    kind = handler.opt.get("credential")
    if kind is None or kind == SELF:
        return
    scope = current_scope()
    if scope is None:
        raise Problem(401, "log in, or send a valid API token", code="unauthenticated")
    if kind not in LOADERS:
        raise Problem(403, f"no loader for credentials of kind {kind!r}", code="forbidden")
    parameter, load = LOADERS[kind]
    if parameter not in connection.path_params:
        return  # creation: the handler checks what it is about to issue
    credential = await load(connection.path_params[parameter])
    hidden = (
        credential is not None
        and not scope.is_superuser
        and (credential.branch_id is not None and credential.branch_id not in scope.branch_ids)
    )
    if credential is None or hidden:
        raise not_found(f"{kind.replace('_', ' ')} {connection.path_params[parameter]}")
    assert_may_manage_credential(scope, credential, f"path.{parameter}")


def undeclared_credential_routes(app: Any) -> list[str]:
    """Unsafe routes whose path looks like a credential's but declare no ``credential``."""
    from litestar.routes import HTTPRoute

    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not CREDENTIAL_PATH.search(route.path):
            continue
        for handler in route.route_handlers:
            unsafe = set(handler.http_methods) & {"POST", "PUT", "PATCH", "DELETE"}
            if unsafe and not handler.opt.get("public") and "credential" not in handler.opt:
                found.append(f"{','.join(sorted(unsafe))} {route.path}")
    return sorted(found)
