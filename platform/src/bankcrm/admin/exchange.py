"""The ASGI plumbing every part of the admin gate shares: the request, the wrapped app's
answer held back (:class:`Captured`), bodies read and replayed, answers sent.

The gate never streams piccolo-admin's answer through: it is captured whole, checked,
rewritten (labels, masks) or held until a commit, then sent with a fresh length.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import parse_qsl

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.types import HTTPReceiveMessage, HTTPScope, Message, Receive, Scope, Send

from bankcrm.web.problems import FieldError, Problem

ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_BODY_BYTES = 1024 * 1024
"""Admin writes are single rows of JSON; media uploads are not offered."""

FORM_BODY_BYTES = 64 * 1024
"""Logins, password changes and forms: a few short fields."""

SAFE_METHODS = frozenset({"GET", "HEAD"})


@dataclass
class Captured:
    """A response of the wrapped app, held back until the gate has checked or committed."""

    status: int = 0
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            self.body.extend(message.get("body", b""))

    def header(self, name: bytes) -> str:
        for key, value in self.headers:
            if key.lower() == name:
                return value.decode("latin-1")
        return ""

    def json(self) -> Any:
        return json.loads(self.body)

    def replace_json(self, data: Any) -> None:
        self.body = bytearray(json.dumps(data, ensure_ascii=False).encode())

    @classmethod
    def of_json(cls, status: int, data: Any) -> Captured:
        captured = cls(status, [(b"content-type", b"application/json")])
        captured.replace_json(data)
        return captured


@dataclass
class Request:
    scope: Scope
    receive: Receive
    send: Send
    connection: ASGIConnection[Any, Any, Any, Any]

    @classmethod
    def of(cls, scope: Scope, receive: Receive, send: Send) -> Request:
        return cls(scope, receive, send, ASGIConnection(scope))

    @property
    def method(self) -> str:
        return cast(HTTPScope, self.scope)["method"].upper()

    @property
    def content_type(self) -> str:
        return self.connection.headers.get("content-type", "")


async def run(app: ASGIApp, scope: Scope, receive: Receive) -> Captured:
    """The wrapped app's whole answer, not yet sent."""
    captured = Captured()
    await app(scope, receive, captured.send)
    return captured


async def read_body(receive: Receive, limit: int = MAX_BODY_BYTES) -> bytes:
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Problem(400, "the client went away before the request body arrived")
        body.extend(cast(bytes, message.get("body", b"")))
        if len(body) > limit:
            raise Problem(413, f"admin requests are limited to {limit} bytes", code="too_large")
        if not message.get("more_body", False):
            return bytes(body)


def replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the app the body already read, then the real stream."""
    sent = False

    async def again() -> HTTPReceiveMessage:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return cast(HTTPReceiveMessage, await receive())

    return again


def parse_body(body: bytes, content_type: str) -> dict[str, Any]:
    if content_type.startswith("application/x-www-form-urlencoded"):
        return dict(parse_qsl(body.decode("utf-8", "replace")))
    try:
        data = json.loads(body or b"{}")
    except ValueError as exc:
        raise Problem(400, "the body is not valid JSON", code="validation") from exc
    if not isinstance(data, dict):
        raise Problem(400, "the body must be a JSON object", code="validation")
    return data


async def read_form(request: Request) -> dict[str, Any]:
    """A short body of fields, as JSON or form text."""
    body = await read_body(request.receive, FORM_BODY_BYTES)
    return parse_body(body, request.content_type)


def text_field(data: dict[str, Any], key: str, limit: int) -> str:
    value = data.get(key)
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or len(value) > limit:
        raise Problem(
            422,
            f"{key}: expected text of at most {limit} characters",
            [FieldError(f"body.{key}", "invalid")],
            "invalid",
        )
    return value


def flag_field(value: Any, default: bool) -> bool:
    """A checkbox as JSON or as form text (``"false"`` is not true)."""
    if value is None or value == "":
        return default
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "on", "yes")
    return bool(value)


def cookie_header(
    key: str, value: str, *, path: str, max_age: int, secure: bool
) -> tuple[bytes, bytes]:
    """The admin's cookies are all HTTP-only and same-site lax; ``Secure`` in production."""
    cookie = Cookie(
        key=key,
        value=value,
        path=path,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=secure,
    )
    name, encoded = cookie.to_encoded_header()
    return name, encoded


async def send_body(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def send_json(
    send: Send,
    status: int,
    data: Any,
    headers: list[tuple[bytes, bytes]] | None = None,
    content_type: str = "application/json",
) -> None:
    body = json.dumps(data, ensure_ascii=False).encode()
    await send_body(
        send, status, body, [(b"content-type", content_type.encode()), *(headers or [])]
    )


async def relay(
    send: Send, captured: Captured, extra_headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """Send a captured answer, its length recounted (the gate may have rewritten it)."""
    headers = [(k, v) for k, v in captured.headers if k.lower() != b"content-length"]
    await send_body(send, captured.status, bytes(captured.body), headers + (extra_headers or []))
