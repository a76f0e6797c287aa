"""User administration: the one implementation the REST API, the CLI and the admin use.

Who may manage whom. A superuser manages everyone. Anyone else holding
``bankcrm.user.manage`` manages the users whose memberships all lie in branches where
they hold that permission (their *reach*, sub-branches included); every other user is
invisible to them (404). They may give a user only a role whose permissions they hold
themselves in that branch, and may change a user (memberships, password, lock, active)
only if that user holds nothing they could not have granted: resetting a password lets the
caller act as the user (403 ``credential_exceeds_caller``). Superusers are managed by
superusers only. Nobody manages their own account here: their password goes through
``POST /api/v1/auth/password`` (which asks for the current one), their access through
another administrator.

Every change is audited in the same transaction, as ``bankcrm.user`` or
``bankcrm.membership`` with before and after; passwords and their hashes never are.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import anyio.to_thread
import asyncpg
import msgspec

from bankcrm import audit, auth, branches, db, passwords
from bankcrm.context import Scope, require_scope
from bankcrm.web.problems import FieldError, Problem, not_found

MANAGE = "bankcrm.user.manage"
USER_ENTITY = "bankcrm.user"
MEMBERSHIP_ENTITY = "bankcrm.membership"

INDEFINITE_LOCK = datetime(9999, 12, 31, tzinfo=UTC)
"""An administrator's lock: it lasts until someone unlocks the account."""

EXCEEDS = "credential_exceeds_caller"


# --- what callers see ----------------------------------------------------------------------


class MembershipOut(msgspec.Struct):
    id: int
    branch_id: int
    branch_code: str
    role: str
    role_title: str


class UserOut(msgspec.Struct):
    id: int
    username: str
    email: str
    first_name: str
    last_name: str
    active: bool
    superuser: bool
    admin_ui: bool
    """May open the admin UI (piccolo's ``admin`` flag); what it shows is up to the roles."""
    locked: bool
    locked_until: datetime | None
    """The end of a lock after wrong passwords; 9999-12-31 for an administrator's lock."""
    password_change_required: bool
    mfa_enabled: bool
    last_login: datetime | None
    password_changed_at: datetime | None
    memberships: list[MembershipOut]
    password: str | None = None
    """Only in the answer that generated it (create, reset): give it to the user, it is not
    shown again."""


@dataclass(frozen=True)
class Grant:
    """A membership asked for: a role in a branch."""

    branch_id: int
    role: str


@dataclass(frozen=True)
class NewUser:
    username: str
    email: str
    """Required and unique (the user table's rule): notifications are mailed there."""
    memberships: Sequence[Grant] = ()
    first_name: str = ""
    last_name: str = ""
    password: str | None = None
    """None: generate one (returned once)."""
    superuser: bool = False
    admin_ui: bool = True


# --- reach: where the caller manages users, with which permissions ---------------------------


@dataclass(frozen=True)
class Reach:
    everything: bool
    held: dict[int, frozenset[str]] = field(default_factory=dict)
    """branch id -> the permissions the caller holds there."""

    def holds(self, branch_id: int) -> frozenset[str]:
        return self.held.get(branch_id, frozenset())

    @property
    def manageable(self) -> frozenset[int]:
        return frozenset(b for b, held in self.held.items() if MANAGE in held)


async def reach_of(scope: Scope) -> Reach:
    """Per branch, what ``scope`` holds: a user's memberships each count in their own
    subtree only (a branch manager in Beijing and a teller in Shanghai manages no one in
    Shanghai); an API client holds its permissions in its whole scope."""
    if scope.is_superuser:
        return Reach(everything=True)
    held: dict[int, set[str]] = {}
    if scope.user_id is not None:
        tree = await branches.snapshot()
        rows = await db.fetch(
            "SELECT m.branch, r.permissions FROM bankcrm_membership m"
            ' JOIN bankcrm_role r ON r.id = m.role WHERE m."user" = $1',
            scope.user_id,
        )
        for row in rows:
            for branch_id in tree.subtree(row["branch"]) & scope.branch_ids:
                held.setdefault(branch_id, set()).update(row["permissions"] or [])
    else:
        for branch_id in scope.branch_ids:
            held[branch_id] = set(scope.permissions)
    return Reach(False, {b: frozenset(p) for b, p in held.items()})


