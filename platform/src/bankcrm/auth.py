"""Staff and API-client authentication, and the scope each one acts with.

Staff log in with a password (policy-checked, PBKDF2 via Piccolo's ``BaseUser``), get a
Piccolo session (cookie ``id``) shared by the REST API and piccolo-admin, and may enable
TOTP. Repeated failures lock the account; a per-address limiter slows guessing. External
systems use bearer tokens bound to a branch, stored only as SHA-256 digests.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio.to_thread
import pyotp
from piccolo_api.session_auth.tables import SessionsBase

from bankcrm import branches, business_calendar, db, passwords, pii
from bankcrm.context import Scope
from bankcrm.settings import get_settings
from bankcrm.web.problems import FieldError, Problem

TOKEN_PREFIX = "bcrm"  # noqa: S105 - a public marker, not a secret
STAFF_ZONE = business_calendar.DEFAULT_ZONE
"""Times told to staff (a lockout's end) are in this zone, and say so."""


class AuthError(Exception):
    """Login refused. ``code`` is stable for clients; the message is for people."""

    def __init__(
        self, code: str, message: str, status: int = 401, retry_after: int | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.retry_after = retry_after

    def problem(self, detail: str | None = None) -> Problem:
        """The answer to the refused login (``Retry-After`` when waiting helps)."""
        headers = None if self.retry_after is None else {"Retry-After": str(self.retry_after)}
        return Problem(self.status, detail or str(self), code=self.code, headers=headers)


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


async def record_attempt(username: str, ip: str, success: bool, reason: str) -> None:
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
    password_change_required: bool = False
    """An administrator set the password: the session may do nothing but change it."""


@functools.cache
def unknown_user_hash() -> str:
    """Verified against for unknown users, so the answer takes as long as for known ones.
    Made on first use, not at import: with the iteration count then configured, the one
    the users' hashes have (an import-time hash kept the default while the users' had
    another, and unknown users answered 55 times slower)."""
    return passwords.hash_password(secrets.token_urlsafe(16))


async def login(username: str, password: str, otp: str | None, ip: str) -> LoginResult:
    """A session for ``username``, or :class:`AuthError`.

    Unknown user, wrong password, inactive or locked account: one answer
    (``invalid_credentials``), so the login reveals neither existence nor lock. Wrong
    passwords and wrong one-time codes both count toward the lock.
    """
    if not await _address_allowed(ip):
        raise AuthError("rate_limited", "too many login attempts; wait a minute", 429, 60)
    user = await db.fetchrow(
        "SELECT u.id, u.password, u.active, s.locked_until, s.mfa_enabled, s.totp_secret,"
        " s.must_change_password FROM piccolo_user u"
        " LEFT JOIN bankcrm_user_security s ON s.user = u.id WHERE u.username = $1",
        username[:100],
    )
    stored = user["password"] if user else unknown_user_hash()
    valid = await anyio.to_thread.run_sync(passwords.verify, password, stored)
    refused = AuthError("invalid_credentials", "wrong username or password")
    if user is None:
        await record_attempt(username, ip, False, "unknown_user")
        raise refused
    if user["locked_until"] is not None and user["locked_until"] > datetime.now(UTC):
        await record_attempt(username, ip, False, "locked")
        raise refused
    if not valid or not user["active"]:
        await count_failure(user["id"])
        await record_attempt(username, ip, False, "bad_password" if user["active"] else "inactive")
        raise refused
    if user["mfa_enabled"]:
        if not otp:
            raise AuthError("mfa_required", "enter the code from your authenticator app")
        secret = pii.decrypt(user["totp_secret"])
        if not pyotp.TOTP(secret).verify(otp, valid_window=1):
            await count_failure(user["id"])
            await record_attempt(username, ip, False, "bad_otp")
            raise AuthError("invalid_otp", "the authenticator code is wrong or expired")
    await _upsert_security(user["id"], 0, None)
    await record_attempt(username, ip, True, "")
    token, expires = await open_session(user["id"])
    return LoginResult(user["id"], token, expires, bool(user["must_change_password"]))


async def open_session(user_id: int) -> tuple[str, datetime]:
    """A new session of ``session_hours`` for a user whose identity is proven (by password
    and code here, or by the bank's identity provider): its token and end (UTC)."""
    await db.fetch("UPDATE piccolo_user SET last_login = now() WHERE id = $1", user_id)
    expires = datetime.now() + timedelta(hours=get_settings().session_hours)
    session = await SessionsBase.create_session(
        user_id=user_id, expiry_date=expires, max_expiry_date=expires
    )
    return session.token, expires.astimezone(UTC)


async def count_failure(user_id: int) -> datetime | None:
    """Count a wrong proof (password, one-time code, current password) in one statement,
    so concurrent guesses cannot each read the same count; lock the account at the
    limit. Answers the lock's end, if this failure (or an earlier one) locked it. After a
    lock has expired the count starts again."""
    settings = get_settings()
    expired = "s.locked_until IS NOT NULL AND s.locked_until <= now()"
    count = f"CASE WHEN {expired} THEN 1 ELSE s.failed_logins + 1 END"
    locked_until: datetime | None = await db.fetchval(
        'INSERT INTO bankcrm_user_security AS s ("user", failed_logins, locked_until,'
        " mfa_enabled, password_changed_at) VALUES ($1, 1, NULL, false, now())"
        f' ON CONFLICT ("user") DO UPDATE SET failed_logins = {count},'
        f" locked_until = CASE WHEN {count} >= $2 THEN now() + make_interval(mins => $3)"
        f" WHEN {expired} THEN NULL ELSE s.locked_until END"
        " RETURNING locked_until",
        user_id,
        settings.login_max_failures,
        settings.login_lockout_minutes,
    )
    return locked_until


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


class PasswordRefused(Exception):
    def __init__(self, field: str, problems: list[str], status: int = 422) -> None:
        super().__init__("; ".join(problems))
        self.field = field
        self.problems = problems
        self.status = status


class TooManyFailures(Exception):
    def __init__(self, locked_until: datetime) -> None:
        super().__init__(f"locked until {locked_until:%H:%M}")
        self.locked_until = locked_until


async def change_password(user_id: int, current: str, new: str) -> None:
    """Set ``new`` after checking ``current``; a wrong ``current`` counts toward the lock
    like a wrong login, and a locked account may not try (:class:`TooManyFailures`)."""
    row = await db.fetchrow(
        "SELECT u.username, u.password, s.locked_until, s.password_history FROM piccolo_user u"
        ' LEFT JOIN bankcrm_user_security s ON s."user" = u.id WHERE u.id = $1',
        user_id,
    )
    if row is None:
        raise PasswordRefused("body.current", ["user does not exist"])
    if row["locked_until"] is not None and row["locked_until"] > datetime.now(UTC):
        raise TooManyFailures(row["locked_until"])
    if not await anyio.to_thread.run_sync(passwords.verify, current, row["password"]):
        # Outside any transaction of the caller's: the count must stay when the answer is
        # a refusal.
        locked_until = await count_failure(user_id)
        if locked_until is not None:
            # Whoever guesses with this session is not the user: end every session.
            await db.fetch("DELETE FROM sessions WHERE user_id = $1", user_id)
            raise TooManyFailures(locked_until)
        raise PasswordRefused("body.current", ["current password is wrong"])
    async with db.transaction():
        await set_password(user_id, row["username"], new, row["password"], row["password_history"])


def refusal_problem(
    exc: PasswordRefused | TooManyFailures, fields: dict[str, str] | None = None
) -> Problem:
    """The answer to a refused password change; ``fields`` renames the body fields."""
    if isinstance(exc, TooManyFailures):
        wait = max(1, int((exc.locked_until - datetime.now(UTC)).total_seconds()))
        return Problem(
            429,
            "too many wrong passwords: the account is locked until"
            f" {exc.locked_until.astimezone(STAFF_ZONE):%Y-%m-%d %H:%M} Beijing time (UTC+8)",
            code="locked",
            headers={"Retry-After": str(wait)},
        )
    field = (fields or {}).get(exc.field, exc.field)
    return Problem(
        exc.status,
        "password " + "; ".join(exc.problems),
        [FieldError(field, p) for p in exc.problems],
        "password_policy" if exc.field.endswith("new") else "invalid",
    )


async def new_password_problems(
    user_id: int, username: str, new: str, current_hash: str, history: list[str] | None
) -> tuple[list[str], list[str]]:
    """What the policy says against ``new`` for this user (empty: acceptable), including
    reuse of the current or one of the last passwords; and the hashes to keep as history."""
    problems = passwords.problems(new, username)
    earlier = [current_hash, *(history or [])][: passwords.history_size() + 1]
    if not problems and await anyio.to_thread.run_sync(passwords.reused, new, earlier):
        problems = [f"must differ from your last {passwords.history_size()} passwords"]
    return problems, earlier[: passwords.history_size()]


async def remember_replaced_password(user_id: int, kept: list[str]) -> None:
    """After a new password is stored: unlock, keep the history, end every session. The
    password is the user's own again until an administrator sets one (which marks it
    again, after this)."""
    await _upsert_security(user_id, 0, None)
    await db.fetch(
        "UPDATE bankcrm_user_security SET password_changed_at = now(), password_history = $2,"
        ' must_change_password = false WHERE "user" = $1',
        user_id,
        kept,
    )
    await db.fetch("DELETE FROM sessions WHERE user_id = $1", user_id)


async def password_reset_problems(user_id: int, username: str, new: str) -> list[str]:
    """For an administrator's reset of ``user_id``'s password (stored by the caller after
    this): the policy, including reuse; on success the replaced password joins the history
    and the user's sessions end."""
    row = await db.fetchrow(
        "SELECT u.password, s.password_history FROM piccolo_user u"
        ' LEFT JOIN bankcrm_user_security s ON s."user" = u.id WHERE u.id = $1',
        user_id,
    )
    if row is None:
        return ["user does not exist"]
    problems, kept = await new_password_problems(
        user_id, username, new, row["password"], row["password_history"]
    )
    if not problems:
        await remember_replaced_password(user_id, kept)
    return problems


async def set_password(
    user_id: int, username: str, new: str, current_hash: str, history: list[str] | None
) -> None:
    """Apply the policy (including reuse of the last passwords), store, end every session."""
    problems, kept = await new_password_problems(user_id, username, new, current_hash, history)
    if problems:
        raise PasswordRefused("body.new", problems)
    hashed = await anyio.to_thread.run_sync(passwords.hash_password, new)
    await db.fetch("UPDATE piccolo_user SET password = $1 WHERE id = $2", hashed, user_id)
    await remember_replaced_password(user_id, kept)


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
    problems = passwords.problems(password, username)
    if problems:
        raise ValueError("password " + "; ".join(problems))
    hashed = await anyio.to_thread.run_sync(passwords.hash_password, password)
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


async def unlock(user_id: int) -> None:
    """End a lock and the failure count (the support desk; see ``bankcrm user unlock``)."""
    await _upsert_security(user_id, 0, None)


async def reset_mfa(user_id: int) -> None:
    """Forget the user's TOTP secret (a lost phone) and end their sessions: the next login
    needs the password only, and the user enrols again."""
    await db.fetch(
        "UPDATE bankcrm_user_security SET totp_secret = NULL, mfa_enabled = false"
        ' WHERE "user" = $1',
        user_id,
    )
    await db.fetch("DELETE FROM sessions WHERE user_id = $1", user_id)


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
    "u.id, u.username, u.active, u.superuser, m.branch, r.permissions,"
    " coalesce(sec.must_change_password, false) AS must_change_password"
    " FROM piccolo_user u LEFT JOIN bankcrm_membership m ON m.user = u.id"
    " LEFT JOIN bankcrm_role r ON r.id = m.role"
    ' LEFT JOIN bankcrm_user_security sec ON sec."user" = u.id'
)


async def _scope_from_rows(rows: list[Any], request_id: str | None) -> Scope | None:
    if not rows or not rows[0]["active"]:
        return None
    first = rows[0]
    if first["must_change_password"]:
        # Whoever set the password knows it: until the user replaces it, the session
        # reaches no branch and holds no permission (it may read itself, change the
        # password and log out, which need neither).
        return Scope(
            actor=f"user:{first['id']}",
            branch_ids=frozenset(),
            user_id=first["id"],
            username=first["username"],
            request_id=request_id or uuid.uuid4().hex,
        )
    tree = await branches.snapshot()
    branch_ids: set[int] = set()
    permissions: set[str] = set()
    for row in rows:
        if row["branch"] is not None:
            branch_ids |= tree.subtree(row["branch"])
            permissions |= set(row["permissions"] or [])
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


DEFAULT_OVERLAP_MINUTES = 60
MAX_OVERLAP_MINUTES = 7 * 24 * 60


async def rotate_api_client(
    client_id: int, rotated_by: str, overlap_minutes: int = DEFAULT_OVERLAP_MINUTES
) -> IssuedToken | None:
    """A new token; the current one stays valid for ``overlap_minutes`` (one step back
    only: rotating again ends an earlier overlap)."""
    prefix, token = new_token()
    updated = await db.fetchval(
        "UPDATE bankcrm_api_client SET previous_token_prefix = token_prefix,"
        " previous_token_hash = token_hash,"
        " previous_valid_until = now() + make_interval(mins => $4),"
        " token_prefix = $1, token_hash = $2, rotated_at = now(), rotated_by = $5"
        " WHERE id = $3 AND revoked_at IS NULL RETURNING id",
        prefix,
        _digest(token),
        client_id,
        overlap_minutes,
        rotated_by,
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
        "SELECT id, branch, permissions, CASE WHEN token_prefix = $1 THEN token_hash"
        " ELSE previous_token_hash END AS token_hash FROM bankcrm_api_client"
        " WHERE (token_prefix = $1 OR (previous_token_prefix = $1"
        " AND previous_valid_until > now())) AND revoked_at IS NULL"
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
