"""Staff and API-client authentication, and the scope each one acts with.

Staff log in with a password (policy-checked, PBKDF2 via Piccolo's ``BaseUser``), get a
Piccolo session (cookie ``id``) shared by the REST API and piccolo-admin, and may enable
TOTP. Repeated failures lock the account; a per-address limiter slows guessing. External
systems use bearer tokens bound to a branch, stored only as SHA-256 digests.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio.to_thread
import pyotp
from piccolo.apps.user.tables import BaseUser
from piccolo_api.session_auth.tables import SessionsBase

from bankcrm import branches, db, pii
from bankcrm.context import Scope
from bankcrm.settings import get_settings

TOKEN_PREFIX = "bcrm"  # noqa: S105 - a public marker, not a secret
MIN_PASSWORD_LENGTH = 12


class AuthError(Exception):
    """Login refused. ``code`` is stable for clients; the message is for people."""

    def __init__(self, code: str, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


def password_problems(password: str, username: str = "") -> list[str]:
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"must be at least {MIN_PASSWORD_LENGTH} characters long")
    if len(password) > 128:
        problems.append("must be at most 128 characters long")
    classes = [r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]"]
    if sum(bool(re.search(c, password)) for c in classes) < 3:
        problems.append("must mix at least three of: lower case, upper case, digits, symbols")
    if username and username.lower() in password.lower():
        problems.append("must not contain the username")
    return problems


LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE = 20


async def _address_allowed(ip: str) -> bool:
    """A sliding one-minute window per client address, counted in the database so that
    every server process behind a load balancer enforces the same limit."""
    recent: int = await db.fetchval(
        "SELECT count(*) FROM bankcrm_login_attempt"
        " WHERE ip = $1 AND at > now() - interval '1 minute'",
        ip[:64],
    )
    return recent < LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE


async def forget_login_attempts() -> None:
    """Clear the attempt journal's effect on rate limiting (tests and support desks)."""
    await db.fetch("DELETE FROM bankcrm_login_attempt WHERE at > now() - interval '1 minute'")


