"""The workbench's single sign-on pages: off to the bank's identity provider and back
(see :mod:`bankcrm.oidc`). Failures are pages in the viewer's language, like every
workbench refusal."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.datastructures import Cookie
from litestar.response import Redirect

from bankcrm import oidc
from bankcrm.settings import OidcSettings
from bankcrm.web.problems import FieldError, Problem

SSO_LOGIN = "/app/sso/login"
SSO_CALLBACK = "/app/sso/callback"
SESSION_COOKIE = "id"  # the API's and the admin's session cookie
HOME = "/app/"


def _settings() -> tuple[OidcSettings, Any]:
    from bankcrm.webapp import current_kernel

    settings = current_kernel().settings
    if settings.oidc is None:
        raise Problem(404, "单点登录未启用 / single sign-on is not configured", code="not_found")
    return settings.oidc, settings


def _redirect_uri(request: Request[Any, Any, Any], settings: OidcSettings) -> str:
    return settings.redirect_uri or f"{str(request.base_url).rstrip('/')}{SSO_CALLBACK}"


def _local(target: str | None) -> str:
    # Only a path of this site: an absolute or scheme-relative URL would be an open redirect.
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return HOME
    return target


def _problem(refused: oidc.SignInRefused) -> Problem:
    errors = [FieldError(refused.field, refused.message)] if refused.field else []
    return Problem(refused.status, refused.message, errors, "sign_in_refused")


@get(SSO_LOGIN, opt={"public": True, "page": True}, include_in_schema=False)
async def sso_login(request: Request[Any, Any, Any]) -> Response[Any]:
    """Send the browser to the bank's identity provider."""
    settings, kernel_settings = _settings()
    pending = oidc.start(_local(request.query_params.get("next")))
    try:
        url = await oidc.client_for(settings).authorization_url(
            _redirect_uri(request, settings), pending.state, pending.nonce, pending.verifier
        )
    except oidc.SignInRefused as refused:
        raise _problem(refused) from refused
    return Redirect(
        url,
        status_code=303,
        cookies=[
            Cookie(
                key=oidc.STATE_COOKIE,
                value=oidc.seal(pending, kernel_settings.secret_key),
                path="/app/sso",
                max_age=oidc.STATE_SECONDS,
                httponly=True,
                samesite="lax",
                secure=kernel_settings.secure_cookies,
            )
        ],
    )


@get(SSO_CALLBACK, opt={"public": True, "page": True}, include_in_schema=False)
async def sso_callback(request: Request[Any, Any, Any]) -> Response[Any]:
    """The provider's answer: verify it, open a session, go where the person was going."""
    settings, kernel_settings = _settings()
    query = request.query_params
    try:
        pending = oidc.unseal(request.cookies.get(oidc.STATE_COOKIE), kernel_settings.secret_key)
        if query.get("error"):
            # The provider's own words are shown as text (autoescaped), never as markup.
            said = str(query.get("error_description") or query.get("error"))[:200]
            raise oidc.SignInRefused(
                403, f"统一身份认证未通过 / the identity provider refused: {said}"
            )
        if query.get("state") != pending.state:
            raise oidc.SignInRefused(
                400,
                "登录请求不匹配，请重新登录 / the sign-in does not match: start again",
                "query.state",
            )
        code = query.get("code")
        if not code:
            raise oidc.SignInRefused(400, "缺少授权码 / the code is missing", "query.code")
        provider = oidc.client_for(settings)
        id_token = await provider.exchange(code, _redirect_uri(request, settings), pending.verifier)
        claims = await provider.verified_claims(id_token, pending.nonce)
        ip = request.client.host if request.client else "unknown"
        signed_in = await oidc.sign_in(claims, settings.username_claim, ip)
    except oidc.SignInRefused as refused:
        raise _problem(refused) from refused
    seconds = int((signed_in.expires_at - oidc.now()).total_seconds())
    return Redirect(
        _local(pending.next),
        status_code=303,
        cookies=[
            Cookie(
                key=SESSION_COOKIE,
                value=signed_in.session_token,
                path="/",
                max_age=seconds,
                httponly=True,
                samesite="lax",
                secure=kernel_settings.secure_cookies,
            ),
            Cookie(key=oidc.STATE_COOKIE, value="", path="/app/sso", max_age=0, httponly=True),
        ],
    )
