"""Boot: plugins, database URLs, migrations, security checks and the connection pool.

``Kernel`` is what every entry point (web app, worker, CLI, test session) builds first.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from bankcrm import piccolo_conf
from bankcrm.access_rules import DeclaredRule, declared_rules
from bankcrm.db import (
    assert_safe_app_connection,
    database_name,
    ensure_app_role,
    ensure_database,
    with_database,
    with_user,
)
from bankcrm.embedded import DATABASE, EmbeddedServer, start_embedded
from bankcrm.plugins import PluginCandidate, PluginRegistry, build_registry, entry_point_candidates
from bankcrm.roles import RoleSync, declared_roles, sync_roles
from bankcrm.security import apply_security, registered_tables, verify_security
from bankcrm.settings import Settings, get_settings

log = logging.getLogger(__name__)


class MigrationFailed(RuntimeError):
    pass


@dataclass
class Kernel:
    settings: Settings
    registry: PluginRegistry
    owner_url: str
    app_url: str
    embedded: EmbeddedServer | None = None
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def hook(self) -> Any:
        return self.registry.hook

    def access_rules(self) -> list[DeclaredRule]:
        """The active plugins' row rules, checked against their tables (raises
        :class:`bankcrm.access_rules.AccessRuleError`)."""
        from piccolo.conf.apps import Finder

        return declared_rules(self.registry, registered_tables(Finder().get_app_registry()))

    async def migrate(self) -> RoleSync:
        """Run every app's migrations as the owner, then policies and grants, then bring
        the declared roles up to date."""
        from piccolo.apps.migrations.commands.forwards import run_forwards
        from piccolo.conf.apps import Finder

        from bankcrm.jobs.brokers import prepare_broker_schema

        # Checked first: a plugin with broken grants or rules stops the upgrade before it
        # starts.
        declared = declared_roles(self.registry)
        rules = self.access_rules()
        owner = await asyncpg.connect(self.owner_url)
        try:
            await ensure_app_role(owner, self.settings.app_role, self.settings.app_role_password)
        finally:
            await owner.close()
        DB = piccolo_conf.DB
        previous = dict(DB.config)
        DB.configure(self.owner_url)
        try:
            output = io.StringIO()
            with contextlib.redirect_stdout(output):
                result = await run_forwards(app_name="all")
            if not result.success:
                raise MigrationFailed(result.message or output.getvalue())
        finally:
            DB.config = previous
        owner = await asyncpg.connect(self.owner_url)
        try:
            await apply_security(owner, Finder().get_app_registry(), self.settings.app_role, rules)
            await prepare_broker_schema(owner, self.settings.app_role)
            return await sync_roles(owner, declared, "system:migrate")
        finally:
            await owner.close()

    async def connect(self) -> None:
        """Point the engine at the application role, check it is safe, open the pool."""
        from piccolo.conf.apps import Finder

        probe = await asyncpg.connect(self.app_url)
        try:
            await assert_safe_app_connection(probe)
            await verify_security(probe, Finder().get_app_registry(), self.access_rules())
        finally:
            await probe.close()
        # Imported here: the notification service imports the job runtime, which imports this.
        from bankcrm import labels, messages
        from bankcrm.assignment import service as assignment
        from bankcrm.notifications.service import install

        install(self.registry, self.settings)
        assignment.install(self.registry)
        labels.install(self.registry)
        messages.install(messages.collect(self.registry.call_each("register_message_translations")))
        DB = piccolo_conf.DB
        DB.configure(self.app_url)
        await DB.start_connection_pool(
            min_size=self.settings.pool_min_size, max_size=self.settings.pool_max_size
        )

    async def disconnect(self) -> None:
        if piccolo_conf.DB.pool is not None:
            await piccolo_conf.DB.close_connection_pool()

    def stop_embedded(self) -> None:
        if self.embedded is not None:
            self.embedded.stop()
            self.embedded = None


_RUNNING: Kernel | None = None


def running_kernel() -> Kernel:
    """The kernel this process runs: the web app's, the worker's, or a command's
    (:func:`bankcrm.plugin_api.kernel_session`)."""
    if _RUNNING is None:
        raise RuntimeError("no kernel is running in this process (boot one first)")
    return _RUNNING


def activate(kernel: Kernel | None) -> Kernel | None:
    """Make ``kernel`` the running one; answers the one it replaces."""
    global _RUNNING
    previous, _RUNNING = _RUNNING, kernel
    return previous


def resolve_urls(settings: Settings) -> tuple[str, str, EmbeddedServer | None]:
    """The owner URL, the application URL and, by default, the embedded server."""
    embedded = None
    if settings.database_url:
        owner_url = settings.database_url
    else:
        embedded = start_embedded(settings.data_dir)
        owner_url = embedded.url(DATABASE)
        # Child processes (workers) connect to the server this process owns.
        os.environ["BANKCRM_DATABASE_URL"] = owner_url
    app_url = with_user(owner_url, settings.app_role, settings.app_role_password)
    return owner_url, app_url, embedded


def load_registry(settings: Settings, extra: list[PluginCandidate] | None = None) -> PluginRegistry:
    from bankcrm import kernel_plugin

    candidates = entry_point_candidates(settings.enabled_plugins)
    candidates.extend(extra or [])
    registry = build_registry(candidates, kernel_plugin=kernel_plugin)
    piccolo_conf.set_plugin_apps(registry.piccolo_apps())
    return registry


async def boot(
    settings: Settings | None = None,
    *,
    migrate: bool = False,
    connect: bool = True,
    extra_plugins: list[PluginCandidate] | None = None,
) -> Kernel:
    settings = settings or get_settings()
    registry = load_registry(settings, extra_plugins)
    owner_url, app_url, embedded = resolve_urls(settings)
    await ensure_database(with_database(owner_url, "postgres"), database_name(owner_url))
    kernel = Kernel(settings, registry, owner_url, app_url, embedded)
    if migrate:
        await kernel.migrate()
    if connect:
        await kernel.connect()
    return kernel
