"""``/api/v1/users``: user administration over REST (the rules are in :mod:`.service`)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Router, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from bankcrm.credentials import credential_guard
from bankcrm.users import service
from bankcrm.users.service import MANAGE, Grant, NewUser, UserFilter, UserOut
from bankcrm.web.guards import require_actor, require_permission
from bankcrm.web.pagination import Page, check_limit, decode_cursor, encode_cursor

READ = {"permission": MANAGE}
CHANGE = {"permission": MANAGE, "credential": "user"}
"""A change to a user is a change to a credential: the caller must hold what it holds."""

USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$"
EMAIL_PATTERN = r"^[^@\s]{1,64}@[^@\s]{1,190}$"


class MembershipIn(msgspec.Struct, forbid_unknown_fields=True):
    branch_id: int
    role: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


Memberships = Annotated[list[MembershipIn], msgspec.Meta(min_length=1, max_length=50)]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]


class UserIn(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(pattern=USERNAME_PATTERN)]
    email: Annotated[str, msgspec.Meta(max_length=255, pattern=EMAIL_PATTERN)]
    """Unique: notifications are mailed there."""
    memberships: Memberships
    first_name: Annotated[str, msgspec.Meta(max_length=150)] = ""
    last_name: Annotated[str, msgspec.Meta(max_length=150)] = ""
    password: Password | None = None
    """Checked by the password policy; leave it out to have one generated (answered once)."""
    superuser: bool = False
    admin_ui: bool = True


class MembershipsIn(msgspec.Struct, forbid_unknown_fields=True):
    memberships: Memberships


class PasswordResetIn(msgspec.Struct, forbid_unknown_fields=True):
    password: Password | None = None
    """Leave it out to have one generated (answered once)."""


def _grants(items: list[MembershipIn]) -> list[Grant]:
    return [Grant(item.branch_id, item.role) for item in items]


@get("/users", opt=READ)
async def list_users(
    branch_id: FromQuery[int | None] = None,
    username: Annotated[str | None, QueryParameter(max_length=100)] = None,
    active: FromQuery[bool | None] = None,
    limit: FromQuery[int] = 50,
    cursor: Annotated[str | None, QueryParameter(max_length=512)] = None,
) -> Page[UserOut]:
    """The users you manage (all of their memberships lie in branches where you hold
    ``bankcrm.user.manage``), by id; ``branch_id`` includes the branch's sub-branches."""
    check_limit(limit)
    after = decode_cursor(cursor, (int,))
    items, more = await service.list_users(
        UserFilter(branch_id, username, active), limit=limit, after_id=after[0] if after else None
    )
    return Page(items, encode_cursor([items[-1].id]) if more and items else None)


@get("/users/{user_id:int}", opt=READ)
async def get_user(user_id: FromPath[int]) -> UserOut:
    return await service.get_user(user_id)


@post("/users", opt=CHANGE)
async def create_user(data: JSONBody[UserIn]) -> UserOut:
    """Create an account with its memberships. Without ``password`` one is generated and
    answered once, in ``password``; either way the user must change it at first login."""
    created = await service.create_user(
        NewUser(
            username=data.username,
            memberships=_grants(data.memberships),
            email=data.email,
            first_name=data.first_name,
            last_name=data.last_name,
            password=data.password,
            superuser=data.superuser,
            admin_ui=data.admin_ui,
        )
    )
    return created


@put("/users/{user_id:int}/memberships", opt=CHANGE)
async def set_memberships(user_id: FromPath[int], data: JSONBody[MembershipsIn]) -> UserOut:
    """Replace the user's roles and branches (``[{"branch_id", "role"}]``)."""
    return await service.set_memberships(user_id, _grants(data.memberships))


@post("/users/{user_id:int}/reset-password", opt=CHANGE, status_code=200)
async def reset_password(
    user_id: FromPath[int], data: JSONBody[PasswordResetIn | None] = None
) -> UserOut:
    """Set a new password (given, or generated and answered once); the user must change it
    at the next login, and their sessions end."""
    return await service.reset_password(user_id, data.password if data else None)


@post("/users/{user_id:int}/lock", opt=CHANGE, status_code=200)
async def lock_user(user_id: FromPath[int]) -> UserOut:
    """Lock the account until unlocked; the user's sessions end."""
    return await service.lock(user_id)


@post("/users/{user_id:int}/unlock", opt=CHANGE, status_code=200)
async def unlock_user(user_id: FromPath[int]) -> UserOut:
    """End a lock, an administrator's or one after wrong passwords."""
    return await service.unlock(user_id)


@post("/users/{user_id:int}/reset-mfa", opt=CHANGE, status_code=200)
async def reset_mfa(user_id: FromPath[int]) -> UserOut:
    """Turn off the user's one-time codes (a lost phone); their sessions end."""
    return await service.reset_mfa(user_id)


@post("/users/{user_id:int}/deactivate", opt=CHANGE, status_code=200)
async def deactivate_user(user_id: FromPath[int]) -> UserOut:
    """The user can no longer log in and their sessions end; the account and its history
    stay (staff are never deleted)."""
    return await service.set_active(user_id, False)


@post("/users/{user_id:int}/activate", opt=CHANGE, status_code=200)
async def activate_user(user_id: FromPath[int]) -> UserOut:
    return await service.set_active(user_id, True)


def user_router() -> Router:
    return Router(
        path="/api/v1",
        route_handlers=[
            list_users,
            get_user,
            create_user,
            set_memberships,
            reset_password,
            lock_user,
            unlock_user,
            reset_mfa,
            deactivate_user,
            activate_user,
        ],
        guards=[require_actor, require_permission, credential_guard],
        tags=["users"],
    )
