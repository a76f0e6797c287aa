"""Central guards: every plugin route is behind authentication, enablement and permission.

A handler declares its permission in ``opt={"permission": "<plugin>.<object>.<verb>"}``; a
handler without one is refused (fail-closed) unless it is marked ``opt={"public": True}``.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from bankcrm import branches
from bankcrm.context import current_scope, set_scope
from bankcrm.credentials import credential_guard
from bankcrm.web.problems import Problem


async def require_actor(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    if handler.opt.get("public"):
        return
    if current_scope() is None:
        raise Problem(401, "log in, or send a valid API token", code="unauthenticated")


async def plugin_enabled(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Narrow the scope to the branches where this route's plugin is enabled.

    Where it is enabled for none of the actor's branches the plugin is invisible: 404.
    """
    plugin = handler.opt.get("plugin")
    scope = current_scope()
    if plugin is None or scope is None:
        return
    tree = await branches.snapshot()
    narrowed = scope.narrowed(tree.enabled_branches(plugin))
    if not narrowed.branch_ids:
        raise Problem(
            404, f"no route here: {plugin!r} is not enabled for your branch", code="plugin_disabled"
        )
    set_scope(narrowed)


async def require_permission(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    if handler.opt.get("public"):
        return
    permission = handler.opt.get("permission")
    scope = current_scope()
    if scope is None:
        raise Problem(401, "log in, or send a valid API token", code="unauthenticated")
    if permission is None:
        raise Problem(403, "this route declares no permission and is closed", code="forbidden")
    if permission == "authenticated":
        return
    if not scope.has(permission):
        raise Problem(403, f"you lack the permission {permission!r}", code="forbidden")
    from bankcrm.webapp import current_kernel

    vetoes = current_kernel().hook.permission_check(
        scope=scope, permission=permission, resource=None
    )
    if any(v is False for v in vetoes):
        raise Problem(403, f"a rule denies {permission!r} here", code="forbidden")


CENTRAL_GUARDS = [require_actor, plugin_enabled, require_permission, credential_guard]