# --- accounts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Held:
    id: int
    branch_id: int
    role: str
    role_title: str
    permissions: frozenset[str]


@dataclass(frozen=True)
class Account:
    row: asyncpg.Record
    memberships: list[Held]

    @property
    def id(self) -> int:
        return int(self.row["id"])

    @property
    def username(self) -> str:
        return str(self.row["username"])

    @property
    def home_branch(self) -> int | None:
        return self.memberships[0].branch_id if self.memberships else None


def _aware(moment: datetime | None) -> datetime | None:
    """Piccolo writes ``last_login`` as the server's naive local time: say which."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.astimezone(UTC)


_USER_COLUMNS = (
    "u.id, u.username, u.email, u.first_name, u.last_name, u.active, u.admin, u.superuser,"
    " u.last_login, u.password, s.locked_until, s.password_history, s.password_changed_at,"
    " coalesce(s.must_change_password, false) AS must_change_password,"
    " coalesce(s.mfa_enabled, false) AS mfa_enabled"
    ' FROM piccolo_user u LEFT JOIN bankcrm_user_security s ON s."user" = u.id'
)


async def _memberships(user_ids: list[int]) -> dict[int, list[Held]]:
    rows = await db.fetch(
        'SELECT m.id, m."user", m.branch, r.name, r.title, r.permissions'
        " FROM bankcrm_membership m JOIN bankcrm_role r ON r.id = m.role"
        ' WHERE m."user" = ANY($1::int[]) ORDER BY m.id',
        user_ids,
    )
    found: dict[int, list[Held]] = {user_id: [] for user_id in user_ids}
    for row in rows:
        found[row["user"]].append(
            Held(
                row["id"],
                row["branch"],
                row["name"],
                row["title"],
                frozenset(row["permissions"] or []),
            )
        )
    return found


async def _account(user_id: int, *, for_update: bool = False) -> Account | None:
    lock = " FOR UPDATE OF u" if for_update else ""
    row = await db.fetchrow(f"SELECT {_USER_COLUMNS} WHERE u.id = $1{lock}", user_id)
    if row is None:
        return None
    return Account(row, (await _memberships([user_id]))[user_id])


async def user_id_by_name(username: str) -> int | None:
    found: int | None = await db.fetchval(
        "SELECT id FROM piccolo_user WHERE username = $1", username
    )
    return found


def _hidden(reach: Reach, account: Account) -> bool:
    if reach.everything:
        return False
    manageable = reach.manageable
    return not account.memberships or any(
        m.branch_id not in manageable for m in account.memberships
    )


def _exceeding(reach: Reach, account: Account, codes: dict[int, str]) -> list[FieldError]:
    if reach.everything:
        return []
    problems = []
    if account.row["superuser"]:
        problems.append(FieldError("user", "is a superuser: only superusers manage superusers"))
    for m in account.memberships:
        missing = sorted(m.permissions - reach.holds(m.branch_id))
        if missing:
            where = codes.get(m.branch_id, str(m.branch_id))
            problems.append(
                FieldError(
                    "user.memberships",
                    f"{m.role} in {where} holds what you lack there: {', '.join(missing)}",
                )
            )
    return problems


async def _authorised(user_id: int, *, for_update: bool = False) -> tuple[Scope, Account]:
    """The account, if the caller may change it (404 when out of reach, 403 beyond it)."""
    scope = require_scope()
    reach = await reach_of(scope)
    account = await _account(user_id, for_update=for_update)
    if account is None or _hidden(reach, account):
        raise not_found(f"user {user_id}")
    if scope.user_id is not None and account.id == scope.user_id:
        raise Problem(
            403,
            "you cannot change your own account here: change your password with"
            " POST /api/v1/auth/password; another administrator changes your access",
            [FieldError("user", "is your own account")],
            "own_account",
        )
    tree = await branches.snapshot()
    codes = {b: n.code for b, n in tree.nodes.items()}
    problems = _exceeding(reach, account, codes)
    if problems:
        raise Problem(403, "this user holds more than you may grant", problems, EXCEEDS)
    return scope, account


def _audit_branch(scope: Scope, branch_id: int | None) -> int | None:
    """The branch an audit row is filed under: the user's (home) branch, if the caller's
    scope covers it (a superuser without memberships files branch-less rows)."""
    return branch_id if branch_id is not None and branch_id in scope.branch_ids else None


async def _out(account: Account, password: str | None = None) -> UserOut:
    tree = await branches.snapshot()
    row = account.row
    locked_until = row["locked_until"]
    return UserOut(
        id=account.id,
        username=account.username,
        email=row["email"] or "",
        first_name=row["first_name"] or "",
        last_name=row["last_name"] or "",
        active=bool(row["active"]),
        superuser=bool(row["superuser"]),
        admin_ui=bool(row["admin"]),
        locked=locked_until is not None and locked_until > datetime.now(UTC),
        locked_until=locked_until,
        password_change_required=bool(row["must_change_password"]),
        mfa_enabled=bool(row["mfa_enabled"]),
        last_login=_aware(row["last_login"]),
        password_changed_at=row["password_changed_at"],
        memberships=[
            MembershipOut(
                m.id,
                m.branch_id,
                tree.nodes[m.branch_id].code if m.branch_id in tree.nodes else "",
                m.role,
                m.role_title,
            )
            for m in account.memberships
        ],
        password=password,
    )


# --- reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserFilter:
    branch_id: int | None = None
    """Users with a membership in this branch or below it."""
    username: str | None = None
    """Part of the username, any case."""
    active: bool | None = None


async def list_users(
    filters: UserFilter, *, limit: int, after_id: int | None = None
) -> tuple[list[UserOut], bool]:
    """Users the caller may manage, by id; and whether more follow."""
    scope = require_scope()
    reach = await reach_of(scope)
    tree = await branches.snapshot()
    in_branch = None
    if filters.branch_id is not None:
        if filters.branch_id not in tree.nodes:
            raise Problem(
                422,
                "query.branch_id: no such branch",
                [FieldError("query.branch_id", "no such branch")],
                "invalid",
            )
        in_branch = sorted(tree.subtree(filters.branch_id))
    rows = await db.fetch(
        f"SELECT {_USER_COLUMNS} WHERE ($1::bool OR ("
        ' EXISTS (SELECT 1 FROM bankcrm_membership m WHERE m."user" = u.id)'
        ' AND NOT EXISTS (SELECT 1 FROM bankcrm_membership m WHERE m."user" = u.id'
        " AND NOT m.branch = ANY($2::bigint[]))))"
        " AND ($3::bigint[] IS NULL OR EXISTS (SELECT 1 FROM bankcrm_membership m"
        ' WHERE m."user" = u.id AND m.branch = ANY($3::bigint[])))'
        " AND ($4::text IS NULL OR position(lower($4) IN lower(u.username)) > 0)"
        " AND ($5::bool IS NULL OR u.active = $5)"
        " AND ($6::bigint IS NULL OR u.id > $6)"
        " ORDER BY u.id LIMIT $7",
        reach.everything,
        sorted(reach.manageable),
        in_branch,
        filters.username,
        filters.active,
        after_id,
        limit + 1,
    )
    held = await _memberships([r["id"] for r in rows[:limit]])
    items = [await _out(Account(r, held[r["id"]])) for r in rows[:limit]]
    return items, len(rows) > limit


async def get_user(user_id: int) -> UserOut:
    reach = await reach_of(require_scope())
    account = await _account(user_id)
    if account is None or _hidden(reach, account):
        raise not_found(f"user {user_id}")
    return await _out(account)


# --- grants --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckedGrant:
    branch_id: int
    role_id: int
    role: str


async def _check_grants(
    reach: Reach, grants: Sequence[Grant], field_name: str
) -> list[CheckedGrant]:
    """The grants as rows to insert, or the first problem: unknown branch or role (422),
    a branch outside the caller's reach (403), a role holding more than the caller holds
    in that branch (403)."""
    tree = await branches.snapshot()
    roles = {
        row["name"]: row
        for row in await db.fetch(
            "SELECT id, name, permissions FROM bankcrm_role WHERE name = ANY($1::text[])",
            sorted({g.role for g in grants}),
        )
    }
    checked: list[CheckedGrant] = []
    seen: set[tuple[int, str]] = set()
    for i, grant in enumerate(grants):
        where = f"{field_name}[{i}]"
        node = tree.nodes.get(grant.branch_id)
        if node is None or not node.active:
            raise _invalid(f"{where}.branch_id", "no such branch, or it is closed")
        if not reach.everything and grant.branch_id not in reach.manageable:
            raise Problem(
                403,
                f"{where}.branch_id: you do not manage users in {node.code}",
                [FieldError(f"{where}.branch_id", f"you do not manage users in {node.code}")],
                "forbidden",
            )
        role = roles.get(grant.role)
        if role is None:
            raise _invalid(f"{where}.role", f"no role named {grant.role!r}")
        missing = sorted(set(role["permissions"] or []) - reach.holds(grant.branch_id))
        if not reach.everything and missing:
            message = f"{grant.role} holds what you lack in {node.code}: {', '.join(missing)}"
            raise Problem(
                403,
                f"{where}.role: {message}",
                [FieldError(f"{where}.role", message)],
                EXCEEDS,
            )
        if (grant.branch_id, grant.role) in seen:
            raise _invalid(where, "given twice")
        seen.add((grant.branch_id, grant.role))
        checked.append(CheckedGrant(grant.branch_id, role["id"], grant.role))
    return checked


def _invalid(field_name: str, message: str) -> Problem:
    return Problem(422, f"{field_name}: {message}", [FieldError(field_name, message)], "invalid")


def _membership_record(account_id: int, username: str, branch_id: int, role: str) -> dict[str, Any]:
    return {"user": account_id, "username": username, "branch_id": branch_id, "role": role}


async def _write_memberships(
    scope: Scope,
    account_id: int,
    username: str,
    current: Iterable[Held],
    wanted: Sequence[CheckedGrant],
) -> None:
    """Replace ``current`` by ``wanted``, one audit row per membership added or removed."""
    keep = {(g.branch_id, g.role) for g in wanted}
    have = {(m.branch_id, m.role) for m in current}
    for m in current:
        if (m.branch_id, m.role) in keep:
            continue
        await db.fetch("DELETE FROM bankcrm_membership WHERE id = $1", m.id)
        await audit.record(
            audit.Action.DELETE,
            MEMBERSHIP_ENTITY,
            m.id,
            branch_id=_audit_branch(scope, m.branch_id),
            before=_membership_record(account_id, username, m.branch_id, m.role),
        )
    for grant in wanted:
        if (grant.branch_id, grant.role) in have:
            continue
        membership_id = await db.fetchval(
            'INSERT INTO bankcrm_membership ("user", branch, role) VALUES ($1, $2, $3)'
            " RETURNING id",
            account_id,
            grant.branch_id,
            grant.role_id,
        )
        await audit.record(
            audit.Action.CREATE,
            MEMBERSHIP_ENTITY,
            membership_id,
            branch_id=_audit_branch(scope, grant.branch_id),
            after=_membership_record(account_id, username, grant.branch_id, grant.role),
        )


def _need_a_membership(grants: Sequence[Grant], field_name: str) -> None:
    if not grants:
        raise _invalid(
            field_name,
            "give at least one membership (a user without one reaches no branch); to stop"
            " someone working, deactivate the account",
        )


# --- passwords -----------------------------------------------------------------------------

_GROUPS = ("abcdefghijkmnpqrstuvwxyz", "ABCDEFGHJKLMNPQRSTUVWXYZ", "23456789", "-_.!@#%+=?")
"""No 0/O, 1/l/I: a generated password is read out or typed from paper."""


def generate_password(length: int = 16) -> str:
    """A random password the policy accepts, with every character class."""
    alphabet = "".join(_GROUPS)
    while True:
        chars = [secrets.choice(group) for group in _GROUPS]
        chars += [secrets.choice(alphabet) for _ in range(length - len(chars))]
        secrets.SystemRandom().shuffle(chars)
        password = "".join(chars)
        if not passwords.problems(password):
            return password


async def require_password_change(user_id: int) -> None:
    await db.fetch(
        'UPDATE bankcrm_user_security SET must_change_password = true WHERE "user" = $1',
        user_id,
    )


def _password_problem(problems: list[str], field_name: str) -> Problem:
    return Problem(
        422,
        "password " + "; ".join(problems),
        [FieldError(field_name, p) for p in problems],
        "password_policy",
    )


# --- changes -------------------------------------------------------------------------------


async def create_user(new: NewUser, *, field_prefix: str = "body") -> UserOut:
    """A new account with its memberships; with no password given, one is generated and
    returned once in ``password``."""
    scope = require_scope()
    reach = await reach_of(scope)
    if new.superuser and not reach.everything:
        raise Problem(
            403,
            "only superusers create superusers",
            [FieldError(f"{field_prefix}.superuser", "only superusers create superusers")],
            "forbidden",
        )
    _need_a_membership(new.memberships, f"{field_prefix}.memberships")
    grants = await _check_grants(reach, new.memberships, f"{field_prefix}.memberships")
    generated = new.password is None
    password = generate_password() if new.password is None else new.password
    problems = passwords.problems(password, new.username)
    if problems:
        raise _password_problem(problems, f"{field_prefix}.password")

    def taken(what: str) -> Problem:
        value = new.username if what == "username" else new.email
        return Problem(
            409,
            f"the {what} {value!r} is taken",
            [FieldError(f"{field_prefix}.{what}", "is taken")],
            "conflict",
        )

    if await user_id_by_name(new.username) is not None:
        raise taken("username")
    if await db.fetchval("SELECT 1 FROM piccolo_user WHERE email = $1", new.email):
        raise taken("email")
    try:
        async with db.transaction():
            user_id = await auth.create_user(
                new.username,
                password,
                email=new.email,
                first_name=new.first_name,
                last_name=new.last_name,
                superuser=new.superuser,
                admin_ui=new.admin_ui,
            )
            await require_password_change(user_id)
            home = grants[0].branch_id if grants else None
            await audit.record(
                audit.Action.CREATE,
                USER_ENTITY,
                user_id,
                branch_id=_audit_branch(scope, home),
                after={
                    "username": new.username,
                    "email": new.email,
                    "first_name": new.first_name,
                    "last_name": new.last_name,
                    "superuser": new.superuser,
                    "admin_ui": new.admin_ui,
                    "password": "generated" if generated else "set by the administrator",
                },
            )
            await _write_memberships(scope, user_id, new.username, [], grants)
    except asyncpg.UniqueViolationError as exc:
        # Someone took the name or address meanwhile.
        raise taken("email" if "email" in str(exc.constraint_name) else "username") from exc
    account = await _account(user_id)
    assert account is not None
    return await _out(account, password if generated else None)


async def set_memberships(
    user_id: int, grants: Sequence[Grant], *, field_name: str = "body.memberships"
) -> UserOut:
    """Replace the user's memberships by ``grants``."""
    scope, account = await _authorised(user_id)
    reach = await reach_of(scope)
    _need_a_membership(grants, field_name)
    checked = await _check_grants(reach, grants, field_name)
    async with db.transaction():
        scope, account = await _authorised(user_id, for_update=True)
        await _write_memberships(scope, account.id, account.username, account.memberships, checked)
    return await get_user(user_id)


