"""The Litestar application, assembled from the kernel and every plugin's routes."""

from __future__ import annotations

import html
import logging
from pathlib import Path
from typing import Any

from litestar import Litestar, MediaType, Request, Response, Router, get
from litestar.config.app import AppConfig
from litestar.connection import ASGIConnection
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.static_files import create_static_files_router

from bankcrm import __version__, branches, db
from bankcrm.assignment.routes import assignment_router
from bankcrm.context import Scope
from bankcrm.notifications.routes import notification_router
from bankcrm.observability import Metrics
from bankcrm.organisation.routes import organisation_router
from bankcrm.runtime import Kernel, activate, running_kernel
from bankcrm.users.routes import user_router
from bankcrm.web.bodies import BodyGate, security_headers
from bankcrm.web.guards import CENTRAL_GUARDS
from bankcrm.web.kernel_routes import kernel_router
from bankcrm.web.locations import CreatedLocation
from bankcrm.web.oauth_routes import oauth_router
from bankcrm.web.openapi import TimeOfDaySchema
from bankcrm.web.openapi import complete as complete_openapi
from bankcrm.web.problems import EXCEPTION_HANDLERS, problem_response
from bankcrm.web.scope_middleware import ScopeMiddleware
from bankcrm.workbench.routes import workbench_routers

log = logging.getLogger(__name__)

UNAUTHENTICATED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
"""Probes that must answer without touching sessions (every other path resolves an actor)."""

MAX_BODY_BYTES = 10 * 1024 * 1024
"""Default body limit; upload routes raise their own (``request_max_body_size``)."""


def current_kernel() -> Kernel:
    return running_kernel()


async def resolve_scope(
    kernel: Kernel, connection: ASGIConnection[Any, Any, Any, Any], request_id: str
) -> Scope | None:
    path = connection.scope.get("path", "")
    if path in UNAUTHENTICATED_PATHS or path.startswith("/schema"):
        return None
    scope: Scope | None = await kernel.registry.call_first("resolve_actor", connection=connection)
    if scope is None:
        return None
    narrowed = await kernel.registry.call_first("resolve_branch_scope", scope=scope)
    if narrowed is not None:
        scope = scope.narrowed(frozenset(narrowed))
    return scope


@get("/healthz", opt={"public": True}, include_in_schema=False, media_type=MediaType.JSON)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@get("/readyz", opt={"public": True}, include_in_schema=False, media_type=MediaType.JSON)
async def readyz(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    try:
        await db.fetchval("SELECT 1")
        await branches.snapshot()
    except Exception as exc:
        log.warning("not ready", exc_info=exc)
        return problem_response(request, 503, f"database unavailable: {type(exc).__name__}")
    return Response({"status": "ready", "version": __version__})


SWAGGER_ASSETS = "/schema/assets"
SWAGGER_FAVICON = f"<link rel='icon' type='image/png' href='{SWAGGER_ASSETS}/favicon-32x32.png'>"


KERNEL_ASSETS = "/schema/bankcrm"


class ApiViewer(SwaggerRenderPlugin):
    """Swagger UI started by a script file: the Content-Security-Policy forbids inline ones."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        title = html.escape(str(openapi_schema["info"]["title"]))
        return (
            "<!DOCTYPE html><html><head>"
            f"<title>{title}</title>{self.favicon}<meta charset='utf-8'/>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<link href='{self.css_url}' rel='stylesheet'>"
            f"<script src='{self.js_url}'></script>"
            f"<script src='{self.standalone_preset_js_url}'></script>"
            f"<script src='{KERNEL_ASSETS}/swagger-init.js'></script>"
            "</head><body><div id='swagger-container'></div></body></html>"
        ).encode()


def kernel_assets() -> Any:
    return create_static_files_router(
        path=KERNEL_ASSETS,
        directories=[Path(__file__).parent / "web" / "static"],
        opt={"public": True},
        include_in_schema=False,
    )


def swagger_assets() -> Any:
    """Swagger UI's files from the swagger-ui-py wheel: the API viewer loads nothing from a CDN."""
    import swagger_ui

    directory = Path(swagger_ui.__file__).parent / "static"
    return create_static_files_router(
        path=SWAGGER_ASSETS,
        directories=[directory],
        opt={"public": True},
        include_in_schema=False,
    )


def plugin_routers(kernel: Kernel) -> list[Router]:
    routers = []
    for name, handlers in kernel.registry.call_each("register_routes"):
        if name == "bankcrm" or not handlers:
            continue
        routers.append(
            Router(
                path=f"/api/v1/{name}",
                route_handlers=list(handlers),
                guards=list(CENTRAL_GUARDS),
                opt={"plugin": name},
                tags=[name],
            )
        )
    return routers


def create_app(kernel: Kernel, *, with_admin: bool = True) -> Litestar:
    activate(kernel)
    metrics = Metrics()

    @get("/metrics", opt={"public": True}, include_in_schema=False, media_type=MediaType.TEXT)
    async def prometheus_metrics() -> Response[bytes]:
        return Response(await metrics.render(), media_type="text/plain; version=0.0.4")

    async def resolver(connection: ASGIConnection[Any, Any, Any, Any], request_id: str) -> Any:
        return await resolve_scope(kernel, connection, request_id)

    handlers: list[Any] = [
        healthz,
        readyz,
        prometheus_metrics,
        kernel_router(),
        oauth_router(),
        notification_router(),
        organisation_router(),
        assignment_router(),
        user_router(),
        swagger_assets(),
        kernel_assets(),
    ]
    handlers.extend(plugin_routers(kernel))
    handlers.extend(workbench_routers(kernel))
    if with_admin:
        from bankcrm.admin.app import admin_handlers

        handlers.extend(admin_handlers(kernel))

    async def on_startup(app: Litestar) -> None:
        await kernel.registry.call_all("startup", app=app)

    async def on_shutdown(app: Litestar) -> None:
        await kernel.registry.call_all("shutdown", app=app)

    config = AppConfig(
        route_handlers=handlers,
        middleware=[
            ScopeMiddleware(resolver, metrics),
            BodyGate(
                max_json_bytes=kernel.settings.max_json_bytes,
                allowed_hosts=kernel.settings.allowed_hosts,
            ),
            CreatedLocation(),
        ],
        before_send=[security_headers(production=kernel.settings.production)],
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=OpenAPIConfig(
            title="bankcrm",
            version=__version__,
            description="Bank CRM platform: kernel and plugin REST API.",
            path="/schema",
            render_plugins=[
                ApiViewer(
                    path="/",
                    js_url=f"{SWAGGER_ASSETS}/swagger-ui-bundle.js",
                    css_url=f"{SWAGGER_ASSETS}/swagger-ui.css",
                    standalone_preset_js_url=f"{SWAGGER_ASSETS}/swagger-ui-standalone-preset.js",
                    favicon=SWAGGER_FAVICON,
                ),
                JsonRenderPlugin(),
            ],
        ),
        plugins=[TimeOfDaySchema()],
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
        debug=False,
        request_max_body_size=MAX_BODY_BYTES,
    )
    app = Litestar.from_config(config)
    # Built once here (Litestar caches it), with the kernel's guards, problem answers,
    # security schemes and upload bodies written in for every route.
    complete_openapi(app)
    return app
