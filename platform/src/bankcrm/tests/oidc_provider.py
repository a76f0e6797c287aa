"""A small OpenID Connect provider for tests: discovery, keys, authorize, token.

It signs ID tokens with its own RSA key, checks the client's secret, the redirect URI and
the PKCE verifier as a real provider does, and "logs in" whoever the test says is at the
browser. ``tamper`` makes it misbehave in one named way, to prove the platform refuses.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from litestar import Litestar, Request, Response, get, post
from litestar.response import Redirect

CLIENT_ID = "bankcrm-staff"
CLIENT_SECRET = "provider-secret-for-tests"


@dataclass
class Provider:
    base_url: str = ""
    username: str = "demo.admin"
    """Who is at the browser when /authorize is visited."""
    tamper: str = ""
    """'' | 'nonce' | 'audience' | 'signature' | 'expired' | 'issuer' | 'alg_none'."""
    key: rsa.RSAPrivateKey = field(default_factory=lambda: rsa.generate_private_key(65537, 2048))
    kid: str = "key-1"
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    token_requests: int = 0

    def jwks(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def id_token(self, grant: dict[str, Any]) -> str:
        now = int(time.time())
        claims = {
            "iss": self.base_url,
            "sub": f"sub-{grant['username']}",
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": grant["nonce"],
            "preferred_username": grant["username"],
        }
        if self.tamper == "nonce":
            claims["nonce"] = "another"
        if self.tamper == "audience":
            claims["aud"] = "another-client"
        if self.tamper == "expired":
            claims["iat"], claims["exp"] = now - 3600, now - 1800
        if self.tamper == "issuer":
            claims["iss"] = "https://evil.example"
        if self.tamper == "alg_none":
            header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=")
            body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=")
            return f"{header.decode()}.{body.decode()}."
        signing_key: Any = self.key
        if self.tamper == "signature":
            signing_key = rsa.generate_private_key(65537, 2048)
        return jwt.encode(claims, signing_key, algorithm="RS256", headers={"kid": self.kid})

    def app(self) -> Litestar:
        provider = self

        @get("/.well-known/openid-configuration")
        async def discovery() -> dict[str, Any]:
            base = provider.base_url
            return {
                "issuer": base,
                "authorization_endpoint": f"{base}/authorize",
                "token_endpoint": f"{base}/token",
                "jwks_uri": f"{base}/jwks",
                "response_types_supported": ["code"],
                "id_token_signing_alg_values_supported": ["RS256"],
            }

        @get("/jwks")
        async def jwks() -> dict[str, Any]:
            return provider.jwks()

        @get("/authorize")
        async def authorize(request: Request[Any, Any, Any]) -> Response[Any]:
            query = request.query_params
            if query.get("client_id") != CLIENT_ID or query.get("response_type") != "code":
                return Response({"error": "invalid_request"}, status_code=400)
            if query.get("code_challenge_method") != "S256":
                return Response({"error": "invalid_request"}, status_code=400)
            code = secrets.token_urlsafe(16)
            provider.codes[code] = {
                "username": provider.username,
                "nonce": query["nonce"],
                "challenge": query["code_challenge"],
                "redirect_uri": query["redirect_uri"],
            }
            back = urlencode({"code": code, "state": query["state"]})
            return Redirect(f"{query['redirect_uri']}?{back}", status_code=302)

        @post("/token", status_code=200)
        async def token(request: Request[Any, Any, Any]) -> Response[Any]:
            provider.token_requests += 1
            form = await request.form()
            expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            if request.headers.get("authorization") != f"Basic {expected}":
                return Response({"error": "invalid_client"}, status_code=401)
            grant = provider.codes.pop(str(form.get("code")), None)
            if grant is None or form.get("redirect_uri") != grant["redirect_uri"]:
                return Response({"error": "invalid_grant"}, status_code=400)
            verifier = str(form.get("code_verifier", ""))
            digest = hashlib.sha256(verifier.encode()).digest()
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant["challenge"]:
                return Response({"error": "invalid_grant"}, status_code=400)
            return Response(
                {
                    "access_token": secrets.token_urlsafe(16),
                    "token_type": "Bearer",
                    "id_token": provider.id_token(grant),
                }
            )

        return Litestar(route_handlers=[discovery, jwks, authorize, token], debug=False)
