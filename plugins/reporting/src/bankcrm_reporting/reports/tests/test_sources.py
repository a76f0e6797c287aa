"""The published hook ``reporting_data_sources``: a plugin's source is listed, checked,
run under the caller's scope narrowed to where the plugin is enabled, its personal
dimension masked; a scope without branches reads nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest

from bankcrm import branches, db, pii
from bankcrm.context import Scope
from bankcrm.plugin_api import user_scope
from bankcrm.plugins import PluginCandidate
from bankcrm.runtime import Kernel, activate
from bankcrm_reporting import services as reporting
from bankcrm_reporting.customer_source import CUSTOMERS
from bankcrm_reporting.reports import services
from bankcrm_sdk.world import World


def notes_source() -> reporting.DataSource:
    return reporting.sql_source(
        name="notes.customers",
        title="备注：客户",
        title_en="Notes: customers",
        permission="customer_archive.customer.read",
        from_sql="customer_archive_customer c",
        dimensions=(
            reporting.Dimension("name", "客户名称", "Name", "c.name", mask=pii.mask_name),
            reporting.Dimension("branch", "机构", "Branch", "c.branch_id", "branch"),
        ),
        measures=(reporting.Measure("customers", "客户数", "Customers", "c.id", ("count",)),),
    )


@pytest.fixture
def with_notes(
    kernel_with: Callable[[list[PluginCandidate]], Kernel],
    make_plugin: Callable[..., PluginCandidate],
) -> Iterator[Kernel]:
    def reporting_data_sources() -> list[reporting.DataSource]:
        return [notes_source()]

    notes = make_plugin("notes", requires=("customer_archive",),
                        hooks={"reporting_data_sources": reporting_data_sources})  # fmt: skip
    kernel = kernel_with([notes])
    previous = activate(kernel)
    try:
        yield kernel
    finally:
        activate(previous)


async def test_hook_reporting_data_sources_runs_a_plugins_source_under_the_callers_scope(
    world: World, kit: Any, with_notes: Kernel
) -> None:
    await kit.customers("BJ-HD", 2)
    await kit.customers("BJ-CY", 3)
    await kit.customers("SH-PD", 4)
    with world.bind(world.system_scope()):
        await db.fetch(
            "INSERT INTO bankcrm_plugin_enablement (branch, plugin, enabled, settings,"
            " changed_by, changed_at) VALUES ($1, 'notes', true, '{}', 'test', now()),"
            " ($2, 'notes', false, '{}', 'test', now())",
            world.branch("HQ"), world.branch("BJ-CY"),
        )  # fmt: skip
    branches.invalidate()
    manager = await user_scope(world.users["demo.bj.manager"])
    assert manager is not None
    with world.bind(manager):
        listed = {s.name: s.plugin for s in services.list_sources()}
        assert listed["notes.customers"] == "notes"
        assert listed["customer_archive.customers"] == "reporting"
        report = await services.create_report(
            services.ReportIn(
                name="客户名单", source="notes.customers", dimensions=["branch", "name"],
                measures=[services.MeasureIn(measure="customers", aggregation="count")],
            )
        )  # fmt: skip
        run = await services.execute(report, manager, "manual", date.today())
    # BJ-CY has the plugin disabled: its customers are not read; SH is not in scope.
    assert {r["branch"] for r in run.rows} == {world.branch("BJ-HD")}
    assert sum(r["customers_count"] for r in run.rows) == 2
    # The personal dimension left the query masked.
    assert all(r["name"].startswith("客") and "*" in r["name"] for r in run.rows)
    assert world.branch("BJ-CY") not in run.scope_branches

    narrow = Scope(actor="user:0", branch_ids=manager.branch_ids, permissions=frozenset())
    with world.bind(narrow):
        assert "notes.customers" not in {s.name for s in services.list_sources()}


async def test_a_source_reads_nothing_without_a_branch(world: World, kit: Any) -> None:
    await kit.customers("BJ-HD", 2)
    query = reporting.ReportQuery(dimensions=(), measures=(("customers", "count"),))
    empty = Scope(actor="system:test", branch_ids=frozenset(), is_superuser=True)
    assert await CUSTOMERS.query(query, empty) == []
    with world.bind(world.system_scope()):
        assert await CUSTOMERS.query(query, world.system_scope()) == [{"customers_count": 2}]
    other = Scope(actor="system:test", branch_ids=await world.subtree("SH"), is_superuser=True)
    assert await CUSTOMERS.query(query, other) == [{"customers_count": 0}]


def test_relative_periods() -> None:
    day = date(2026, 3, 4)  # a Wednesday
    assert services.resolve_period("", day) is None
    assert services.resolve_period("last_month", day) == (date(2026, 2, 1), date(2026, 3, 1))
    assert services.resolve_period("this_month", day) == (date(2026, 3, 1), date(2026, 4, 1))
    assert services.resolve_period("last_week", day) == (date(2026, 2, 23), date(2026, 3, 2))
    assert services.resolve_period("last_quarter", day) == (date(2025, 10, 1), date(2026, 1, 1))
    assert services.resolve_period("this_quarter", date(2026, 12, 31)) == (
        date(2026, 10, 1), date(2027, 1, 1),
    )  # fmt: skip
    assert services.resolve_period("yesterday", day) == (date(2026, 3, 3), day)
    assert services.resolve_period("last_year", day) == (date(2025, 1, 1), date(2026, 1, 1))
