"""Building the admin at ``/admin/``: screens from every plugin's ``register_admin`` hook.

One piccolo-admin app is built at boot from all screens: building one costs ~60 ms per
table (a FastAPI app, routes and pydantic models per table), far too much per request or
per user. :class:`~bankcrm.admin.gate.AdminGate` tailors each request instead: permitted
and enabled tables only, labels in the UI language, masked columns, audited writes.

What a screen means is told in :mod:`bankcrm.admin`.
"""

from __future__ import annotations

import os
from datetime import timedelta

from litestar import asgi
from litestar.handlers import ASGIRouteHandler
from litestar.types import Receive, Scope, Send
from piccolo.apps.user.tables import BaseUser
from piccolo.columns import ForeignKey, Timestamp, Timestamptz
from piccolo_admin.endpoints import TableConfig, create_admin
from piccolo_admin.translations.data import ENGLISH, SIMPLIFIED_CHINESE
from piccolo_api.session_auth.tables import SessionsBase

from bankcrm.admin.forms import PluginForm, collect_forms
from bankcrm.admin.gate import AdminGate
from bankcrm.admin.hooks import hooks_for, refuse_writes_hooks
from bankcrm.admin.kernel_rules import KernelRules
from bankcrm.admin.screens import ScreenIndex, ScreenSpec, collect_screens
from bankcrm.plugin_api import Label
from bankcrm.plugins import KERNEL_PLUGIN_NAME
from bankcrm.roles import declared_permissions
from bankcrm.runtime import Kernel

MOUNT_PATH = "/admin"

LANGUAGES = [SIMPLIFIED_CHINESE, ENGLISH]
DEFAULT_LANGUAGE = SIMPLIFIED_CHINESE.language_code
"""``zh-CN``: piccolo-admin's code for Simplified Chinese."""


def allowed_hosts() -> tuple[str, ...]:
    """Host names the admin is served under; piccolo's CSRF check needs them on HTTPS.

    ``BANKCRM_ALLOWED_HOSTS`` (comma-separated). Without it, unsafe admin requests over
    HTTPS are refused.
    """
    value = os.environ.get("BANKCRM_ALLOWED_HOSTS", "")
    return tuple(host.strip() for host in value.split(",") if host.strip())


def table_config(spec: ScreenSpec, rules: KernelRules) -> TableConfig:
    table = spec.table
    column = table._meta.get_column_by_name
    screen = spec.screen
    all_names = [c._meta.name for c in table._meta.columns]
    shown = [n for n in screen.visible_columns or all_names if n not in spec.hidden_columns]
    pk = table._meta.primary_key._meta.name
    link = (
        next((column(n) for n in shown if not isinstance(column(n), ForeignKey)), None)
        if pk not in shown
        else None
    )
    filters = [n for n in screen.visible_filters or all_names if n not in spec.protected_columns]
    # The edit form posts read-only times back; at millisecond precision they compare equal.
    precise = {
        c: 0.001
        for c in table._meta.columns
        if isinstance(c, Timestamp | Timestamptz) and c._meta.name in screen.read_only_columns
    }
    return TableConfig(
        table_class=table,
        visible_columns=[column(n) for n in shown],
        visible_filters=[column(n) for n in filters] or None,
        # An empty include list would mean "all": exclude everything instead.
        exclude_visible_filters=None if filters else list(table._meta.columns),
        hooks=hooks_for(spec, rules),
        link_column=link,
        time_resolution=precise or None,  # type: ignore[arg-type]
    )


def admin_screens(kernel: Kernel) -> list[ScreenSpec]:
    """The kernel's screens and every plugin's ``register_admin`` answer, checked."""
    registry = kernel.registry
    titles = {name: Label(r.title, r.title_en) for name, r in registry.records.items()}
    return collect_screens(registry.call_each("register_admin"), titles)


def admin_forms(kernel: Kernel) -> list[PluginForm]:
    """Every plugin's ``register_admin_forms`` answer, checked."""
    registry = kernel.registry
    return collect_forms(registry.call_each("register_admin_forms"), declared_permissions(registry))


def build_admin(kernel: Kernel) -> AdminGate:
    """The gated piccolo-admin app for ``kernel``'s screens."""
    registry = kernel.registry
    specs = admin_screens(kernel)
    index = ScreenIndex.build(specs)
    rules = KernelRules(requires={r.name: r.requires for r in registry.active()})
    configs = [table_config(spec, rules) for spec in specs]
    configs += [
        TableConfig(table_class=table, hooks=refuse_writes_hooks(table))
        for name, table in index.tables.items()
        if name not in index.screens
    ]
    session_length = timedelta(hours=kernel.settings.session_hours)
    app = create_admin(
        configs,
        auth_table=BaseUser,
        session_table=SessionsBase,
        session_expiry=session_length,
        max_session_expiry=session_length,
        increase_expiry=None,
        production=kernel.settings.secure_cookies,
        site_name="bankcrm",
        default_language_code=DEFAULT_LANGUAGE,
        translations=LANGUAGES,
        # The gate decides which referenced tables a user may pick from; they are added
        # above, read-only, rather than as full screens.
        auto_include_related=False,
        allowed_hosts=allowed_hosts(),
    )
    return AdminGate(
        app,
        index,
        mount_path=MOUNT_PATH,
        production=kernel.settings.secure_cookies,
        allowed_hosts=allowed_hosts(),
        foreign_actors=any(
            impl.plugin_name != KERNEL_PLUGIN_NAME for impl in registry.impls("resolve_actor")
        ),
        forms=admin_forms(kernel),
    )


def admin_handlers(kernel: Kernel) -> list[ASGIRouteHandler]:
    gate = build_admin(kernel)

    @asgi(MOUNT_PATH, is_mount=True, copy_scope=True)
    async def admin_app(scope: Scope, receive: Receive, send: Send) -> None:
        await gate(scope, receive, send)

    return [admin_app]
