"""The request/job scope: who acts, on which branches, with which permissions.

Every entry point (HTTP request, admin request, job message, CLI command) resolves a
:class:`Scope` and binds it with :func:`bind_scope`; the database layer applies it to
every connection it hands out, and PostgreSQL row-level security does the rest. With no
scope bound, the database sees no branch ids and returns no scoped rows (fail-closed).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Scope:
    actor: str
    """``user:<id>``, ``client:<id>`` or ``system:<purpose>``: written to the audit trail."""
    branch_ids: frozenset[int]
    permissions: frozenset[str] = frozenset()
    user_id: int | None = None
    client_id: int | None = None
    home_branch_id: int | None = None
    username: str = ""
    is_superuser: bool = False
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def has(self, permission: str) -> bool:
        return self.is_superuser or permission in self.permissions

    def narrowed(self, branch_ids: frozenset[int]) -> Scope:
        """The same actor limited to ``branch_ids`` (e.g. where a plugin is enabled)."""
        return Scope(
            actor=self.actor,
            branch_ids=self.branch_ids & branch_ids,
            permissions=self.permissions,
            user_id=self.user_id,
            client_id=self.client_id,
            home_branch_id=self.home_branch_id,
            username=self.username,
            is_superuser=self.is_superuser,
            request_id=self.request_id,
        )


_current_scope: ContextVar[Scope | None] = ContextVar("bankcrm_scope", default=None)


def current_scope() -> Scope | None:
    return _current_scope.get()


def require_scope() -> Scope:
    scope = _current_scope.get()
    if scope is None:
        raise PermissionError("no actor scope is bound")
    return scope


def set_scope(scope: Scope | None) -> None:
    """Bind ``scope`` for the rest of the current task (entry points only)."""
    _current_scope.set(scope)


@contextlib.contextmanager
def bind_scope(scope: Scope | None) -> Iterator[Scope | None]:
    token = _current_scope.set(scope)
    try:
        yield scope
    finally:
        _current_scope.reset(token)


def scope_setting(scope: Scope | None) -> tuple[str, str]:
    """The two values the database policies read: branch ids and actor."""
    if scope is None or not scope.branch_ids:
        return "", ""
    return ",".join(str(i) for i in sorted(scope.branch_ids)), scope.actor
