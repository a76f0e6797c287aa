"""The ``bankcrm`` command line."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from bankcrm.context import Scope, bind_scope

T = TypeVar("T")


def run(coro_factory: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        return await coro_factory()

    return asyncio.run(main())


def system_scope(branch_ids: frozenset[int], purpose: str) -> Scope:
    return Scope(actor=f"system:{purpose}", branch_ids=branch_ids, is_superuser=True)


@click.group()
@click.option("--log-level", default="INFO", show_default=True, envvar="BANKCRM_LOG_LEVEL")
def main(log_level: str) -> None:
    """bankcrm: CRM platform for commercial banks."""
    from bankcrm.observability import configure_logging

    configure_logging(log_level)


@main.command()
def migrate() -> None:
    """Run every plugin's migrations as the owner, then apply row-level security."""
    from bankcrm.runtime import boot

    async def go() -> None:
        kernel = await boot(migrate=False, connect=False)
        synced = await kernel.migrate()
        await kernel.connect()
        try:
            from bankcrm import business_calendar

            loaded = await business_calendar.ensure_years(business_calendar.current_years())
            if loaded:
                click.echo(f"business calendar: loaded {', '.join(map(str, loaded))}")
        finally:
            await kernel.disconnect()
        click.echo(f"migrated: kernel + {', '.join(kernel.registry.order) or 'no plugins'}")
        click.echo(synced.summary())

    run(go)


@main.command()
@click.option("--code", default="HQ", show_default=True, help="The head office's branch code.")
@click.option("--name", default="总行", show_default=True, help="The head office's name.")
@click.option("--name-en", default="Head Office", show_default=True)
@click.option("--admin", "admin_username", required=True, help="The first administrator.")
@click.option("--admin-email", default="")
def init(code: str, name: str, name_en: str, admin_username: str, admin_email: str) -> None:
    """Start a new installation: the head office and its first administrator.

    The password comes from BANKCRM_INIT_PASSWORD or is asked for twice (never echoed).
    Run once, after `bankcrm migrate`; then load the branch tree with `bankcrm branches
    load` and log in to the admin.
    """
    from bankcrm import bootstrap
    from bankcrm.runtime import boot

    password = os.environ.get("BANKCRM_INIT_PASSWORD") or click.prompt(
        f"password for {admin_username}", hide_input=True, confirmation_prompt=True
    )

    async def go() -> bootstrap.Initialised:
        kernel = await boot(connect=True)
        try:
            with bind_scope(system_scope(frozenset(), "init")):
                return await bootstrap.initialise(
                    kernel,
                    code=code,
                    name=name,
                    name_en=name_en,
                    admin_username=admin_username,
                    admin_password=password,
                    admin_email=admin_email,
                )
        finally:
            await kernel.disconnect()

    try:
        done = run(go)
    except bootstrap.BootstrapError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"initialised: head office {code} (id {done.head_office_id}),"
        f" administrator {admin_username} (id {done.admin_user_id})"
    )


@main.group("branches")
def branches_group() -> None:
    """The branch tree (head office, branches, sub-branches)."""


@branches_group.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def branches_load(file: Path) -> None:
    """Add branches from a CSV or xlsx file: code, name, name_en, parent_code (or 机构代码,
    机构名称, 英文名称, 上级机构代码). All rows are checked first; nothing is written on an
    error."""
    from bankcrm import bootstrap

    try:
        rows = bootstrap.read_branch_file(file)
        count = run(lambda: _with_kernel(lambda _: bootstrap.load_branches(rows)))
    except bootstrap.BootstrapError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"loaded {count} branches")


@main.group("employees")
def employees_group() -> None:
    """Employees, teams and the manager tree."""


