"""OAuth 2.0 for external systems: the client-credentials grant (RFC 6749 section 4.4)
and token revocation (RFC 7009), beside the API clients' long-lived tokens.

An OAuth client *is* an API client: its ``client_id`` is the API client's id and its
``client_secret`` the API client's token, so creation, rotation (with its switch-over
window), expiry and revocation work as they do for the token and are audited the same
way. The token endpoint hands out short-lived opaque access tokens (``bcat_...``, only a
digest stored) for a subset of the client's permissions: a scope is a permission name.
A token acts as its client, narrowed to its scopes, and stops working when it expires,
is revoked, or its client is revoked or expires; a client that loses a permission loses
it in its live tokens at once (the token's permissions are intersected on every request).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass

from bankcrm import audit, auth, branches, db
from bankcrm.context import Scope, bind_scope

ACCESS_TOKEN_PREFIX = "bcat"  # noqa: S105 - a public marker, not a secret
DEFAULT_TOKEN_MINUTES = 15
MAX_TOKEN_MINUTES = 60


@dataclass(frozen=True)
class Client:
    id: int
    branch_id: int
    permissions: frozenset[str]


@dataclass(frozen=True)
class AccessToken:
    token: str
    expires_in: int
    """Seconds."""
    scopes: tuple[str, ...]


class InvalidScope(Exception):
    def __init__(self, scopes: list[str]) -> None:
        super().__init__(", ".join(scopes))
        self.scopes = scopes


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def authenticate_client(client_id: str, secret: str) -> Client | None:
    """The API client ``client_id`` if ``secret`` is its current token (or the previous
    one inside its switch-over window) and it is neither revoked nor expired."""
    if not client_id.isdigit() or len(client_id) > 18:
        return None
    parts = secret.split("_", 2)
    if len(parts) != 3 or parts[0] != auth.TOKEN_PREFIX:
        return None
    row = await db.fetchrow(
        "SELECT id, branch, permissions, CASE WHEN token_prefix = $1 THEN token_hash"
        " ELSE previous_token_hash END AS token_hash FROM bankcrm_api_client"
        " WHERE id = $2 AND (token_prefix = $1 OR (previous_token_prefix = $1"
        " AND previous_valid_until > now())) AND revoked_at IS NULL"
        " AND (expires_at IS NULL OR expires_at > now())",
        parts[1],
        int(client_id),
    )
    if row is None or not hmac.compare_digest(row["token_hash"], _digest(secret)):
        return None
    return Client(row["id"], row["branch"], frozenset(row["permissions"] or []))


def granted_scopes(client: Client, requested: str | None) -> tuple[str, ...]:
    """The scopes a token for ``client`` gets: all its permissions when none are asked
    for, else exactly those asked for, each of which it must hold."""
    if requested is None or not requested.strip():
        return tuple(sorted(client.permissions))
    asked = list(dict.fromkeys(requested.split()))
    lacking = [scope for scope in asked if scope not in client.permissions]
    if lacking:
        raise InvalidScope(lacking)
    return tuple(sorted(asked))


async def issue(client: Client, scopes: tuple[str, ...], minutes: int) -> AccessToken:
    prefix = secrets.token_hex(6)
    token = f"{ACCESS_TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    actor = Scope(
        actor=f"client:{client.id}",
        branch_ids=frozenset({client.branch_id}),
        permissions=client.permissions,
        client_id=client.id,
        home_branch_id=client.branch_id,
    )
    with bind_scope(actor):
        async with db.transaction():
            token_id = await db.fetchval(
                "INSERT INTO bankcrm_oauth_token (client, token_prefix, token_hash, scopes,"
                " issued_at, expires_at) VALUES ($1, $2, $3, $4, now(),"
                " now() + make_interval(mins => $5)) RETURNING id",
                client.id,
                prefix,
                _digest(token),
                list(scopes),
                minutes,
            )
            await audit.record(
                audit.Action.CREATE,
                "bankcrm.oauth_token",
                token_id,
                branch_id=client.branch_id,
                after={"client": client.id, "scopes": list(scopes), "minutes": minutes},
            )
    return AccessToken(token, minutes * 60, scopes)


async def revoke(client: Client, token: str) -> bool:
    """Revoke ``token`` if it is one of ``client``'s access tokens (RFC 7009: a token of
    another client, or none at all, is not an error and changes nothing)."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != ACCESS_TOKEN_PREFIX:
        return False
    row = await db.fetchrow(
        "SELECT id, token_hash FROM bankcrm_oauth_token WHERE token_prefix = $1 AND client = $2"
        " AND revoked_at IS NULL",
        parts[1],
        client.id,
    )
    if row is None or not hmac.compare_digest(row["token_hash"], _digest(token)):
        return False
    actor = Scope(
        actor=f"client:{client.id}",
        branch_ids=frozenset({client.branch_id}),
        client_id=client.id,
        home_branch_id=client.branch_id,
    )
    with bind_scope(actor):
        async with db.transaction():
            await db.fetch(
                "UPDATE bankcrm_oauth_token SET revoked_at = now() WHERE id = $1", row["id"]
            )
            await audit.record(
                audit.Action.DELETE,
                "bankcrm.oauth_token",
                row["id"],
                branch_id=client.branch_id,
                after={"revoked": True},
            )
    return True


async def revoke_all(client_id: int) -> int:
    """End every live access token of a client (its secret leaked)."""
    rows = await db.fetch(
        "UPDATE bankcrm_oauth_token SET revoked_at = now() WHERE client = $1"
        " AND revoked_at IS NULL AND expires_at > now() RETURNING id",
        client_id,
    )
    return len(rows)


async def scope_for_access_token(token: str, request_id: str | None = None) -> Scope | None:
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != ACCESS_TOKEN_PREFIX:
        return None
    row = await db.fetchrow(
        "SELECT t.token_hash, t.scopes, c.id, c.branch, c.permissions"
        " FROM bankcrm_oauth_token t JOIN bankcrm_api_client c ON c.id = t.client"
        " WHERE t.token_prefix = $1 AND t.revoked_at IS NULL AND t.expires_at > now()"
        " AND c.revoked_at IS NULL AND (c.expires_at IS NULL OR c.expires_at > now())",
        parts[1],
    )
    if row is None or not hmac.compare_digest(row["token_hash"], _digest(token)):
        return None
    tree = await branches.snapshot()
    return Scope(
        actor=f"client:{row['id']}",
        branch_ids=tree.subtree(row["branch"]),
        permissions=frozenset(row["scopes"]) & frozenset(row["permissions"] or []),
        client_id=row["id"],
        home_branch_id=row["branch"],
        request_id=request_id or uuid.uuid4().hex,
    )


async def purge_expired(keep_days: int = 1) -> int:
    rows = await db.fetch(
        "DELETE FROM bankcrm_oauth_token WHERE expires_at < now() - make_interval(days => $1)"
        " RETURNING id",
        keep_days,
    )
    return len(rows)
