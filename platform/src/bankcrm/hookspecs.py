"""Every kernel hook, with its contract.

Plugins implement these with ``@hookimpl`` from :mod:`bankcrm.plugin_api`. Verb prefixes
carry meaning: ``register_*`` collects at boot, ``resolve_*`` returns the first non-None
answer, ``on_*`` notifies after commit, ``*_wrapper`` wraps. Arguments are only ever
added, never renamed or removed; an implementation may accept any subset of them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click
    from litestar.connection import ASGIConnection

    from bankcrm.context import Scope
    from bankcrm.notifications.channels import NotificationChannel
    from bankcrm.notifications.templates import NotificationTemplate
    from bankcrm.plugin_api import (
        AccessRule,
        AdminForm,
        AdminScreen,
        DemoContext,
        Enumeration,
        EventSpec,
        MetricSpec,
        Pages,
        PermissionSpec,
        RoleGrant,
        RoleSpec,
        ScheduleSpec,
        WorkbenchLink,
        WorkKind,
    )

hookspec = pluggy.HookspecMarker("bankcrm")


# --- boot time: called once, plugins in dependency order ---------------------------------


@hookspec
def register_routes() -> Sequence[Any]:
    """Litestar route handlers or controllers of this plugin.

    Called once at boot. The kernel mounts them under ``/api/v1/<plugin name>`` behind the
    central guards (authenticated actor, permission named in the handler's ``opt``
    ``permission`` key, plugin enabled for the actor's branch), so a handler never checks
    these itself. Return an empty list if the plugin has no routes.
    """


@hookspec
def register_admin() -> Sequence[AdminScreen]:
    """Admin screens: tables (with Chinese and English labels) and forms for piccolo-admin.

    Called once at boot. The kernel builds the admin app from all screens; each screen is
    shown only to users with its ``permission`` and only for branches where the plugin is
    enabled, and row-level security applies to every admin query.
    """


@hookspec
def register_admin_forms() -> Sequence[AdminForm]:
    """Workflow forms for actions that are no row edit (approve, reveal with a reason,
    assign, escalate), listed in the admin's forms menu. Called once at boot.

    Slugs are unique across plugins, every field has a label and the permission is
    declared, or the admin refuses to start. A user sees a form only with its permission
    and where the plugin is enabled for them.
    """


@hookspec
def register_actors() -> Sequence[Any]:
    """dramatiq actors of this plugin (created with :func:`bankcrm.jobs.actor`).

    Called once at boot, after the broker is configured. Actor and queue names must start
    with ``<plugin>.``. Actors must be idempotent: dramatiq delivers at least once.
    """


@hookspec
def register_schedules() -> Sequence[ScheduleSpec]:
    """Periodic work: which actor runs how often. Called once at boot.

    The kernel's scheduler enqueues each due tick once, however many schedulers run.
    """


@hookspec
def register_permissions() -> Sequence[PermissionSpec]:
    """Permissions this plugin declares, named ``<plugin>.<object>.<verb>``. Boot time.

    A permission not declared by some plugin cannot be granted to a role.
    """


@hookspec
def register_roles() -> Sequence[RoleSpec]:
    """Roles this plugin adds to the standard ones, named ``<plugin>.<role>``. Boot time.

    The kernel declares :data:`bankcrm.plugin_api.STANDARD_ROLES`. Every declared role is
    a *managed* role: ``bankcrm migrate`` (and demo seeding) creates it, and keeps its
    title and permissions in step with the declarations, audited. Roles the bank creates
    itself are *custom* and never touched; a declared name already taken by a custom role
    is left alone and reported.
    """


@hookspec
def register_role_grants() -> Sequence[RoleGrant]:
    """Which of this plugin's permissions each role gets, the way a module ships its
    access rules. Boot time.

    A grant names a standard role (:class:`bankcrm.plugin_api.StandardRole`) or a role
    some active plugin declares, and only permissions this plugin declares
    (``<plugin>.*`` and ``<plugin>.<object>.*`` expand to them). A grant of another
    plugin's permission, of an undeclared permission or to an unknown role stops
    ``bankcrm migrate`` with a message naming the plugin. The head-office administrator
    holds every permission without grants. A managed role's permissions are exactly the
    union of its grants, recomputed on each migrate: an upgraded plugin's new permissions
    reach the roles without anyone editing them.
    """


@hookspec
def register_access_rules() -> Sequence[AccessRule]:
    """Row rules finer than the branch, as data: a saved search private to its owner, a
    portfolio visible to its relationship manager. Boot time.

    Each :class:`bankcrm.plugin_api.AccessRule` names one of the plugin's own
    branch-scoped tables and the matches (column equals a literal or a value of the acting
    scope such as :data:`bankcrm.plugin_api.CURRENT_ACTOR`) of which a row must satisfy
    one. ``bankcrm migrate`` compiles every rule into a restrictive row-level-security
    policy, for reads and writes alike, and drops the policies of rules no longer
    declared; an unknown table or column, a table of another plugin or a value of the
    wrong type stops migrate and boot with a message naming the rule; the kernel refuses
    to start while a declared rule's policy is missing. ``bankcrm plugins`` lists the
    rules; the SDK's generated tests check them against the demo data.
    """


@hookspec
def register_settings() -> type | None:
    """A msgspec Struct type (all fields with defaults) for per-branch settings, or None.

    Boot time. Settings are stored with the plugin's enablement for a branch, inherited by
    sub-branches, validated against this type when changed through
    ``PUT /api/v1/branches/{id}/plugins/{plugin}/settings``, and read by the plugin with
    :func:`bankcrm.branches.plugin_settings`.
    """


@hookspec
def register_events() -> Sequence[EventSpec]:
    """Domain events this plugin emits (name ``<plugin>.<event>``). Boot time."""


@hookspec
def register_notification_templates() -> Sequence[NotificationTemplate]:
    """Notification templates this plugin sends, keyed ``<plugin>.<what>``. Boot time.

    Each carries a category (the unit of a user's preferences), zh-CN and English title
    and body with ``string.Template`` placeholders, and the channels it uses by default.
    Send one with :func:`bankcrm.notifications.notify` inside the business transaction.
    """


@hookspec
def register_notification_channels() -> Sequence[NotificationChannel]:
    """Further notification channels (SMS, WeChat ...), named ``<plugin>.<what>``. Boot time.

    ``send(outgoing)`` delivers one notification to one recipient; raise
    ``DeliveryRefused`` when retrying cannot help (dead-lettered at once with its
    message), anything else to be retried with back-off. Pass ``outgoing.idempotency_key``
    on where the transport accepts one: a delivery may be sent again after a crash.
    """


@hookspec
def register_work_kinds() -> Sequence[WorkKind]:
    """Kinds of work this plugin asks the assignment engine to hand out. Boot time.

    Branch managers then declare rules for each kind (``/api/v1/assignment/rules``) whose
    conditions are typed expressions over the kind's ``attributes``; the plugin calls
    ``bankcrm.assignment.assign(WorkItem(...))`` inside its transaction and
    ``release(...)`` when the work is done, which frees the assignee's capacity.
    """


@hookspec
def register_enumerations() -> Sequence[Enumeration]:
    """Labels of this plugin's enumerated values, in Chinese and English. Boot time.

    Staff never read a stored code (``resident_id``, ``dormant``): pages and exports show
    the label of the value under each of the enumeration's ``fields``
    (``bankcrm.labels.label_of(plugin, field, value, language)``).
    """


@hookspec
def register_message_translations() -> Sequence[tuple[str, str]]:
    """Chinese for this plugin's messages: ``(english_pattern, chinese_template)`` pairs,
    the pattern a full-match regular expression whose named groups fill the template
    (``(r"no product with this code", "没有这个产品代码")``). Boot time.

    Problems are answered in Chinese to browsers that ask for it (see
    :mod:`bankcrm.messages`); a message without a translation is sent in English.
    """


@hookspec
def register_pages() -> Pages | None:
    """Staff pages (HTML) of this plugin, mounted under ``/app/<plugin>``. Boot time.

    The handlers sit behind the API's guards (session, scope, enablement, the ``opt``
    permission); a visitor who is not logged in is sent to ``/app/login``. Render with
    ``bankcrm.workbench.render(request, "<plugin>/page.html", **context)``: templates extend
    ``base.html`` and get ``t(zh, en)``, ``localtime``, ``money`` and the viewer's language.
    Pages read and write only through the plugin's services or its JSON API (from a
    static script: the content-security policy allows no inline script).
    """


@hookspec
def register_workbench_links() -> Sequence[WorkbenchLink]:
    """Links this plugin puts on the staff workbench's home page (search customers, import,
    dashboards …), each shown only to holders of its ``permission``. Boot time."""


@hookspec
def register_cli(group: click.Group) -> None:
    """Add commands to the ``bankcrm`` CLI; add a subgroup named after the plugin."""


@hookspec
def register_metrics() -> Sequence[MetricSpec]:
    """KPIs this plugin contributes (reporting and ``GET /api/v1/kpis``). Boot time.

    Each ``MetricSpec.compute`` is awaited with the caller's scope bound, so row-level
    security limits every figure to the caller's branches.
    """


@hookspec
def add_hookspecs(pm: pluggy.PluginManager) -> None:
    """Publish this plugin's own extension points with ``pm.add_hookspecs(module)``.

    Called once when the plugin is registered, before any other hook of any plugin.
    """


@hookspec
def startup(app: Any) -> Awaitable[None] | None:
    """Called once when the web app or worker starts, after the database is ready.

    May return an awaitable, which the kernel awaits.
    """


@hookspec
def shutdown(app: Any) -> Awaitable[None] | None:
    """Called once when the web app or worker stops. May return an awaitable."""


@hookspec
def seed_demo_data(demo: DemoContext) -> Awaitable[None] | None:
    """Write this plugin's demo data (``bankcrm demo``), plugins in dependency order.

    Called once on a freshly migrated database with a system scope over all branches,
    each plugin after the plugins it requires (so their data exists); ``demo`` carries
    the branches, roles and users already created, and ``demo.scale`` the number of
    customers asked for (``bankcrm demo --customers N``), which a plugin scales its own
    data by. A plugin may add its own users to ``demo.users``. May return an awaitable,
    which the kernel awaits before calling the next plugin.
    """


# --- run time ---------------------------------------------------------------------------


@hookspec(firstresult=True)
def resolve_actor(connection: ASGIConnection[Any, Any, Any, Any]) -> Awaitable[Scope | None] | None:
    """Identify the caller of an HTTP request (e.g. single sign-on).

    Called for each request before the kernel's own session and bearer-token checks; the
    first implementation that returns an awaitable resolving to a Scope wins. Return None
    to let the next implementation (and finally the kernel) decide.
    """


@hookspec(firstresult=True)
def resolve_branch_scope(scope: Scope) -> frozenset[int] | None:
    """Override the branch ids an actor may see (first non-None wins).

    Called after the kernel computed ``scope.branch_ids`` from memberships; may only narrow
    them (the kernel intersects the answer with the computed set).
    """


@hookspec
def permission_check(scope: Scope, permission: str, resource: Any) -> bool | None:
    """Veto a permission. Return False to deny, None to abstain; True grants nothing extra.

    Called by the central permission guard (:mod:`bankcrm.web.guards`) after the actor's
    roles granted the permission; any False denies the request with 403.
    """


@hookspec
def on_event(name: str, payload: dict[str, Any], scope: Scope) -> None:
    """A domain event, delivered after the transaction that emitted it committed.

    Runs in a job with the emitting actor's scope; exceptions are retried by the worker.
    """