@employees_group.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--commit", is_flag=True, help="Write the rows (default: check them only).")
def employees_load(file: Path, commit: bool) -> None:
    """Check, then with --commit load, employees from a CSV or xlsx file (工号, 姓名, 机构代码,
    团队, 直属上级, 用户名, 岗位, 擅长产品, 最大任务数 …). Every problem is listed by row and
    column; a commit writes every row or, on any problem, none."""
    from bankcrm.organisation import loading
    from bankcrm.web.problems import Problem

    try:
        report = run(
            lambda: _with_kernel(lambda _: loading.load_file(file, file.name, commit=commit))
        )
    except Problem as exc:
        lines = [exc.detail, *(f"  {e.field}: {e.message}" for e in exc.errors)]
        raise click.ClickException("\n".join(lines)) from exc
    for error in report.errors:
        click.echo(f"row {error.row}, column {error.column}: {error.message}", err=True)
    if report.unknown_columns:
        click.echo(f"ignored columns: {', '.join(report.unknown_columns)}", err=True)
    verb = "loaded" if report.committed else "checked"
    click.echo(
        f"{verb} {report.rows} rows: {report.created} new, {report.updated} updated,"
        f" {len(report.errors)} problem(s)"
    )
    if report.errors:
        raise SystemExit(1)


@main.group("calendar")
def calendar_group() -> None:
    """The business calendar: national holidays and adjusted working days per year."""


@calendar_group.command("load-year")
@click.argument("year", type=click.IntRange(1990, 2200))
@click.option(
    "--from-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV date,kind,name (kind holiday/workday or 休/班) from the official notice.",
)
def calendar_load_year(year: int, from_file: Path | None) -> None:
    """Load (or replace) a year of the national calendar."""
    from bankcrm import business_calendar
    from bankcrm.web.problems import Problem

    try:
        if from_file is not None:
            days = business_calendar.read_days_csv(from_file.read_text("utf-8-sig"), year)
            source, known = str(from_file.name), True
        else:
            days, known = business_calendar.package_days(year)
            source = "holidays package"
        count = run(
            lambda: _with_kernel(
                lambda _: business_calendar.load_year(
                    year, days, source=source, adjusted_days_known=known
                )
            )
        )
    except Problem as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(f"{year}: {count} days loaded from {source}")
    if not known:
        click.echo(
            f"warning: the source has no adjusted working days (调休) for {year}; load them"
            " from the official notice with --from-file when it is published",
            err=True,
        )


@calendar_group.command("years")
def calendar_years() -> None:
    """The loaded years, their source and whether their adjusted working days are known."""
    from bankcrm import db

    async def go(_: Any) -> list[Any]:
        return await db.fetch(
            "SELECT year, source, adjusted_days_known, loaded_at FROM bankcrm_calendar_year"
            " ORDER BY year"
        )

    for row in run(lambda: _with_kernel(go)):
        known = "调休 known" if row["adjusted_days_known"] else "调休 NOT known"
        click.echo(f"{row['year']}  {row['source']}  {known}  {row['loaded_at']:%Y-%m-%d}")


@main.command()
def plugins() -> None:
    """List installed plugins (version, status and reason, hooks) and their access rules."""
    from rich.console import Console
    from rich.table import Table

    from bankcrm.runtime import load_registry
    from bankcrm.settings import get_settings

    registry = load_registry(get_settings())
    if not registry.records:
        click.echo("no plugins: none is installed, or BANKCRM_PLUGINS names none")
        return
    table = Table("name", "version", "status", "requires", "hooks / reason")
    for record in registry.records.values():
        detail = record.reason or ", ".join(sorted(record.hooks))
        table.add_row(
            record.name, record.version, record.status, ", ".join(record.requires), detail
        )
    Console().print(table)
    _print_access_rules(registry)


def _print_access_rules(registry: Any) -> None:
    """The declared row rules, as ``bankcrm migrate`` compiles them; exit 1 if invalid."""
    from piccolo.conf.apps import Finder
    from rich.console import Console
    from rich.table import Table

    from bankcrm.access_rules import AccessRuleError, declared_rules
    from bankcrm.security import registered_tables

    try:
        rules = declared_rules(registry, registered_tables(Finder().get_app_registry()))
    except AccessRuleError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    if not rules:
        click.echo("access rules: none declared")
        return
    table = Table("access rule", "plugin", "table", "a row is visible when", "title")
    for rule in rules:
        table.add_row(
            rule.name,
            rule.declared_by,
            rule.table,
            rule.describe(),
            f"{rule.rule.title} / {rule.rule.title_en}",
        )
    Console().print(table)


