"""Branch isolation, generated over every route and every branch-scoped table.

Nothing here lists tables or routes: they come from the Piccolo app registry and the
Litestar app, and the data from every plugin's ``seed_demo_data``. Installing a plugin
adds its tables and routes to these tests.
"""

from __future__ import annotations

from collections.abc import Callable

import asyncpg
import pytest
from piccolo.conf.apps import Finder

from bankcrm import db, jobs
from bankcrm.context import Scope, bind_scope, current_scope
from bankcrm.plugins import PluginCandidate
from bankcrm.runtime import Kernel
from bankcrm.security import SecurityError, apply_security, table_policies, verify_security
from bankcrm.sql import POLICY_NAME
from bankcrm_sdk.isolation import (
    branch_token_client,
    branch_user_client,
    single_branch_tables,
    table_index,
    take_snapshot,
    visibility_problems,
    write_problems,
)
from bankcrm_sdk.jobs import StartJobWorker, enable_plugin
from bankcrm_sdk.route_probe import probe_rest_isolation
from bankcrm_sdk.world import World


def scoped_table_names() -> list[str]:
    return [p.table for p in table_policies(Finder().get_app_registry()) if p.scoped]


async def test_every_scoped_table_is_populated_in_two_branches(populated_world: World) -> None:
    index = table_index()
    assert {t.name for t in index.scoped} == set(scoped_table_names())
    snapshot = await take_snapshot(populated_world.kernel.owner_url, index)
    lonely = single_branch_tables(snapshot, index)
    assert not lonely, (
        "these scoped tables have rows in one branch only, so isolation checks on them prove"
        f" nothing; make the plugin's seed_demo_data spread rows over branches: {lonely}"
    )
    empty = [t.name for t in index.scoped if not snapshot.tables[t.name].rows]
    populated = [t.name for t in index.scoped if snapshot.tables[t.name].rows]
    assert populated, f"no scoped table has rows; empty: {empty}"


async def test_no_scope_sees_no_scoped_row(populated_world: World) -> None:
    index = table_index()
    snapshot = await take_snapshot(populated_world.kernel.owner_url, index)
    assert await visibility_problems(snapshot, index, None) == []
    empty_scope = Scope(actor="system:test", branch_ids=frozenset())
    assert await visibility_problems(snapshot, index, empty_scope) == []


@pytest.mark.parametrize("code", ["HQ", "BJ", "SH", "BJ-HD"])
async def test_a_scope_sees_exactly_its_subtree(populated_world: World, code: str) -> None:
    index = table_index()
    snapshot = await take_snapshot(populated_world.kernel.owner_url, index)
    scope = await populated_world.scope_of(code)
    assert await visibility_problems(snapshot, index, scope) == []


@pytest.mark.parametrize("code", ["BJ", "SH-PD"])
async def test_a_scope_cannot_change_other_branches_rows(populated_world: World, code: str) -> None:
    index = table_index()
    snapshot = await take_snapshot(populated_world.kernel.owner_url, index)
    scope = await populated_world.scope_of(code)
    assert await write_problems(snapshot, index, scope) == []
    after = await take_snapshot(populated_world.kernel.owner_url, index)
    assert snapshot.foreign_changes(after, frozenset()) == []


async def test_a_job_sees_exactly_its_senders_branches(
    populated_world: World,
    make_plugin: Callable[..., PluginCandidate],
    kernel_with: Callable[..., Kernel],
    job_worker: StartJobWorker,
) -> None:
    world = populated_world
    index = table_index()
    snapshot = await take_snapshot(world.kernel.owner_url, index)
    seen: dict[str, tuple[frozenset[int] | None, list[str]]] = {}

    @jobs.actor("isolationprobe.look")
    async def look(label: str) -> None:
        scope = current_scope()
        problems = await visibility_problems(snapshot, index, scope)
        seen[label] = (scope.branch_ids if scope else None, problems)

    plugin = make_plugin("isolationprobe", hooks={"register_actors": lambda: [look]})
    worker = await job_worker(kernel_with([plugin]))
    await enable_plugin("isolationprobe", world.branch("HQ"))
    bj = await world.scope_of("BJ")
    with bind_scope(bj):
        async with db.transaction():
            await look.enqueue("BJ")
    async with db.transaction():
        await look.enqueue("no scope")
    await worker.drain()
    assert seen == {"BJ": (bj.branch_ids, []), "no scope": (None, [])}


@pytest.mark.parametrize(
    ("kind", "code"), [("session", "BJ"), ("token", "BJ"), ("session", "SH-PD")]
)
async def test_rest_routes_neither_show_nor_change_other_branches(
    populated_world: World, kind: str, code: str, reference_overrides: dict[str, str | None]
) -> None:
    world = populated_world
    if kind == "token":
        actor = await branch_token_client(world, code)
    else:
        actor = await branch_user_client(world, code)
    head_office = await world.client("demo.admin")
    result = await probe_rest_isolation(
        world, actor, code, control=head_office, overrides=reference_overrides
    )
    assert result.plan.attempts, "no request was generated"
    assert result.problems() == []


async def test_kernel_refuses_to_start_when_a_scoped_table_lacks_its_policy(
    populated_world: World,
) -> None:
    kernel = populated_world.kernel
    registry = Finder().get_app_registry()
    owner = await asyncpg.connect(kernel.owner_url)
    app = await asyncpg.connect(kernel.app_url)
    # Restoring with the kernel's access rules: without them, applying the security drops
    # every rule's policy, and a later test's worker refuses to start on this database.
    try:
        await verify_security(app, registry)
        for table in scoped_table_names():
            quoted = db.quote_ident(table)
            for sabotage in (
                f"DROP POLICY {POLICY_NAME} ON {quoted}",
                f"ALTER TABLE {quoted} NO FORCE ROW LEVEL SECURITY",
            ):
                await owner.execute(sabotage)
                with pytest.raises(SecurityError, match=table):
                    await verify_security(app, registry)
                await apply_security(
                    owner, registry, kernel.settings.app_role, kernel.access_rules()
                )
        await verify_security(app, registry)
    finally:
        await apply_security(owner, registry, kernel.settings.app_role, kernel.access_rules())
        await owner.close()
        await app.close()
