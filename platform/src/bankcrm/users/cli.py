"""``bankcrm user ...``: user administration from the command line, through the same
service as the REST API, acting as ``system:cli`` (every branch, as a superuser)."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import Any

import click

from bankcrm.web.problems import Problem

Within = Callable[[Callable[[Any], Awaitable[Any]]], Any]
"""Runs a coroutine function with a booted kernel and the CLI's scope; gets the branch
tree, returns what the function returns."""

PASSWORD_VARIABLE = "BANKCRM_NEW_PASSWORD"  # noqa: S105 - a variable's name, no secret


def _refusal(exc: Problem) -> click.ClickException:
    details = "; ".join(f"{e.field}: {e.message}" for e in exc.errors)
    return click.ClickException(f"{exc.detail}" + (f" ({details})" if details else ""))


def _branch(tree: Any, code: str) -> int:
    if code not in tree.by_code:
        raise click.BadParameter(f"no branch with code {code!r}", param_hint="--branch")
    branch_id: int = tree.by_code[code]
    return branch_id


async def _user(username: str) -> int:
    from bankcrm.users import service

    user_id = await service.user_id_by_name(username)
    if user_id is None:
        raise click.ClickException(f"no user named {username!r}")
    return user_id


def _describe(user: Any) -> str:
    memberships = ", ".join(f"{m.role}@{m.branch_code}" for m in user.memberships) or "-"
    state = [
        "active" if user.active else "inactive",
        *(["locked"] if user.locked else []),
        *(["superuser"] if user.superuser else []),
        *(["must change password"] if user.password_change_required else []),
    ]
    return f"{user.id}\t{user.username}\t{user.email}\t{memberships}\t{', '.join(state)}"


def add_user_commands(group: click.Group, within: Within) -> None:
    """Add the user administration commands to ``group``."""

    def call(fn: Callable[[Any], Awaitable[Any]]) -> Any:
        try:
            return within(fn)
        except Problem as exc:
            raise _refusal(exc) from exc

    @group.command("create")
    @click.argument("username")
    @click.option("--branch", "branch_code", required=True, help="Branch code, e.g. BJ-HD.")
    @click.option("--role", required=True, help="Role name, e.g. teller.")
    @click.option("--email", required=True, help="Unique; notifications are mailed there.")
    @click.option("--first-name", default="")
    @click.option("--last-name", default="")
    @click.option("--superuser", is_flag=True, help="Manages everything, users included.")
    def create(
        username: str,
        branch_code: str,
        role: str,
        email: str,
        first_name: str,
        last_name: str,
        superuser: bool,
    ) -> None:
        """Create a user with one membership. The password comes from BANKCRM_NEW_PASSWORD
        or is asked for twice (never echoed); the user changes it at the first login."""
        from bankcrm.users import service

        password = os.environ.get(PASSWORD_VARIABLE) or click.prompt(
            f"password for {username}", hide_input=True, confirmation_prompt=True
        )

        async def go(tree: Any) -> service.UserOut:
            new = service.NewUser(
                username=username,
                email=email,
                memberships=[service.Grant(_branch(tree, branch_code), role)],
                first_name=first_name,
                last_name=last_name,
                password=password,
                superuser=superuser,
            )
            return await service.create_user(new, field_prefix="option")

        click.echo(_describe(call(go)))

    def membership_command(name: str, doc: str) -> None:
        @group.command(name, help=doc)
        @click.argument("username")
        @click.option("--branch", "branch_code", required=True, help="Branch code.")
        @click.option("--role", required=True, help="Role name.")
        def command(username: str, branch_code: str, role: str) -> None:
            from bankcrm.users import service

            change = service.grant if name == "grant" else service.revoke

            async def go(tree: Any) -> service.UserOut:
                wanted = service.Grant(_branch(tree, branch_code), role)
                return await change(await _user(username), wanted)

            click.echo(_describe(call(go)))

    membership_command("grant", "Give USERNAME a role in a branch (and its sub-branches).")
    membership_command("revoke", "Take a role in a branch from USERNAME.")

    @group.command("reset-password")
    @click.argument("username")
    def reset_password(username: str) -> None:
        """Set a new password: BANKCRM_NEW_PASSWORD, or a generated one printed once. The
        user's sessions end and they choose their own at the next login."""
        from bankcrm.users import service

        given = os.environ.get(PASSWORD_VARIABLE) or None

        async def go(_: Any) -> service.UserOut:
            return await service.reset_password(
                await _user(username), given, field_name=PASSWORD_VARIABLE
            )

        user = call(go)
        if user.password:
            click.echo(f"new password for {username} (shown once): {user.password}")
        else:
            click.echo(f"{username}: password set from {PASSWORD_VARIABLE}")

    def state_command(name: str, doc: str, change: str) -> None:
        @group.command(name, help=doc)
        @click.argument("username")
        def command(username: str) -> None:
            from bankcrm.users import service

            changes: dict[str, Callable[[int], Awaitable[service.UserOut]]] = {
                "lock": service.lock,
                "unlock": service.unlock,
                "reset_mfa": service.reset_mfa,
                "deactivate": lambda user_id: service.set_active(user_id, False),
                "activate": lambda user_id: service.set_active(user_id, True),
            }

            async def go(_: Any) -> service.UserOut:
                return await changes[change](await _user(username))

            call(go)
            click.echo(f"{username}: {name.replace('-', ' ')} done")

    state_command("lock", "Lock the account until unlocked; the user's sessions end.", "lock")
    state_command(
        "unlock",
        "End the user's lock and failure count now (a lock also ends by itself).",
        "unlock",
    )
    state_command(
        "reset-mfa",
        "Turn off the user's one-time codes (a lost phone) and end their sessions: they log in"
        " with the password and enrol again.",
        "reset_mfa",
    )
    state_command("deactivate", "The user can no longer log in; their sessions end.", "deactivate")
    state_command("activate", "Let a deactivated user log in again.", "activate")

    @group.command("list")
    @click.option("--branch", "branch_code", default=None, help="Only this branch and below.")
    @click.option("--username", default=None, help="Part of the username.")
    @click.option("--inactive", is_flag=True, help="Only deactivated users.")
    def list_users(branch_code: str | None, username: str | None, inactive: bool) -> None:
        """id, username, e-mail, memberships (role@branch) and state, one user a line."""
        from bankcrm.users import service

        async def go(tree: Any) -> list[service.UserOut]:
            branch_id = _branch(tree, branch_code) if branch_code else None
            filters = service.UserFilter(branch_id, username, False if inactive else None)
            found: list[service.UserOut] = []
            after: int | None = None
            while True:
                page, more = await service.list_users(filters, limit=200, after_id=after)
                found += page
                if not more or not page:
                    return found
                after = page[-1].id

        for user in call(go):
            click.echo(_describe(user))