@main.command()
@click.option("--host", default=None, help="Listen address (BANKCRM_HOST).")
@click.option("--port", default=None, type=int, help="Listen port (BANKCRM_PORT).")
@click.option(
    "--worker/--no-worker",
    default=True,
    show_default=True,
    help="Run a background worker in this process tree.",
)
def serve(host: str | None, port: int | None, worker: bool) -> None:
    """Migrate, then serve the API and admin UI (with a worker); HTTPS when
    BANKCRM_TLS_CERT and BANKCRM_TLS_KEY name the certificate and its key."""
    from bankcrm.server import serve_forever
    from bankcrm.settings import SettingsError

    try:
        serve_forever(host=host, port=port, with_worker=worker, seed_demo=False)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


@main.command()
@click.option("--host", default=None)
@click.option("--port", default=None, type=int)
@click.option("--customers", default=1000, show_default=True, help="Demo customers to create.")
def demo(host: str | None, port: int | None, customers: int) -> None:
    """Everything at once: embedded PostgreSQL, migrations, demo data, API, admin, worker."""
    from bankcrm.server import serve_forever
    from bankcrm.settings import SettingsError

    try:
        serve_forever(host=host, port=port, with_worker=True, seed_demo=True, demo_scale=customers)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


@main.command()
@click.option("--threads", default=4, show_default=True)
def worker(threads: int) -> None:
    """Run background workers (and the scheduler and outbox relay) without the web app."""
    from bankcrm.jobs import run_worker_process

    sys.exit(run_worker_process(threads=threads))


@main.group()
def audit() -> None:
    """The audit trail."""


@audit.command("verify")
def audit_verify() -> None:
    """Recompute the hash chain; exit 1 if any row was changed or deleted."""
    import asyncpg

    from bankcrm import audit as audit_module
    from bankcrm.runtime import boot

    async def go() -> audit_module.VerifyResult:
        kernel = await boot(connect=False)
        owner = await asyncpg.connect(kernel.owner_url)
        try:
            return await audit_module.verify(owner)
        finally:
            await owner.close()

    result = run(go)
    if result.ok:
        click.echo(f"audit chain intact: {result.rows} rows")
        return
    for problem in result.problems:
        click.echo(f"TAMPERED: {problem}", err=True)
    sys.exit(1)


@main.group("api-client")
def api_client() -> None:
    """API clients for external systems (bearer tokens bound to a branch)."""


async def _with_kernel(fn: Callable[[Any], Awaitable[T]]) -> T:
    from bankcrm import branches
    from bankcrm.runtime import boot

    kernel = await boot(connect=True)
    try:
        tree = await branches.snapshot()
        with bind_scope(system_scope(frozenset(tree.nodes), "cli")):
            return await fn(tree)
    finally:
        await kernel.disconnect()


async def _audit_api_client(action: str, client_id: int, after: dict[str, Any]) -> None:
    from bankcrm import audit as audit_module
    from bankcrm import db

    branch_id = await db.fetchval("SELECT branch FROM bankcrm_api_client WHERE id = $1", client_id)
    await audit_module.record(
        action, "bankcrm.api_client", client_id, branch_id=branch_id, after=after
    )


@api_client.command("create")
@click.argument("name")
@click.option("--branch", "branch_code", required=True, help="Branch code, e.g. BJ.")
@click.option("--permission", "permissions", multiple=True, required=True)
def api_client_create(name: str, branch_code: str, permissions: tuple[str, ...]) -> None:
    """Create a client; prints its token once."""
    from bankcrm import audit as audit_module
    from bankcrm import auth, db

    async def go(tree: Any) -> auth.IssuedToken:
        if branch_code not in tree.by_code:
            raise click.BadParameter(f"no branch with code {branch_code!r}", param_hint="--branch")
        branch_id = tree.by_code[branch_code]
        async with db.transaction():
            issued = await auth.create_api_client(name, branch_id, list(permissions), "system:cli")
            await audit_module.record(
                audit_module.Action.CREATE,
                "bankcrm.api_client",
                issued.client_id,
                branch_id=branch_id,
                after={"name": name, "permissions": list(permissions)},
            )
        return issued

    issued = run(lambda: _with_kernel(go))
    click.echo(json.dumps({"id": issued.client_id, "token": issued.token}))


