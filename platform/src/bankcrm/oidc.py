"""Staff single sign-on through the bank's OpenID Connect provider.

The authorization-code flow with PKCE (OpenID Connect Core 1.0 section 3.1, RFC 7636):
the workbench sends the browser to the provider with a fresh ``state``, ``nonce`` and
code challenge, kept in a signed, short-lived, HTTP-only cookie; the provider sends it
back with a code, which the platform exchanges (client authentication with the secret)
for an ID token. The token is accepted only if its signature verifies against the
provider's published keys (asymmetric algorithms only), and its issuer, audience,
authorised party, expiry, issue time and nonce are right. The claim
``BANKCRM_OIDC_USERNAME_CLAIM`` names an existing, active bankcrm user: branches and roles
stay managed here, so the provider proves who someone is, never what they may do.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt

from bankcrm import db
from bankcrm.settings import OidcSettings

STATE_COOKIE = "bankcrm_sso"
STATE_SECONDS = 600
DISCOVERY_SECONDS = 3600
CLOCK_LEEWAY_SECONDS = 60
HTTP_TIMEOUT_SECONDS = 10.0
SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")
"""Asymmetric only: ``none`` and the HMAC family (keyed with the client secret) never."""


class SignInRefused(Exception):
    """The sign-in cannot complete: ``status`` and a message for the person at the browser."""

    def __init__(self, status: int, message: str, field: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


@dataclass
class _Provider:
    metadata: dict[str, Any]
    fetched: float
    keys: jwt.PyJWKSet | None = None


@dataclass
class Client:
    """The provider as this platform sees it: its metadata and keys, cached."""

    settings: OidcSettings
    _provider: _Provider | None = field(default=None, repr=False)

    async def _get(self, url: str) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_SECONDS) as http:
                answer = await http.get(url)
        except httpx.HTTPError as exc:
            raise SignInRefused(
                503, "统一身份认证服务暂时无法访问 / the identity provider does not answer"
            ) from exc
        if answer.status_code != 200:
            raise SignInRefused(
                503, f"统一身份认证服务出错 / the identity provider answered {answer.status_code}"
            )
        body: dict[str, Any] = answer.json()
        return body

    async def metadata(self) -> dict[str, Any]:
        now = time.monotonic()
        if self._provider is None or now - self._provider.fetched > DISCOVERY_SECONDS:
            found = await self._get(f"{self.settings.issuer}/.well-known/openid-configuration")
            if str(found.get("issuer", "")).rstrip("/") != self.settings.issuer:
                # OpenID Connect Discovery 1.0 section 4.3: a mismatch means another server.
                raise SignInRefused(
                    503, "统一身份认证服务配置不符 / the provider's issuer does not match"
                )
            self._provider = _Provider(found, now)
        return self._provider.metadata

    async def signing_key(self, kid: str | None) -> Any:
        await self.metadata()
        assert self._provider is not None
        for attempt in range(2):
            if self._provider.keys is None or attempt == 1:
                # An unknown key id: the provider may have rotated its keys since.
                published = await self._get(self._provider.metadata["jwks_uri"])
                self._provider.keys = jwt.PyJWKSet.from_dict(published)
            for key in self._provider.keys.keys:
                if kid is None or key.key_id == kid:
                    return key
        raise SignInRefused(401, "身份令牌的签名密钥未知 / the ID token's key is unknown")

    async def authorization_url(
        self, redirect_uri: str, state: str, nonce: str, verifier: str
    ) -> str:
        metadata = await self.metadata()
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.settings.client_id,
                "redirect_uri": redirect_uri,
                "scope": self.settings.scopes,
                "state": state,
                "nonce": nonce,
                "code_challenge": challenge.rstrip(b"=").decode(),
                "code_challenge_method": "S256",
            }
        )
        return f"{metadata['authorization_endpoint']}?{query}"

    async def exchange(self, code: str, redirect_uri: str, verifier: str) -> str:
        """The ID token for ``code`` (the provider's refusal is the person's refusal)."""
        metadata = await self.metadata()
        try:
            async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_SECONDS) as http:
                answer = await http.post(
                    metadata["token_endpoint"],
                    data={
                        "grant_type": "authorization_code",
                        "code": code,
                        "redirect_uri": redirect_uri,
                        "code_verifier": verifier,
                    },
                    auth=(self.settings.client_id, self.settings.client_secret),
                )
        except httpx.HTTPError as exc:
            raise SignInRefused(
                503, "统一身份认证服务暂时无法访问 / the identity provider does not answer"
            ) from exc
        if answer.status_code != 200:
            raise SignInRefused(403, "统一身份认证未通过 / the identity provider refused the code")
        id_token = answer.json().get("id_token")
        if not isinstance(id_token, str):
            raise SignInRefused(403, "统一身份认证未返回身份令牌 / no ID token in the answer")
        return id_token

    async def verified_claims(self, id_token: str, nonce: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(id_token)
        except jwt.PyJWTError as exc:
            raise SignInRefused(403, "身份令牌无法读取 / the ID token does not parse") from exc
        if header.get("alg") not in SIGNING_ALGORITHMS:
            raise SignInRefused(
                403, f"身份令牌算法不被接受 / algorithm {header.get('alg')!r} refused"
            )
        key = await self.signing_key(header.get("kid"))
        try:
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key=key.key,
                algorithms=list(SIGNING_ALGORITHMS),
                audience=self.settings.client_id,
                issuer=self.settings.issuer,
                leeway=CLOCK_LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise SignInRefused(403, f"身份令牌无效 / the ID token is not valid: {exc}") from exc
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self.settings.client_id:
            raise SignInRefused(403, "身份令牌不是发给本系统的 / the ID token names another party")
        if not hmac.compare_digest(str(claims.get("nonce", "")), nonce):
            raise SignInRefused(403, "身份令牌与本次登录不符 / the ID token's nonce does not match")
        return claims


_clients: dict[OidcSettings, Client] = {}


def client_for(settings: OidcSettings) -> Client:
    if settings not in _clients:
        _clients[settings] = Client(settings)
    return _clients[settings]


# --- the state kept in the browser between the two legs ----------------------------------


@dataclass(frozen=True)
class PendingSignIn:
    state: str
    nonce: str
    verifier: str
    next: str
    expires: int


def start(next_path: str) -> PendingSignIn:
    return PendingSignIn(
        state=secrets.token_urlsafe(24),
        nonce=secrets.token_urlsafe(24),
        verifier=secrets.token_urlsafe(48),
        next=next_path,
        expires=int(time.time()) + STATE_SECONDS,
    )


def seal(pending: PendingSignIn, key: bytes) -> str:
    payload = base64.urlsafe_b64encode(json.dumps(pending.__dict__).encode()).decode()
    signature = hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()
    return f"{payload}.{signature}"


def unseal(cookie: str | None, key: bytes) -> PendingSignIn:
    expired = SignInRefused(
        400,
        "登录已超时或不是从本系统发起，请重新登录"
        " / the sign-in expired or began elsewhere: start again",
        "query.state",
    )
    if not cookie or "." not in cookie:
        raise expired
    payload, _, signature = cookie.rpartition(".")
    expected = hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(signature, expected):
        raise expired
    try:
        pending = PendingSignIn(**json.loads(base64.urlsafe_b64decode(payload)))
    except (ValueError, TypeError) as exc:
        raise expired from exc
    if pending.expires < time.time():
        raise expired
    return pending


# --- the session -------------------------------------------------------------------------


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class SignedIn:
    user_id: int
    username: str
    session_token: str
    expires_at: datetime


async def sign_in(claims: dict[str, Any], username_claim: str, ip: str) -> SignedIn:
    """A session for the active user the verified claims name, or :class:`SignInRefused`."""
    from bankcrm import auth

    username = claims.get(username_claim)
    if not isinstance(username, str) or not username:
        raise SignInRefused(
            403, f"身份令牌缺少 {username_claim} / the ID token has no {username_claim}"
        )
    user = await db.fetchrow(
        "SELECT u.id, u.active, s.locked_until FROM piccolo_user u"
        " LEFT JOIN bankcrm_user_security s ON s.user = u.id WHERE u.username = $1",
        username[:100],
    )
    locked_until = user["locked_until"] if user is not None else None
    if locked_until is not None and locked_until > datetime.now(UTC):
        await auth.record_attempt(username, ip, False, "sso_locked")
        raise SignInRefused(403, "账户已锁定，请联系管理员 / the account is locked")
    if user is None or not user["active"]:
        await auth.record_attempt(username, ip, False, "sso_unknown_user")
        raise SignInRefused(
            403,
            f"本系统没有启用的账户 {username}，请联系管理员开通"
            f" / no active bankcrm account for {username}: ask an administrator",
        )
    session_token, expires = await auth.open_session(user["id"])
    await auth.record_attempt(username, ip, True, "sso")
    return SignedIn(user["id"], username, session_token, expires)