def _verify_password(password: str, stored: str) -> bool:
    try:
        _, iterations, salt, _ = BaseUser.split_stored_password(stored)
        candidate = BaseUser.hash_password(password, salt, int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(candidate, stored)


async def _record_attempt(username: str, ip: str, success: bool, reason: str) -> None:
    await db.fetch(
        "INSERT INTO bankcrm_login_attempt (username, ip, success, reason, at) "
        "VALUES ($1, $2, $3, $4, now())",
        username[:150],
        ip[:64],
        success,
        reason,
    )


@dataclass(frozen=True)
class LoginResult:
    user_id: int
    session_token: str
    expires_at: datetime


async def login(username: str, password: str, otp: str | None, ip: str) -> LoginResult:
    settings = get_settings()
    if not await _address_allowed(ip):
        raise AuthError("rate_limited", "too many login attempts; wait a minute", 429)
    user = await db.fetchrow(
        "SELECT u.id, u.password, u.active, u.admin, s.failed_logins, s.locked_until,"
        " s.mfa_enabled, s.totp_secret FROM piccolo_user u"
        " LEFT JOIN bankcrm_user_security s ON s.user = u.id WHERE u.username = $1",
        username[:100],
    )
    # Verify even for unknown users so response time does not reveal which exist.
    stored = user["password"] if user else BaseUser.hash_password("x" * 16)
    valid = await anyio.to_thread.run_sync(_verify_password, password, stored)
    now = datetime.now(UTC)
    if user is None:
        await _record_attempt(username, ip, False, "unknown_user")
        raise AuthError("invalid_credentials", "wrong username or password")
    if user["locked_until"] is not None and user["locked_until"] > now:
        await _record_attempt(username, ip, False, "locked")
        raise AuthError(
            "locked", f"account locked after repeated failures until {user['locked_until']:%H:%M}"
        )
    if not valid or not user["active"]:
        failures = (user["failed_logins"] or 0) + 1
        locked_until = None
        if failures >= settings.login_max_failures:
            locked_until = now + timedelta(minutes=settings.login_lockout_minutes)
        await _upsert_security(user["id"], failures, locked_until)
        await _record_attempt(username, ip, False, "bad_password" if user["active"] else "inactive")
        raise AuthError("invalid_credentials", "wrong username or password")
    if user["mfa_enabled"]:
        if not otp:
            raise AuthError("mfa_required", "enter the code from your authenticator app")
        secret = pii.decrypt(user["totp_secret"])
        if not pyotp.TOTP(secret).verify(otp, valid_window=1):
            await _upsert_security(user["id"], (user["failed_logins"] or 0) + 1, None)
            await _record_attempt(username, ip, False, "bad_otp")
            raise AuthError("invalid_otp", "the authenticator code is wrong or expired")
    await _upsert_security(user["id"], 0, None)
    await _record_attempt(username, ip, True, "")
    await db.fetch("UPDATE piccolo_user SET last_login = now() WHERE id = $1", user["id"])
    expires = datetime.now() + timedelta(hours=settings.session_hours)
    session = await SessionsBase.create_session(
        user_id=user["id"], expiry_date=expires, max_expiry_date=expires
    )
    return LoginResult(user["id"], session.token, expires.astimezone(UTC))


async def _upsert_security(user_id: int, failures: int, locked_until: datetime | None) -> None:
    await db.fetch(
        'INSERT INTO bankcrm_user_security ("user", failed_logins, locked_until, mfa_enabled,'
        " password_changed_at) VALUES ($1, $2, $3, false, now())"
        ' ON CONFLICT ("user") DO UPDATE SET failed_logins = $2, locked_until = $3',
        user_id,
        failures,
        locked_until,
    )


async def logout(session_token: str) -> None:
    await db.fetch("DELETE FROM sessions WHERE token = $1", session_token)


async def change_password(user_id: int, current: str, new: str) -> list[str]:
    row = await db.fetchrow("SELECT username, password FROM piccolo_user WHERE id = $1", user_id)
    if row is None:
        return ["user does not exist"]
    if not await anyio.to_thread.run_sync(_verify_password, current, row["password"]):
        return ["current password is wrong"]
    problems = password_problems(new, row["username"])
    if problems:
        return problems
    hashed = await anyio.to_thread.run_sync(BaseUser.hash_password, new)
    await db.fetch("UPDATE piccolo_user SET password = $1 WHERE id = $2", hashed, user_id)
    await db.fetch(
        'UPDATE bankcrm_user_security SET password_changed_at = now() WHERE "user" = $1',
        user_id,
    )
    await db.fetch("DELETE FROM sessions WHERE user_id = $1", user_id)
    return []


async def create_user(
    username: str,
    password: str,
    *,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    superuser: bool = False,
    admin_ui: bool = True,
) -> int:
    problems = password_problems(password, username)
    if problems:
        raise ValueError("password " + "; ".join(problems))
    hashed = await anyio.to_thread.run_sync(BaseUser.hash_password, password)
    user_id: int = await db.fetchval(
        "INSERT INTO piccolo_user (username, password, email, first_name, last_name, active,"
        " admin, superuser) VALUES ($1, $2, $3, $4, $5, true, $6, $7) RETURNING id",
        username,
        hashed,
        email,
        first_name,
        last_name,
        admin_ui,
        superuser,
    )
    await _upsert_security(user_id, 0, None)
    return user_id


# --- TOTP -------------------------------------------------------------------------------


async def start_mfa_enrolment(user_id: int, username: str) -> str:
    """A new TOTP secret (not active until confirmed); returns the provisioning URI."""
    secret = pyotp.random_base32()
    await db.fetch(
        'UPDATE bankcrm_user_security SET totp_secret = $1, mfa_enabled = false WHERE "user" = $2',
        pii.encrypt(secret),
        user_id,
    )
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name="bankcrm")


async def confirm_mfa(user_id: int, code: str) -> bool:
    stored = await db.fetchval(
        'SELECT totp_secret FROM bankcrm_user_security WHERE "user" = $1', user_id
    )
    if not stored or not pyotp.TOTP(pii.decrypt(stored)).verify(code, valid_window=1):
        return False
    await db.fetch('UPDATE bankcrm_user_security SET mfa_enabled = true WHERE "user" = $1', user_id)
    return True


# --- scopes ----------------------------------------------------------------------------


