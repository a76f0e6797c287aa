"""The OAuth 2.0 endpoints for external systems (see :mod:`bankcrm.oauth`).

They speak OAuth's own wire format, which clients' libraries expect: form-encoded
requests, and errors as ``{"error", "error_description"}`` (RFC 6749 section 5.2). The
error answers are also the platform's problems (``application/problem+json``, a JSON
type OAuth libraries parse as they parse ``application/json``, with ``title``,
``status``, ``detail`` and ``errors`` naming the field), so both kinds of client read them.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import parse_qs, unquote_plus

import msgspec
from litestar import Request, Response, Router, get, post

from bankcrm import oauth
from bankcrm.roles import declared_permissions
from bankcrm.web.problems import PROBLEM_MEDIA_TYPE, TITLES, json_pointer

MAX_FORM_BYTES = 8 * 1024
FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class TokenRequest(msgspec.Struct):
    """``application/x-www-form-urlencoded``. Authenticate with HTTP Basic
    (``client_id:client_secret``) or with ``client_id`` and ``client_secret`` in the form,
    not both."""

    grant_type: str
    """``client_credentials``."""
    scope: str | None = None
    """Space-separated permission names; omitted: every permission of the client."""
    client_id: str | None = None
    client_secret: str | None = None


class TokenAnswer(msgspec.Struct):
    access_token: str
    token_type: str
    expires_in: int
    """Seconds from now."""
    scope: str


class RevocationRequest(msgspec.Struct):
    """``application/x-www-form-urlencoded``; client authentication as for the token."""

    token: str
    token_type_hint: str | None = None
    client_id: str | None = None
    client_secret: str | None = None


class OAuthRefusal(Exception):
    def __init__(self, status: int, error: str, description: str, field: str = "") -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description
        self.field = field


def _refusal(request: Request[Any, Any, Any], refusal: OAuthRefusal) -> Response[Any]:
    state = request.scope.get("state", {})
    body: dict[str, Any] = {
        "error": refusal.error,
        "error_description": refusal.description,
        "type": "about:blank",
        "title": TITLES.get(refusal.status, "Error"),
        "status": refusal.status,
        "detail": refusal.description,
        "code": refusal.error,
        "request_id": state.get("request_id", ""),
        "errors": (
            [{"field": json_pointer(refusal.field), "message": refusal.description}]
            if refusal.field
            else []
        ),
    }
    headers = dict(NO_STORE)
    if refusal.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="bankcrm", charset="UTF-8"'
    return Response(
        body, status_code=refusal.status, headers=headers, media_type=PROBLEM_MEDIA_TYPE
    )


async def _form(request: Request[Any, Any, Any]) -> dict[str, str]:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != FORM_MEDIA_TYPE:
        raise OAuthRefusal(
            400,
            "invalid_request",
            f"send the request as {FORM_MEDIA_TYPE}, not {media_type or 'no content type'}",
            "header.content-type",
        )
    declared = request.headers.get("content-length", "0")
    if not declared.isdigit() or int(declared) > MAX_FORM_BYTES:
        raise OAuthRefusal(400, "invalid_request", f"the form is over {MAX_FORM_BYTES} bytes")
    raw = await request.body()
    if len(raw) > MAX_FORM_BYTES:
        raise OAuthRefusal(400, "invalid_request", f"the form is over {MAX_FORM_BYTES} bytes")
    try:
        parsed = parse_qs(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError as exc:
        raise OAuthRefusal(400, "invalid_request", "the form is not UTF-8") from exc
    repeated = sorted(name for name, values in parsed.items() if len(values) > 1)
    if repeated:
        raise OAuthRefusal(
            400, "invalid_request", f"{repeated[0]} is given more than once", f"body.{repeated[0]}"
        )
    return {name: values[0] for name, values in parsed.items()}


async def _client(request: Request[Any, Any, Any], form: dict[str, str]) -> oauth.Client:
    authorization = request.headers.get("authorization", "")
    in_form = "client_secret" in form
    if authorization:
        kind, _, encoded = authorization.partition(" ")
        if kind.lower() != "basic":
            raise OAuthRefusal(401, "invalid_client", "authenticate the client with HTTP Basic")
        if in_form:
            raise OAuthRefusal(
                400,
                "invalid_request",
                "authenticate either with HTTP Basic or with client_secret in the form, not both",
                "body.client_secret",
            )
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise OAuthRefusal(
                401, "invalid_client", "the Basic credentials do not decode"
            ) from exc
        client_id, colon, secret = decoded.partition(":")
        if not colon:
            raise OAuthRefusal(401, "invalid_client", "Basic credentials are client_id:secret")
        client_id, secret = unquote_plus(client_id), unquote_plus(secret)
    elif in_form:
        client_id, secret = form.get("client_id", ""), form["client_secret"]
    else:
        raise OAuthRefusal(
            401, "invalid_client", "authenticate the client (HTTP Basic or client_secret)"
        )
    client = await oauth.authenticate_client(client_id, secret)
    if client is None:
        raise OAuthRefusal(
            401, "invalid_client", "unknown client, wrong secret, or the client is revoked"
        )
    return client


@post(
    "/oauth/token",
    opt={"public": True, "body": "form", "form": TokenRequest, "problems": (400, 401)},
    status_code=200,
    tags=["oauth"],
)
async def token(request: Request[Any, Any, Any]) -> Response[Any]:
    """An access token for an API client (the client-credentials grant, RFC 6749 4.4)."""
    from bankcrm.webapp import current_kernel

    try:
        form = await _form(request)
        grant = form.get("grant_type")
        if not grant:
            raise OAuthRefusal(400, "invalid_request", "grant_type is missing", "body.grant_type")
        client = await _client(request, form)
        if grant != "client_credentials":
            raise OAuthRefusal(
                400,
                "unsupported_grant_type",
                f"grant_type {grant!r} is not supported: use client_credentials",
                "body.grant_type",
            )
        try:
            scopes = oauth.granted_scopes(client, form.get("scope"))
        except oauth.InvalidScope as exc:
            raise OAuthRefusal(
                400,
                "invalid_scope",
                f"the client does not hold: {', '.join(exc.scopes)}",
                "body.scope",
            ) from exc
        issued = await oauth.issue(client, scopes, current_kernel().settings.oauth_token_minutes)
    except OAuthRefusal as refusal:
        return _refusal(request, refusal)
    answer = TokenAnswer(issued.token, "Bearer", issued.expires_in, " ".join(issued.scopes))
    return Response(answer, headers=NO_STORE)


@post(
    "/oauth/revoke",
    opt={"public": True, "body": "form", "form": RevocationRequest, "problems": (400, 401)},
    status_code=200,
    tags=["oauth"],
)
async def revoke(request: Request[Any, Any, Any]) -> Response[Any]:
    """Revoke one of the client's access tokens (RFC 7009). An unknown token, or another
    client's, answers 200 too and changes nothing."""
    try:
        form = await _form(request)
        client = await _client(request, form)
        if not form.get("token"):
            raise OAuthRefusal(400, "invalid_request", "token is missing", "body.token")
        await oauth.revoke(client, form["token"])
    except OAuthRefusal as refusal:
        return _refusal(request, refusal)
    return Response({}, headers=NO_STORE)


@get(
    "/.well-known/oauth-authorization-server",
    opt={"public": True},
    tags=["oauth"],
)
async def metadata(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The authorization server's metadata (RFC 8414): endpoints, grant, scopes."""
    from bankcrm.webapp import current_kernel

    base = str(request.base_url).rstrip("/")
    methods = ["client_secret_basic", "client_secret_post"]
    return {
        "issuer": base,
        "token_endpoint": f"{base}/oauth/token",
        "revocation_endpoint": f"{base}/oauth/revoke",
        "grant_types_supported": ["client_credentials"],
        "response_types_supported": [],
        "token_endpoint_auth_methods_supported": methods,
        "revocation_endpoint_auth_methods_supported": methods,
        "scopes_supported": sorted(declared_permissions(current_kernel().registry)),
    }


def oauth_router() -> Router:
    return Router(path="/", route_handlers=[token, revoke, metadata])
