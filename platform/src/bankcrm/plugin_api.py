"""The public surface for plugin authors: import from here, not from kernel internals.

Besides this module, a plugin may import the kernel modules in :data:`PUBLIC_MODULES`;
the SDK's conformance check refuses any other kernel import, and any import of another
package's private (``_name``) module or name.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

import pluggy

if TYPE_CHECKING:
    import pydantic
    from piccolo.table import Table

    from bankcrm.context import Scope

hookimpl = pluggy.HookimplMarker("bankcrm")


@dataclass(frozen=True)
class PluginManifest:
    """What the kernel needs to know about a plugin before importing the rest of it.

    ``name`` is the canonical name: entry-point name, Piccolo app name, URL prefix
    ``/api/v1/<name>``, table prefix ``<name>_``, permission namespace and queue prefix.
    """

    name: str
    version: str
    title: str
    title_en: str
    requires: tuple[str, ...] = ()
    kernel_api: str = ">=1,<2"
    piccolo_app: str | None = None
    """Dotted path of the module holding ``APP_CONFIG``, if the plugin has tables."""
    description: str = ""


@dataclass(frozen=True)
class PermissionSpec:
    name: str
    title: str
    title_en: str


class StandardRole(StrEnum):
    """The roles every bank has; plugins grant their permissions to them by these names."""

    HEAD_OFFICE_ADMIN = "head_office_admin"
    BRANCH_MANAGER = "branch_manager"
    RELATIONSHIP_MANAGER = "relationship_manager"
    TELLER = "teller"
    AUDITOR = "auditor"


@dataclass(frozen=True)
class RoleSpec:
    """A role a plugin declares (``register_roles``); the kernel declares the standard ones.

    Declared roles are *managed*: created and kept in step with the declarations on every
    ``bankcrm migrate``. A plugin's own roles are named ``<plugin>.<role>``.
    """

    name: str
    title: str
    title_en: str
    description: str = ""
    every_permission: bool = False
    """Holds every declared permission of every plugin (the head-office administrator)."""


STANDARD_ROLES: tuple[RoleSpec, ...] = (
    RoleSpec(
        StandardRole.HEAD_OFFICE_ADMIN,
        "总行管理员",
        "Head-office administrator",
        "Runs the installation: every permission of every module.",
        every_permission=True,
    ),
    RoleSpec(
        StandardRole.BRANCH_MANAGER,
        "分行行长",
        "Branch manager",
        "Manages a branch and its sub-branches: their staff, customers and approvals.",
    ),
    RoleSpec(
        StandardRole.RELATIONSHIP_MANAGER,
        "客户经理",
        "Relationship manager",
        "Looks after customers: their records, products, contracts and deals.",
    ),
    RoleSpec(
        StandardRole.TELLER,
        "柜员",
        "Teller",
        "Serves customers at the counter: reads what the counter needs.",
    ),
    RoleSpec(
        StandardRole.AUDITOR,
        "审计员",
        "Auditor",
        "Reads the audit trail and the records it points at; changes nothing.",
    ),
)


@dataclass(frozen=True)
class RoleGrant:
    """Permissions a plugin grants to a role (``register_role_grants``).

    ``role`` is a :class:`StandardRole` or a role some active plugin declares.
    ``permissions`` are the plugin's own permission names; ``<plugin>.*`` stands for all of
    them, ``<plugin>.<object>.*`` for all of one object's.
    """

    role: str
    permissions: tuple[str, ...]


@dataclass(frozen=True)
class Label:
    zh: str
    en: str


@dataclass(frozen=True)
class AdminScreen:
    """One table in the admin UI.

    ``columns`` maps column names to their labels (both languages); piccolo-admin takes
    titles from column names, the kernel rewrites them from these labels.
    """

    table: type[Table]
    title: Label
    permission: str
    columns: dict[str, Label] = field(default_factory=dict)
    visible_columns: tuple[str, ...] = ()
    visible_filters: tuple[str, ...] = ()
    read_only_columns: tuple[str, ...] = ()
    masked_columns: tuple[str, ...] = ()
    hidden_columns: tuple[str, ...] = ()
    """Never shown, sent, filtered or sorted on, nor changed in the admin (ciphertexts,
    lookup hashes)."""
    menu_group: Label | None = None
    audit_reads: str | None = None
    """Audit entity (``customer_archive.customer``) under which opening a row is recorded
    as a view and a bulk read (the CSV export) as an export; None: reads are not audited."""
    export_permission: str | None = None
    """The permission the admin's CSV export needs, the same as the REST export's (a
    teller who may list customers may not download them); None: reading is enough."""
    allow_create: bool = True
    """False where rows need what only the plugin's service does (encrypting, validating):
    the admin then refuses to create them and points to the REST API or the import."""
    read_only: bool = False
    """True for ledgers and queues that change only through the plugin's service (a merge
    ledger, a review queue): the admin then refuses every write, deletes included, to
    every user, superusers too."""
    technical: bool = False
    """True for tables staff have no use for (snapshots, search keys, staging rows): only
    superusers see them, in a separate technical group of the plugin's menu."""
    row_page: str | None = None
    """A staff page for one row (``/app/<plugin>/customers/{id}``): each row of the list
    links to it, titled ``row_page_title``, as the 360° page is linked from the customers."""
    row_page_title: Label | None = None