async def grant(user_id: int, wanted: Grant) -> UserOut:
    """Add one membership (nothing changes if the user holds it already)."""
    _, account = await _authorised(user_id)
    current = [Grant(m.branch_id, m.role) for m in account.memberships]
    if wanted in current:
        return await _out(account)
    return await set_memberships(user_id, [*current, wanted], field_name="memberships")


async def revoke(user_id: int, unwanted: Grant) -> UserOut:
    """Remove one membership; a :class:`Problem` (422) if the user does not hold it."""
    _, account = await _authorised(user_id)
    current = [Grant(m.branch_id, m.role) for m in account.memberships]
    if unwanted not in current:
        raise _invalid("membership", f"{account.username} does not hold that role there")
    return await set_memberships(
        user_id, [g for g in current if g != unwanted], field_name="memberships"
    )


async def reset_password(
    user_id: int, password: str | None = None, *, field_name: str = "body.password"
) -> UserOut:
    """Set a new password (``None``: generate one, returned once), which the user must
    change at the next login; the user's sessions end. An administrator's lock stays; a
    lock after wrong passwords ends (the usual reason to call the support desk)."""
    _, account = await _authorised(user_id)
    generated = password is None
    new = generate_password() if password is None else passwords.normalised(password)
    problems, kept = await auth.new_password_problems(
        account.id,
        account.username,
        new,
        account.row["password"],
        account.row["password_history"],
    )
    if problems:
        raise _password_problem(problems, field_name)
    hashed = await anyio.to_thread.run_sync(passwords.hash_password, new)
    async with db.transaction():
        scope, account = await _authorised(user_id, for_update=True)
        await db.fetch("UPDATE piccolo_user SET password = $1 WHERE id = $2", hashed, account.id)
        await auth.remember_replaced_password(account.id, kept)
        locked_until = account.row["locked_until"]
        keep_lock = locked_until if locked_until == INDEFINITE_LOCK else None
        await db.fetch(
            "UPDATE bankcrm_user_security SET must_change_password = true, locked_until = $2"
            ' WHERE "user" = $1',
            account.id,
            keep_lock,
        )
        await audit.record(
            audit.Action.UPDATE,
            USER_ENTITY,
            account.id,
            branch_id=_audit_branch(scope, account.home_branch),
            before={
                "password_change_required": bool(account.row["must_change_password"]),
                "locked_until": locked_until,
            },
            after={
                "password": "generated" if generated else "set by the administrator",
                "password_change_required": True,
                "locked_until": keep_lock,
                "sessions": "ended",
            },
            reason="password reset",
        )
    return await _out(await _reloaded(user_id), new if generated else None)