_SCOPE_COLUMNS = (
    "u.id, u.username, u.active, u.superuser, m.branch, r.permissions"
    " FROM piccolo_user u LEFT JOIN bankcrm_membership m ON m.user = u.id"
    " LEFT JOIN bankcrm_role r ON r.id = m.role"
)


async def _scope_from_rows(rows: list[Any], request_id: str | None) -> Scope | None:
    if not rows or not rows[0]["active"]:
        return None
    tree = await branches.snapshot()
    branch_ids: set[int] = set()
    permissions: set[str] = set()
    for row in rows:
        if row["branch"] is not None:
            branch_ids |= tree.subtree(row["branch"])
            permissions |= set(row["permissions"] or [])
    first = rows[0]
    return Scope(
        actor=f"user:{first['id']}",
        branch_ids=frozenset(branch_ids),
        permissions=frozenset(permissions),
        user_id=first["id"],
        home_branch_id=first["branch"],
        username=first["username"],
        is_superuser=bool(first["superuser"]),
        request_id=request_id or uuid.uuid4().hex,
    )


async def scope_for_user(user_id: int, request_id: str | None = None) -> Scope | None:
    rows = await db.fetch(f"SELECT {_SCOPE_COLUMNS} WHERE u.id = $1 ORDER BY m.id", user_id)
    return await _scope_from_rows(rows, request_id)


async def scope_for_session(token: str, request_id: str | None = None) -> Scope | None:
    """The scope of a live session's user, in one round trip (run on every request)."""
    rows = await db.fetch(
        f"SELECT {_SCOPE_COLUMNS} JOIN sessions s ON s.user_id = u.id WHERE s.token = $1"
        " AND s.expiry_date > localtimestamp AND s.max_expiry_date > localtimestamp"
        " ORDER BY m.id",
        token,
    )
    return await _scope_from_rows(rows, request_id)


async def user_for_session(token: str) -> int | None:
    user_id: int | None = await db.fetchval(
        "SELECT user_id FROM sessions WHERE token = $1 AND expiry_date > localtimestamp"
        " AND max_expiry_date > localtimestamp",
        token,
    )
    return user_id


# --- API clients -----------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    prefix = secrets.token_hex(4)
    return prefix, f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"


@dataclass(frozen=True)
class IssuedToken:
    client_id: int
    token: str
    """Shown once; only its digest is stored."""


async def create_api_client(
    name: str,
    branch_id: int,
    permissions: list[str],
    created_by: str,
    expires_at: datetime | None = None,
) -> IssuedToken:
    prefix, token = new_token()
    client_id: int = await db.fetchval(
        "INSERT INTO bankcrm_api_client (name, branch, permissions, token_prefix, token_hash,"
        " created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, now(), $7)"
        " RETURNING id",
        name,
        branch_id,
        permissions,
        prefix,
        _digest(token),
        created_by,
        expires_at,
    )
    return IssuedToken(client_id, token)


async def rotate_api_client(client_id: int) -> IssuedToken | None:
    prefix, token = new_token()
    updated = await db.fetchval(
        "UPDATE bankcrm_api_client SET token_prefix = $1, token_hash = $2, rotated_at = now()"
        " WHERE id = $3 AND revoked_at IS NULL RETURNING id",
        prefix,
        _digest(token),
        client_id,
    )
    return IssuedToken(client_id, token) if updated else None


async def revoke_api_client(client_id: int) -> bool:
    revoked = await db.fetchval(
        "UPDATE bankcrm_api_client SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL"
        " RETURNING id",
        client_id,
    )
    return revoked is not None


async def scope_for_token(token: str, request_id: str | None = None) -> Scope | None:
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    client = await db.fetchrow(
        "SELECT id, branch, permissions, token_hash FROM bankcrm_api_client"
        " WHERE token_prefix = $1 AND revoked_at IS NULL"
        " AND (expires_at IS NULL OR expires_at > now())",
        parts[1],
    )
    if client is None or not hmac.compare_digest(client["token_hash"], _digest(token)):
        return None
    tree = await branches.snapshot()
    return Scope(
        actor=f"client:{client['id']}",
        branch_ids=tree.subtree(client["branch"]),
        permissions=frozenset(client["permissions"] or []),
        client_id=client["id"],
        home_branch_id=client["branch"],
        request_id=request_id or uuid.uuid4().hex,
    )
