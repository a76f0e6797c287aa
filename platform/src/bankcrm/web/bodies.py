"""What a request body may be, checked once for every route before any handler parses it.

A route accepts JSON unless it declares otherwise (``opt={"body": "multipart"}`` for
uploads). For JSON the gate answers, with a problem body:

* 415 for another media type (``text/plain`` included: a cross-site form can send that
  without a preflight) and for a charset other than UTF-8 or the GB family, which is
  decoded as GB18030 and handed on as UTF-8;
* 413 above the size limit (``BANKCRM_MAX_JSON_BYTES``, 1 MiB by default);
* 400 for nesting deeper than :data:`MAX_JSON_DEPTH`, counted without recursion before the
  JSON parser runs (a deep body made the parser raise ``RecursionError``: a 500);
* 422 for a string holding a control or bidirectional-override character, with the JSON
  path of the value; strings are handed on in Unicode normal form C.

Unsafe requests authenticated by the session cookie must come from the site itself
(``Sec-Fetch-Site``/``Origin``), so a cross-site page cannot write with a clerk's session.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

from litestar import Request
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from bankcrm.text import UNSAFE_MESSAGE, has_unsafe_characters, normal_text
from bankcrm.web.problems import FieldError, problem_response

MAX_JSON_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 32
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
GB_CHARSETS = frozenset({"gbk", "gb2312", "gb18030", "cp936", "x-gbk"})
UTF8_CHARSETS = frozenset({"utf-8", "utf8"})
_SESSION_COOKIE = re.compile(rb"(?:^|;)\s*id=")
"""The session cookie piccolo-admin and the API share."""


class BodyRefused(Exception):
    def __init__(self, status: int, detail: str, errors: list[FieldError], code: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors
        self.code = code


def nesting_depth_exceeds(raw: bytes, limit: int) -> bool:
    """Whether JSON text nests arrays/objects deeper than ``limit`` (strings skipped)."""
    depth = 0
    in_string = False
    escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            yield where, item
        elif isinstance(item, dict):
            for key, sub in item.items():
                yield f"{where}.{key}", key
                stack.append((sub, f"{where}.{key}"))
        elif isinstance(item, list):
            stack.extend((sub, f"{where}[{i}]") for i, sub in enumerate(item))


def _normalised(value: Any) -> Any:
    if isinstance(value, str):
        return normal_text(value)
    if isinstance(value, dict):
        return {_normalised(k): _normalised(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalised(v) for v in value]
    return value


def too_large(limit: int) -> BodyRefused:
    return BodyRefused(413, f"the body is larger than {limit} bytes", [], "body_too_large")


def checked_json(raw: bytes, max_bytes: int = MAX_JSON_BYTES) -> bytes:
    """``raw`` (UTF-8 JSON) as the handler may see it, or :class:`BodyRefused`."""
    if len(raw) > max_bytes:
        raise too_large(max_bytes)
    if nesting_depth_exceeds(raw, MAX_JSON_DEPTH):
        raise BodyRefused(
            400,
            f"the body nests arrays or objects deeper than {MAX_JSON_DEPTH} levels",
            [FieldError("body", f"nested deeper than {MAX_JSON_DEPTH} levels")],
            "body_too_deep",
        )
    try:
        parsed = json.loads(raw)
    except ValueError:
        return raw  # the handler's own decoder names the syntax error
    bad = [
        FieldError(path, UNSAFE_MESSAGE)
        for path, text in _strings(parsed, "body")
        if has_unsafe_characters(text)
    ]
    if bad:
        raise BodyRefused(422, "; ".join(f"{e.field}: {e.message}" for e in bad), bad, "invalid")
    normal = _normalised(parsed)
    if normal == parsed:
        return raw
    return json.dumps(normal, ensure_ascii=False).encode()


def _media_type(headers: dict[bytes, bytes]) -> tuple[str, dict[str, str]]:
    value = headers.get(b"content-type", b"").decode("latin-1")
    kind, _, rest = value.partition(";")
    params = {}
    for part in rest.split(";"):
        name, _, param = part.partition("=")
        if name.strip():
            params[name.strip().lower()] = param.strip().strip('"').lower()
    return kind.strip().lower(), params


def _is_json(kind: str) -> bool:
    return kind == "application/json" or (
        kind.startswith("application/") and kind.endswith("+json")
    )


def _decoded_as_utf8(raw: bytes, charset: str | None) -> bytes:
    if charset is None or charset in UTF8_CHARSETS:
        return raw
    if charset in GB_CHARSETS:
        try:
            return raw.decode("gb18030").encode()
        except UnicodeDecodeError as exc:
            raise BodyRefused(
                400,
                f"the body is not valid {charset}: byte {exc.start}",
                [FieldError("body", f"not valid {charset} at byte {exc.start}")],
                "bad_encoding",
            ) from exc
    raise BodyRefused(
        415,
        f"charset {charset!r} is not supported; send UTF-8 (or GB18030/GBK)",
        [FieldError("header.content-type", f"unsupported charset {charset!r}")],
        "unsupported_media_type",
    )


def _cross_site(headers: dict[bytes, bytes], allowed_hosts: frozenset[str]) -> bool:
    """An unsafe request carried by the session cookie from another site: the browser says
    so (``Sec-Fetch-Site``), or its ``Origin`` is neither the host asked nor an allowed one
    (behind a proxy that rewrites ``Host``)."""
    if not _SESSION_COOKIE.search(headers.get(b"cookie", b"")) or b"authorization" in headers:
        return False
    fetch_site = headers.get(b"sec-fetch-site", b"").decode("latin-1").lower()
    if fetch_site == "cross-site":
        return True
    origin = headers.get(b"origin", b"").decode("latin-1")
    if not origin:
        return False
    if origin == "null":
        return True
    host = headers.get(b"host", b"").decode("latin-1").lower()
    parts = urlsplit(origin.lower())
    return parts.netloc != host and not {parts.netloc, parts.hostname} & allowed_hosts


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _declared_length(headers: dict[bytes, bytes]) -> int:
    value = headers.get(b"content-length", b"").strip()
    if not value:
        return 0
    if not value.isdigit():
        raise BodyRefused(
            400,
            "the Content-Length header is not a number",
            [FieldError("header.content-length", "not a number")],
            "bad_request",
        )
    return int(value)


class BodyGate(ASGIMiddleware):
    """Runs after routing: the route's ``opt["body"]`` says what it accepts."""

    def __init__(
        self, *, max_json_bytes: int = MAX_JSON_BYTES, allowed_hosts: tuple[str, ...] = ()
    ) -> None:
        self.max_json_bytes = max_json_bytes
        self.allowed_hosts = frozenset(host.lower() for host in allowed_hosts)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if scope["type"] != "http" or scope.get("method") not in UNSAFE_METHODS:
            await next_app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        try:
            if _cross_site(headers, self.allowed_hosts):
                raise BodyRefused(
                    403,
                    "a request with the session cookie must come from this site",
                    [FieldError("header.origin", "cross-site request")],
                    "cross_site",
                )
            path = scope.get("path", "")
            if path.startswith("/admin/api/") and _is_json(_media_type(headers)[0]):
                # The admin's row writes: the same text rules as the API's bodies.
                receive = await self._gate_json(scope, headers, receive)
            elif path.startswith("/api/"):
                receive = await self._gate_api(scope, headers, receive)
        except BodyRefused as refused:
            request: Request[Any, Any, Any] = Request(scope)
            response = problem_response(
                request, refused.status, refused.detail, refused.errors, refused.code
            )
            await response.to_asgi_response(None, request)(scope, receive, send)
            return
        await next_app(scope, receive, send)

    async def _gate_api(
        self, scope: Scope, headers: dict[bytes, bytes], receive: Receive
    ) -> Receive:
        handler = scope.get("route_handler")
        accepts = str(getattr(handler, "opt", {}).get("body", "json"))
        kind, _ = _media_type(headers)
        declared = _declared_length(headers)
        chunked = b"chunked" in headers.get(b"transfer-encoding", b"")
        if not kind and declared == 0 and not chunked:
            return receive  # no body at all
        if accepts == "multipart":
            if kind != "multipart/form-data":
                raise BodyRefused(
                    415,
                    f"this route takes a file upload (multipart/form-data), not {kind or 'none'}",
                    [FieldError("header.content-type", "must be multipart/form-data")],
                    "unsupported_media_type",
                )
            return receive
        if not _is_json(kind):
            raise BodyRefused(
                415,
                f"send the body as application/json, not {kind or 'without a content type'}",
                [FieldError("header.content-type", "must be application/json")],
                "unsupported_media_type",
            )
        return await self._gate_json(scope, headers, receive)

    async def _gate_json(
        self, scope: Scope, headers: dict[bytes, bytes], receive: Receive
    ) -> Receive:
        _, params = _media_type(headers)
        if _declared_length(headers) > self.max_json_bytes:
            raise too_large(self.max_json_bytes)
        # GB text grows by half as UTF-8: the limit applies to the decoded body.
        raw = await _read_body(receive, self.max_json_bytes * 2)
        body = checked_json(_decoded_as_utf8(raw, params.get("charset")), self.max_json_bytes)
        scope["headers"] = [
            (name, value)
            for name, value in scope.get("headers", [])
            if name not in (b"content-length", b"content-type", b"transfer-encoding")
        ] + [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        sent = False

        async def replay() -> Any:
            nonlocal sent
            if sent:
                # Streaming answers wait on receive() for the client to go away.
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        return replay


SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline';"
        b" img-src 'self' data:; font-src 'self' data:; connect-src 'self';"
        b" object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
)
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


def security_headers(production: bool) -> Callable[[Message, Scope], Awaitable[None]]:
    """A ``before_send`` hook adding the security headers to every answer of the app:
    API, admin, API viewer, errors and unmatched paths alike. HSTS in production (TLS ends
    at the bank's proxy) and on any request that came over TLS."""

    async def add_headers(message: Message, scope: Scope) -> None:
        if message["type"] == "http.response.start":
            extra = SECURITY_HEADERS
            if production or scope.get("scheme") == "https":
                extra = (*SECURITY_HEADERS, HSTS)
            present = {name.lower() for name, _ in message.get("headers", [])}
            message["headers"] = [
                *message.get("headers", []),
                *((name, value) for name, value in extra if name not in present),
            ]

    return add_headers