@dataclass(frozen=True)
class AdminForm:
    """A workflow form in the admin for an action that is no row edit: approve, reveal
    with a reason, assign, escalate (``register_admin_forms``; piccolo-admin's forms).

    The kernel serves it to users holding ``permission`` where the plugin is enabled for
    them, validates the submission with ``model`` and awaits ``action`` under the user's
    scope; ``action`` answers the message shown on success. Call the same service as the
    REST API, so that the admin keeps the API's rules and audit; refuse with a
    :class:`~bankcrm.web.problems.Problem` naming the field (``body.<field>``).
    """

    slug: str
    title: Label
    description: Label
    model: type[pydantic.BaseModel]
    action: Callable[[Any], Awaitable[str]]
    permission: str
    group: Label
    """The menu group the form is listed under (usually the plugin's title)."""
    fields: dict[str, Label] = field(default_factory=dict)
    """Labels of ``model``'s fields; every field needs one."""


@dataclass(frozen=True)
class ScheduleSpec:
    name: str
    actor_name: str
    every_seconds: int
    description: str = ""


@dataclass(frozen=True)
class EventSpec:
    name: str
    description: str = ""


@dataclass(frozen=True)
class MetricSpec:
    name: str
    title: str
    title_en: str
    unit: str = ""
    description: str = ""
    compute: Callable[[], Awaitable[float | int | Decimal]] | None = None
    """Awaited with the caller's scope bound; None for KPIs computed by reporting jobs."""
    direction: str = ""
    """Which way is good: ``up`` (more is better: customers, win rate), ``down`` (less is
    better: overdue follow-ups, cost) or ``""`` (neither). Dashboards colour changes and
    alerts by it."""
    owner: str = ""
    """Who answers for the figure's definition (a department or role, e.g. ``零售业务部``);
    empty: the plugin that registers it."""
    dimensions: tuple[str, ...] = ("branch",)
    """What the figure can be broken down by. Every KPI breaks down by ``branch``: computed
    with the scope narrowed to a branch's subtree, it is that subtree's figure."""


WORK_ATTRIBUTE_TYPES = ("string", "number", "boolean", "strings")
"""Types a work item's attribute may have (``strings``: a list of strings)."""


@dataclass(frozen=True)
class WorkKind:
    """A kind of work the assignment engine hands out (``register_work_kinds``).

    ``name`` is ``<plugin>.<what>`` (``sales.lead``, ``service.ticket``); ``attributes``
    are what rules may test, by type (one of :data:`WORK_ATTRIBUTE_TYPES`), e.g.
    ``{"product": "string", "amount": "number", "languages": "strings"}``.
    """

    name: str
    title: Label
    attributes: dict[str, str] = field(default_factory=dict)
    url: str = ""
    """Where staff open one item, ``{item_id}`` filled in (``/app/sales/leads/{item_id}``)."""


@dataclass(frozen=True)
class Enumeration:
    """How staff read the stored values of an enumeration (``register_enumerations``).

    ``fields`` are the names the values appear under in this plugin's rows and answers
    (``id_type``, ``status``); ``labels`` maps every stored value to its label. The kernel
    refuses at boot an enumeration whose enum has a value without a label.
    """

    name: str
    fields: tuple[str, ...]
    labels: dict[str, Label]


@dataclass(frozen=True)
class WorkbenchLink:
    """A link on the staff workbench's home page (``register_workbench_links``)."""

    title: Label
    url: str
    permission: str = "authenticated"
    description: Label | None = None


@dataclass(frozen=True)
class Pages:
    """Staff pages of a plugin (``register_pages``): Litestar handlers mounted under
    ``/app/<plugin>`` behind the same guards as the API, and the package whose
    ``templates/<plugin>/`` folder holds their Jinja2 templates."""

    handlers: Sequence[Any]
    templates_package: str
    static: bool = False
    """True: the package's ``static/`` folder (scripts, styles, fonts; never data) is served
    at ``/app/<plugin>/static/``, e.g. a bundled chart library, since the content-security
    policy allows scripts from this site only."""


@dataclass
class DemoContext:
    """Handed to ``seed_demo_data``: what the kernel and the plugins seeded before this one
    already created: branches by code, users by username, roles by name."""

    branches: dict[str, int]
    users: dict[str, int]
    roles: dict[str, int] = field(default_factory=dict)
    scale: int = 1000
    seed: int = 20261124
    refresh_statistics: Callable[[], Awaitable[None]] | None = None
    """Runs ``ANALYZE`` as the owner. Call it after committing a bulk load and before
    queries over the loaded rows: the application role may not analyze, and without
    statistics the planner takes a million fresh rows for a few and picks nested loops
    that turn quadratic."""


