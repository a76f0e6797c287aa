"""The admin's forms for what is no row edit: lock, unlock, reset a password or the
one-time codes. Creating users, their memberships and deactivation are row edits on the
users and memberships screens.

The admin gate serves these forms itself (the list, each form's JSON schema and the
submission, in the UI's language) and runs each through :mod:`bankcrm.users.service`, so
the admin keeps exactly the REST API's rules and audit.
"""

from __future__ import annotations

import pydantic

from bankcrm.plugin_api import AdminForm, Label
from bankcrm.users import service
from bankcrm.web.problems import FieldError, Problem


class UsernameForm(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    username: str = pydantic.Field(min_length=1, max_length=100)


class PasswordResetForm(UsernameForm):
    new_password: str | None = pydantic.Field(default=None, max_length=128)
    """Empty: a generated password, shown once in the answer."""


async def _user(username: str) -> int:
    user_id = await service.user_id_by_name(username)
    if user_id is None:
        raise Problem(
            422,
            f"no user named {username!r}",
            [FieldError("body.username", "no such user")],
            "invalid",
        )
    return user_id


async def _lock(data: UsernameForm) -> str:
    await service.lock(await _user(data.username))
    return f"{data.username} 已锁定，会话已结束 / locked, sessions ended"


async def _unlock(data: UsernameForm) -> str:
    await service.unlock(await _user(data.username))
    return f"{data.username} 已解锁 / unlocked"


async def _reset_mfa(data: UsernameForm) -> str:
    await service.reset_mfa(await _user(data.username))
    return f"{data.username} 的动态验证码已重置 / one-time codes reset"


async def _reset_password(data: PasswordResetForm) -> str:
    user = await service.reset_password(
        await _user(data.username), data.new_password or None, field_name="body.new_password"
    )
    if user.password:
        return (
            f"{data.username} 的新密码（仅显示一次，首次登录须修改）/ new password (shown once,"
            f" to be changed at the first login): {user.password}"
        )
    return f"{data.username} 的密码已重置，首次登录须修改 / password reset, to be changed at login"


USERNAME = {"username": Label("用户名", "Username")}
GROUP = Label("用户管理", "User administration")

USER_FORMS = [
    AdminForm(
        "lock-user",
        Label("锁定用户", "Lock a user"),
        Label(
            "锁定账户直到解锁，并结束其全部会话。",
            "Lock the account until unlocked; end its sessions.",
        ),
        UsernameForm,
        _lock,
        service.MANAGE,
        fields=USERNAME,
        group=GROUP,
    ),
    AdminForm(
        "unlock-user",
        Label("解锁用户", "Unlock a user"),
        Label(
            "解除管理员锁定或密码错误导致的锁定。",
            "End a lock, an administrator's or one after wrong passwords.",
        ),
        UsernameForm,
        _unlock,
        service.MANAGE,
        fields=USERNAME,
        group=GROUP,
    ),
    AdminForm(
        "reset-password",
        Label("重置密码", "Reset a password"),
        Label(
            "设置新密码（留空则自动生成并仅显示一次）；用户下次登录须修改，其会话全部结束。",
            "Set a new password (empty: generated, shown once); the user changes it at the next"
            " login and their sessions end.",
        ),
        PasswordResetForm,
        _reset_password,
        service.MANAGE,
        fields={**USERNAME, "new_password": Label("新密码（可留空）", "New password (optional)")},
        group=GROUP,
    ),
    AdminForm(
        "reset-mfa",
        Label("重置动态验证码", "Reset one-time codes"),
        Label(
            "关闭用户的动态验证码（手机丢失时），用户凭密码登录后重新绑定。",
            "Turn off the user's one-time codes (a lost phone); they enrol again after logging in.",
        ),
        UsernameForm,
        _reset_mfa,
        service.MANAGE,
        fields=USERNAME,
        group=GROUP,
    ),
]