async def _reloaded(user_id: int) -> Account:
    account = await _account(user_id)
    assert account is not None
    return account


async def _set_state(
    user_id: int,
    change: Callable[[int], Awaitable[object]],
    *,
    what: str,
    after: dict[str, Any],
    end_sessions: bool,
) -> UserOut:
    async with db.transaction():
        scope, account = await _authorised(user_id, for_update=True)
        await change(account.id)
        if end_sessions:
            await db.fetch("DELETE FROM sessions WHERE user_id = $1", account.id)
        await audit.record(
            audit.Action.UPDATE,
            USER_ENTITY,
            account.id,
            branch_id=_audit_branch(scope, account.home_branch),
            before={key: account.row[column] for key, column in _STATE.items() if key in after},
            after=after,
            reason=what,
        )
    return await get_user(user_id)


_STATE = {"active": "active", "locked_until": "locked_until", "mfa_enabled": "mfa_enabled"}
"""Audited state: key -> column of the account's row."""


async def _lock_indefinitely(user_id: int) -> None:
    await db.fetch(
        'INSERT INTO bankcrm_user_security AS s ("user", failed_logins, locked_until,'
        " mfa_enabled, password_changed_at) VALUES ($1, 0, $2, false, now())"
        ' ON CONFLICT ("user") DO UPDATE SET locked_until = $2',
        user_id,
        INDEFINITE_LOCK,
    )