@api_client.command("rotate")
@click.argument("client_id", type=int)
@click.option(
    "--overlap-minutes",
    type=click.IntRange(0, 7 * 24 * 60),
    default=60,
    show_default=True,
    help="How long the old token keeps working (0: it stops at once, e.g. when leaked).",
)
def api_client_rotate(client_id: int, overlap_minutes: int) -> None:
    """Issue a new token; the old one keeps working for the overlap."""
    from bankcrm import auth, db

    async def go(_: Any) -> auth.IssuedToken | None:
        async with db.transaction():
            issued = await auth.rotate_api_client(client_id, "system:cli", overlap_minutes)
            if issued is not None:
                after = {"rotated": True, "overlap_minutes": overlap_minutes}
                await _audit_api_client("update", client_id, after)
        return issued

    issued = run(lambda: _with_kernel(go))
    if issued is None:
        raise click.ClickException(f"client {client_id} does not exist or is revoked")
    click.echo(json.dumps({"id": issued.client_id, "token": issued.token}))


@api_client.command("revoke")
@click.argument("client_id", type=int)
def api_client_revoke(client_id: int) -> None:
    from bankcrm import auth, db

    async def go(_: Any) -> bool:
        async with db.transaction():
            revoked = await auth.revoke_api_client(client_id)
            if revoked:
                await _audit_api_client("delete", client_id, {"revoked": True})
        return revoked

    if not run(lambda: _with_kernel(go)):
        raise click.ClickException(f"client {client_id} does not exist or is already revoked")
    click.echo(f"revoked client {client_id}")


@api_client.command("list")
def api_client_list() -> None:
    from bankcrm import db

    async def go(_: Any) -> list[Any]:
        return await db.fetch(
            "SELECT id, name, branch, permissions, created_at, revoked_at"
            " FROM bankcrm_api_client ORDER BY id"
        )

    for row in run(lambda: _with_kernel(go)):
        state = "revoked" if row["revoked_at"] else "active"
        click.echo(
            f"{row['id']}\t{row['name']}\tbranch={row['branch']}\t{state}\t"
            f"{','.join(row['permissions'])}"
        )


@main.group("user")
def user_group() -> None:
    """Staff accounts: create, roles and branches, passwords, locks (see `bankcrm.users`)."""


def _add_user_commands() -> None:
    from bankcrm.users.cli import add_user_commands

    add_user_commands(user_group, lambda fn: run(lambda: _with_kernel(fn)))


_add_user_commands()


def _add_sdk_commands() -> None:
    # `bankcrm plugin new/check` come with the SDK, a development tool that a production
    # installation need not have.
    try:
        from bankcrm_sdk.scaffold import plugin_group
    except ImportError:

        @main.group("plugin")
        def missing_sdk() -> None:
            """Write or check a plugin: needs the bankcrm-sdk distribution."""
            raise click.ClickException("install bankcrm-sdk for `bankcrm plugin new/check`")

        return
    main.add_command(plugin_group)


def _add_plugin_commands() -> None:
    # Plugins add their own command groups; a broken plugin must not break the CLI.
    if os.environ.get("BANKCRM_CLI_NO_PLUGINS"):
        return
    try:
        from bankcrm.runtime import load_registry
        from bankcrm.settings import get_settings

        registry = load_registry(get_settings())
        registry.call_each("register_cli", group=main)
    except Exception as exc:  # pragma: no cover - reported, not fatal
        click.echo(f"warning: plugin commands unavailable: {exc}", err=True)


_add_sdk_commands()
_add_plugin_commands()