class SessionValue(StrEnum):
    """What a row rule compares a column with: a value of the acting scope, read by the
    database from the connection's scope settings (never passed by the caller)."""

    ACTOR = "actor"
    """The acting scope's actor (``user:12``, ``client:3``, ``system:<purpose>``): compare a
    text column that stores the actor who owns the row."""
    USER_ID = "user_id"
    """The acting staff user's id (NULL for API clients and system scopes, which then match
    no row): compare a column holding a user id, e.g. a foreign key to the user table."""
    OVERSEEN_USER_IDS = "overseen_user_ids"
    """The acting staff user's id or the user id of anyone who reports to them, directly or
    indirectly, in the organisation's manager tree (among the employees the actor may see):
    a relationship manager matches their own rows, a team lead their team's, a branch
    manager those of everyone under them. A system scope (``system:<purpose>``: the bank's
    own scheduled jobs and CLI, always bound to explicit branches) matches every row, as
    these rules are about people; API clients match none."""


CURRENT_ACTOR = SessionValue.ACTOR
CURRENT_USER_ID = SessionValue.USER_ID
OVERSEEN_USER_IDS = SessionValue.OVERSEEN_USER_IDS

RuleValue = str | int | bool | SessionValue | tuple[str, ...] | tuple[int, ...] | None


@dataclass(frozen=True)
class RowMatch:
    """``column`` equals ``value``: a literal (``str``, ``int``, ``bool``), a tuple of
    literals (any of them), None (the column is NULL) or a :class:`SessionValue`."""

    column: str
    value: RuleValue


@dataclass(frozen=True)
class AccessRule:
    """A row rule finer than the branch (``register_access_rules``).

    Within the branches the scope may see, only rows satisfying one of ``any_of`` are
    visible, changeable or insertable; several rules on one table must all hold. The
    kernel compiles each rule into a restrictive row-level-security policy on ``table``
    (one of the plugin's own branch-scoped tables), named ``bankcrm_rule_<name>`` with the
    dot replaced, on every ``bankcrm migrate``.
    """

    name: str
    """``<plugin>.<rule>``."""
    table: str
    title: str
    title_en: str
    any_of: tuple[RowMatch, ...]
    description: str = ""


PUBLIC_MODULES: frozenset[str] = frozenset(
    {
        "bankcrm.plugin_api",
        "bankcrm.assignment",
        "bankcrm.audit",
        "bankcrm.branches",
        "bankcrm.business_calendar",
        "bankcrm.context",
        "bankcrm.db",
        "bankcrm.jobs",
        "bankcrm.labels",
        "bankcrm.messages",
        "bankcrm.migrations",
        "bankcrm.notifications",
        "bankcrm.notifications.channels",
        "bankcrm.organisation.directory",
        "bankcrm.organisation.service",
        "bankcrm.pii",
        "bankcrm.staff",
        "bankcrm.tables",
        "bankcrm.tabular",
        "bankcrm.text",
        "bankcrm.uploads",
        "bankcrm.web.pagination",
        "bankcrm.web.problems",
        "bankcrm.web.upload",
        "bankcrm.workbench",
    }
)
"""The kernel modules a plugin may import (each documented in ``docs/plugin-authors.md``).
Everything else in ``bankcrm`` may change without notice; tests may import more."""


class PluginHooks(Protocol):
    """The running plugins and their hooks, in dependency order: what a plugin needs to
    call the extension points it publishes (``add_hookspecs``). See :func:`plugin_hooks`."""

    order: list[str]
    """Active plugins, each after the plugins it requires."""

    def call_each(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Every implementation (the kernel's first, then each plugin in dependency
        order) with its plugin's name; answers are not awaited."""
        ...

    async def call_all(
        self, hook_name: str, plugins: frozenset[str] | None = None, **kwargs: Any
    ) -> list[tuple[str, Any]]:
        """Every non-None answer (awaited) with its plugin's name, only of ``plugins``
        (and the kernel) when given, e.g. the plugins enabled for a branch."""
        ...


def plugin_hooks() -> PluginHooks:
    """The plugins of the kernel this process runs: the web app's, the worker's, or the
    one :func:`kernel_session` booted. Raises ``RuntimeError`` when none runs."""
    from bankcrm.runtime import running_kernel

    return running_kernel().registry


async def user_scope(user_id: int) -> Scope | None:
    """The scope a staff user's session would have now: the branches of their memberships
    (with everything under them) and their roles' permissions; None for an unknown or
    inactive user, and no branch while they must change their password. For a job acting
    on someone's behalf (a scheduled report run as its owner): narrow it to the job's own
    branches (``scope.narrowed(current.branch_ids)``) before binding it, so the plugin's
    enablement still holds. Reads the user tables, which need no branch in scope."""
    from bankcrm.auth import scope_for_user

    return await scope_for_user(user_id)


@contextlib.asynccontextmanager
async def kernel_session() -> AsyncIterator[PluginHooks]:
    """Boot the kernel for a plugin's command (``register_cli``) or script: the installed
    plugins loaded, the database's security checked, the pool connected as the application
    role; disconnected on exit. No scope is bound: bind one (``bankcrm.context``) before
    touching data."""
    from bankcrm.runtime import activate, boot

    kernel = await boot(connect=True)
    previous = activate(kernel)
    try:
        yield kernel.registry
    finally:
        activate(previous)
        await kernel.disconnect()
