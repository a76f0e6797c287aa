"""Kernel tables.

Every table in the deployment is either branch-scoped (it has ``branch_id`` and gets a
row-level-security policy) or declared global with :func:`global_table` and a reason; the
kernel refuses to start when a table is neither (see :mod:`bankcrm.rls`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from piccolo.apps.user.tables import BaseUser
from piccolo.columns import (
    JSONB,
    Array,
    BigInt,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    OnDelete,
    Serial,
    Text,
    Time,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.readable import Readable
from piccolo.table import Table

T = TypeVar("T", bound=type[Table])

GLOBAL_REASON_ATTRIBUTE = "_bankcrm_global_reason"


def global_table(reason: str) -> Callable[[T], T]:
    """Declare a table as not branch-scoped; ``reason`` is shown by ``bankcrm plugins``."""

    def mark(table: T) -> T:
        setattr(table, GLOBAL_REASON_ATTRIBUTE, reason)
        return table

    return mark


@global_table("the branch tree resolves every actor's scope, so it is read before any scope")
class Branch(Table, tablename="bankcrm_branch"):
    code = Varchar(length=32, unique=True)
    name = Varchar(length=200)
    name_en = Varchar(length=200, default="")
    parent: ForeignKey[Any] = ForeignKey("self", null=True, on_delete=OnDelete.restrict)
    level = Integer(default=0)
    """0 head office, 1 branch, 2 sub-branch (deeper levels are allowed)."""
    path = Varchar(length=400, index=True)
    """Ancestor ids joined by '/', ending with '/', e.g. ``1/4/9/``: subtree = prefix match."""
    active = Boolean(default=True)

    @classmethod
    def get_readable(cls) -> Readable:
        """How pickers and foreign-key columns show a branch: code and name."""
        return Readable(template="%s %s", columns=[cls.code, cls.name])


def branch_column() -> ForeignKey:
    """The ``branch_id`` column every branch-scoped table declares.

    Name the attribute ``branch_id``: the RLS policies and the generated isolation tests
    find scoped tables by that column.
    """
    return ForeignKey(Branch, on_delete=OnDelete.restrict, null=False, index=True)


@global_table("roles are deployment-wide definitions; who holds them is per branch")
class Role(Table, tablename="bankcrm_role"):
    name = Varchar(length=64, unique=True)
    title = Varchar(length=200)
    title_en = Varchar(length=200, default="")
    permissions = Array(base_column=Varchar(length=128))
    managed = Boolean(default=False)
    """Declared by the kernel or a plugin (``register_roles``) and kept in step with the
    declarations by ``bankcrm migrate``; false for the bank's own (custom) roles, which
    the kernel never changes."""
    description = Text(default="")


@global_table("memberships grant scope; managed by superusers only")
class Membership(Table, tablename="bankcrm_membership"):
    user = ForeignKey(BaseUser, on_delete=OnDelete.cascade, index=True)
    branch = ForeignKey(Branch, on_delete=OnDelete.restrict)
    role = ForeignKey(Role, on_delete=OnDelete.restrict)


@global_table("enablement decides scope per plugin, so it is read before any scope")
class PluginEnablement(Table, tablename="bankcrm_plugin_enablement"):
    branch = ForeignKey(Branch, on_delete=OnDelete.cascade)
    plugin = Varchar(length=64)
    enabled = Boolean(default=True)
    settings = JSONB(default={})
    changed_by = Varchar(length=128, default="")
    changed_at = Timestamptz(default=TimestamptzNow())


@global_table("security state of staff accounts; kernel-managed, never exposed to branches")
class UserSecurity(Table, tablename="bankcrm_user_security"):
    user = ForeignKey(BaseUser, on_delete=OnDelete.cascade, unique=True)
    failed_logins = Integer(default=0)
    locked_until = Timestamptz(null=True, default=None)
    totp_secret = Text(null=True, default=None)
    """Encrypted with the deployment key (see :mod:`bankcrm.pii`)."""
    mfa_enabled = Boolean(default=False)
    password_changed_at = Timestamptz(default=TimestamptzNow())
    password_history = Array(base_column=Varchar(length=256), default=list)
    """Hashes of the passwords before the current one, newest first (no reuse)."""
    must_change_password = Boolean(default=False)
    """Set when an administrator chose the password: until the user changes it, their
    sessions act with no branch and no permission (see :mod:`bankcrm.users`)."""


@global_table("login attempts are recorded before an actor exists")
class LoginAttempt(Table, tablename="bankcrm_login_attempt"):
    username = Varchar(length=150, index=True)
    ip = Varchar(length=64, default="", index=True)
    success = Boolean(default=False)
    reason = Varchar(length=64, default="")
    at = Timestamptz(default=TimestamptzNow(), index=True)


@global_table("API clients are bound to a branch in their own column; kernel-managed")
class ApiClient(Table, tablename="bankcrm_api_client"):
    name = Varchar(length=200)
    branch = ForeignKey(Branch, on_delete=OnDelete.restrict)
    permissions = Array(base_column=Varchar(length=128))
    token_prefix = Varchar(length=16, index=True)
    token_hash = Varchar(length=128)
    created_by = Varchar(length=128, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    rotated_at = Timestamptz(null=True, default=None)
    expires_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    rotated_by = Varchar(length=128, default="")
    previous_token_prefix = Varchar(length=16, null=True, default=None, index=True)
    previous_token_hash = Varchar(length=128, null=True, default=None)
    previous_valid_until = Timestamptz(null=True, default=None)
    """The token before the last rotation keeps working until then (a switch-over)."""


@global_table("OAuth access tokens belong to an API client, which carries the branch")
class OAuthToken(Table, tablename="bankcrm_oauth_token"):
    """A short-lived access token issued to an API client by the client-credentials grant
    (RFC 6749 section 4.4); only its digest is stored."""

    client = ForeignKey(ApiClient, on_delete=OnDelete.cascade, index=True)
    token_prefix = Varchar(length=16, unique=True)
    token_hash = Varchar(length=128)
    scopes = Array(base_column=Varchar(length=128))
    """The permissions asked for (a subset of the client's when issued)."""
    issued_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz(index=True)
    revoked_at = Timestamptz(null=True, default=None)


@global_table("the outbox is written in the writer's transaction and relayed by the kernel")
class Outbox(Table, tablename="bankcrm_outbox"):
    id = Serial(primary_key=True)
    queue_name = Varchar(length=200)
    actor_name = Varchar(length=200)
    message = JSONB()
    created_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None, index=True)