async def lock(user_id: int) -> UserOut:
    """Lock the account until someone unlocks it; the user's sessions end."""
    return await _set_state(
        user_id,
        _lock_indefinitely,
        what="locked",
        after={"locked_until": INDEFINITE_LOCK, "sessions": "ended"},
        end_sessions=True,
    )


async def unlock(user_id: int) -> UserOut:
    """End a lock (an administrator's or one after wrong passwords) and the failure count."""
    return await _set_state(
        user_id, auth.unlock, what="unlocked", after={"locked_until": None}, end_sessions=False
    )


async def reset_mfa(user_id: int) -> UserOut:
    """Turn off the user's one-time codes (a lost phone); their sessions end and they enrol
    again after logging in with the password."""
    return await _set_state(
        user_id,
        auth.reset_mfa,
        what="one-time codes reset",
        after={"mfa_enabled": False, "sessions": "ended"},
        end_sessions=True,
    )


async def set_active(user_id: int, active: bool) -> UserOut:
    """Deactivate (no login, sessions end; memberships stay for the record) or reactivate."""

    async def change(account_id: int) -> None:
        await db.fetch("UPDATE piccolo_user SET active = $2 WHERE id = $1", account_id, active)

    return await _set_state(
        user_id,
        change,
        what="activated" if active else "deactivated",
        after={"active": active, **({} if active else {"sessions": "ended"})},
        end_sessions=not active,
    )


__all__ = [
    "INDEFINITE_LOCK",
    "MANAGE",
    "MEMBERSHIP_ENTITY",
    "USER_ENTITY",
    "Grant",
    "MembershipOut",
    "NewUser",
    "Reach",
    "UserFilter",
    "UserOut",
    "create_user",
    "generate_password",
    "get_user",
    "grant",
    "list_users",
    "lock",
    "reach_of",
    "require_password_change",
    "reset_mfa",
    "reset_password",
    "revoke",
    "set_active",
    "set_memberships",
    "unlock",
    "user_id_by_name",
]
