"""``201 Created`` answers say where the created resource lives (``Location``), and so do
``202 Accepted`` answers of handlers that declare a ``location`` (where to follow the
accepted work).

Handlers return the created record; this middleware adds the header from it, for the
kernel's routes and every plugin's, so no handler has to build a URL. The resource is the
request path plus the answer's ``id`` (``POST /customers`` -> ``/customers/17``) unless the
handler names it: ``opt={"location": "/api/v1/<plugin>/merges/{id}"}``, whose ``{name}``
placeholders are filled from the answer's fields, then the request's path parameters.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


class MissingLocation(LookupError):
    """A 201 answer whose resource cannot be named: the handler must declare ``location``."""


def created_location(scope: Scope, body: Any) -> str:
    """Where the resource that ``body`` describes lives, for the request ``scope``."""
    handler = scope.get("route_handler")
    template = getattr(handler, "opt", {}).get("location")
    fields = body if isinstance(body, dict) else {}
    if template is None:
        if "id" not in fields:
            raise MissingLocation(f"{scope.get('path')}: the answer has no id")
        return f"{str(scope.get('path', '')).rstrip('/')}/{quote(str(fields['id']), safe='')}"
    parameters = {**scope.get("path_params", {}), **fields}

    def fill(found: re.Match[str]) -> str:
        if found[1] not in parameters:
            raise MissingLocation(f"{template}: no {found[1]!r} in the answer or the path")
        return quote(str(parameters[found[1]]), safe="")

    return _PLACEHOLDER.sub(fill, str(template))


class CreatedLocation(ASGIMiddleware):
    """Holds a 201's start message until its (small, JSON) body arrives, then adds
    ``Location`` when the handler did not."""

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if scope["type"] != "http" or scope.get("method") not in {"POST", "PUT"}:
            await next_app(scope, receive, send)
            return
        held: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def send_with_location(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                named = getattr(scope.get("route_handler"), "opt", {}).get("location")
                if (message["status"] == 201 or (message["status"] == 202 and named)) and not any(
                    name.lower() == b"location" for name, _ in headers
                ):
                    held["start"] = message
                    return
            elif message["type"] == "http.response.body" and "start" in held:
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                raw = b"".join(chunks)
                start = held.pop("start")
                try:
                    location = created_location(scope, json.loads(raw) if raw else None)
                except (MissingLocation, ValueError):
                    location = None
                if location is not None:
                    start["headers"] = [*start.get("headers", []), (b"location", location.encode())]
                await send(start)
                await send({"type": "http.response.body", "body": raw, "more_body": False})
                return
            await send(message)

        await next_app(scope, receive, send_with_location)