@global_table("idempotency ledger of delivered job messages, keyed by message id")
class JobExecution(Table, tablename="bankcrm_job_execution"):
    message_id = Varchar(length=64, unique=True)
    actor_name = Varchar(length=200)
    done_at = Timestamptz(default=TimestamptzNow())


@global_table("scheduler ticks, one row per schedule and due time, so each tick runs once")
class ScheduleTick(Table, tablename="bankcrm_schedule_tick"):
    schedule = Varchar(length=200)
    due_at = Timestamptz()
    enqueued_at = Timestamptz(default=TimestamptzNow())


class AuditLog(Table, tablename="bankcrm_audit"):
    """Append-only, hash-chained by seals (``bankcrm_audit_seal``, see :mod:`bankcrm.audit`).
    The app role may only call ``bankcrm_audit_append``."""

    id = BigInt(primary_key=True)
    at = Timestamptz(default=TimestamptzNow())
    branch_id = BigInt(null=True, index=True)
    """No foreign key: the audit trail outlives whatever it records."""
    actor = Varchar(length=128)
    action = Varchar(length=32)
    entity = Varchar(length=128)
    entity_id = Varchar(length=64)
    before = JSONB(null=True, default=None)
    after = JSONB(null=True, default=None)
    reason = Text(default="")
    request_id = Varchar(length=64, default="")


# --- business calendar ------------------------------------------------------------------


@global_table("the national calendar (holidays, adjusted working days) is the same for all")
class CalendarDay(Table, tablename="bankcrm_calendar_day"):
    day = Date(unique=True)
    kind = Varchar(length=16)
    """``holiday`` (closed on a weekday) or ``workday`` (open on a weekend day, 调休)."""
    name = Varchar(length=200, default="")


@global_table("which years of the national calendar are loaded, and from where")
class CalendarYear(Table, tablename="bankcrm_calendar_year"):
    year = Integer(unique=True)
    source = Varchar(length=200, default="")
    adjusted_days_known = Boolean(default=False)
    loaded_at = Timestamptz(default=TimestamptzNow())


@global_table(
    "opening hours are public and inherited down the tree: an SLA of a sub-branch reads its"
    " parent's; writes check the branch scope in the calendar routes"
)
class BranchHours(Table, tablename="bankcrm_branch_hours"):
    """A branch's opening hours per weekday (0 Monday); a branch without rows inherits."""

    branch = ForeignKey(Branch, on_delete=OnDelete.restrict, null=False, index=True)
    weekday = Integer()
    opens = Time()
    closes = Time()
    timezone = Varchar(length=64, default="Asia/Shanghai")


@global_table("days a branch is closed are public; writes check the branch scope")
class BranchCalendarOverride(Table, tablename="bankcrm_branch_calendar_override"):
    """One day of one branch: closed, or open with special hours."""

    branch = ForeignKey(Branch, on_delete=OnDelete.restrict, null=False, index=True)
    day = Date()
    closed = Boolean(default=True)
    opens = Time(null=True, default=None)
    closes = Time(null=True, default=None)
    reason = Varchar(length=200, default="")


KERNEL_TABLES: list[type[Table]] = [
    Branch,
    Role,
    Membership,
    PluginEnablement,
    UserSecurity,
    LoginAttempt,
    ApiClient,
    OAuthToken,
    Outbox,
    JobExecution,
    ScheduleTick,
    AuditLog,
    CalendarDay,
    CalendarYear,
    BranchHours,
    BranchCalendarOverride,
]
