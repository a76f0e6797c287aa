"""Per-request scope: reset, resolve the caller, bind, log.

The scope context variable is reset at the entry of every request: with keep-alive
connections a previous request's context can otherwise leak into the next one (a known
CPython/uvicorn behaviour), and a stale scope would be a cross-branch leak.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from litestar.connection import ASGIConnection
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from bankcrm import labels, messages
from bankcrm.context import set_scope

log = logging.getLogger("bankcrm.access")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class ScopeMiddleware(ASGIMiddleware):
    def __init__(self, resolver: Any, metrics: Any = None) -> None:
        self.resolver = resolver
        self.metrics = metrics

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        set_scope(None)
        headers = dict(scope.get("headers", []))
        supplied = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = supplied if _REQUEST_ID.match(supplied) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope)
        actor = await self.resolver(connection, request_id)
        set_scope(actor)
        labels.use_language(messages.language_of(connection.headers, connection.cookies))
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await next_app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("path_template") or scope.get("path", "")
            if self.metrics is not None:
                self.metrics.observe(scope.get("method", ""), str(route), status, elapsed)
            log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope.get("method"),
                    "path": scope.get("path"),
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                    "actor": actor.actor if actor else None,
                },
            )
            set_scope(None)
