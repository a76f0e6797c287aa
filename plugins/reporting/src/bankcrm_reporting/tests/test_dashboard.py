"""The KPI registry and the dashboard API: every plugin's KPIs, figures under the
viewer's scope, the drill-down, the period comparison, and no other branch's numbers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bankcrm import db, jobs
from bankcrm.plugin_api import MetricSpec
from bankcrm_reporting import services
from bankcrm_reporting.actors import SCHEDULES, take_snapshots
from bankcrm_sdk.world import World

PROBLEM = "application/problem+json"


async def count_branches() -> int:
    return int(await db.fetchval("SELECT count(DISTINCT branch_id) FROM reporting_snapshot"))


async def test_the_registry_collects_every_plugins_kpis(world: World) -> None:
    client = await world.client("demo.bj.manager")
    kpis = {k["name"]: k for k in (await client.get("/api/v1/reporting/kpis")).json()}
    customers = kpis["customer_archive.customers"]
    assert customers["plugin"] == "customer_archive"
    assert customers["direction"] == "up"
    assert customers["dimensions"] == ["branch"]
    assert customers["owner"]
    assert customers["unit"] == "count"


async def test_a_sub_branch_sees_only_its_own_figures(world: World) -> None:
    """Customers are counted per subtree: the sub-branch user's dashboard starts at their
    sub-branch, other branches are 404, and the sum of the children is the parent."""
    head = await world.client("demo.auditor")
    answer = (
        await head.get(
            "/api/v1/reporting/dashboard", params={"metric": "customer_archive.customers"}
        )
    ).json()
    assert answer["node"]["code"] == "HQ"
    bars = {b["branch"]["code"]: b["value"] for b in answer["breakdown"]}
    assert set(bars) == {"BJ", "SH"}
    total = next(f for f in answer["figures"] if f["metric"] == "customer_archive.customers")
    assert total["value"] == sum(bars.values())

    bj = (
        await head.get(
            "/api/v1/reporting/dashboard",
            params={"branch_id": world.branch("BJ"), "metric": "customer_archive.customers"},
        )
    ).json()
    sub = {b["branch"]["code"]: b["value"] for b in bj["breakdown"]}
    assert set(sub) == {"BJ-HD", "BJ-CY"}
    assert [n["code"] for n in bj["trail"]] == ["HQ", "BJ"]

    rm = await world.client("demo.bj.rm")  # BJ-HD
    own = (await rm.get("/api/v1/reporting/dashboard")).json()
    assert own["node"]["code"] == "BJ-HD"
    assert [n["code"] for n in own["branches"]] == ["BJ-HD"]
    assert own["breakdown"] == []
    assert own["history"] is False
    for other in ("BJ", "BJ-CY", "SH", "HQ"):
        response = await rm.get(
            "/api/v1/reporting/dashboard", params={"branch_id": world.branch(other)}
        )
        assert response.status_code == 404, other
        assert response.headers["content-type"].startswith(PROBLEM)

    sh = await world.client("demo.sh.manager")
    response = await sh.get("/api/v1/reporting/dashboard", params={"branch_id": world.branch("BJ")})
    assert response.status_code == 404


async def test_figures_run_each_plugins_query_under_the_narrowed_scope(
    world: World, kernel_with: Any, make_plugin: Any
) -> None:
    """A KPI that counts the branches it can see answers per subtree in the breakdown."""
    from bankcrm.webapp import create_app

    async def visible() -> int:
        return int(await db.fetchval("SELECT cardinality(bankcrm_scope_branch_ids())"))

    metric = MetricSpec("greeter.seen", "可见机构", "Branches seen", "count", compute=visible,
                        direction="up")  # fmt: skip
    kernel = kernel_with([make_plugin("greeter", hooks={"register_metrics": lambda: [metric]})])
    world.app = create_app(kernel, with_admin=False)
    try:
        admin = await world.client("demo.admin")
        await admin.put(
            f"/api/v1/branches/{world.branch('HQ')}/plugins/greeter", json={"enabled": True}
        )
        bj = await world.client("demo.bj.manager")
        answer = (
            await bj.get("/api/v1/reporting/dashboard", params={"metric": "greeter.seen"})
        ).json()
    finally:
        create_app(world.kernel)
    figures = {f["metric"]: f["value"] for f in answer["figures"]}
    assert figures["greeter.seen"] == len(await world.subtree("BJ"))
    assert {b["branch"]["code"]: b["value"] for b in answer["breakdown"]} == {
        "BJ-HD": 1,
        "BJ-CY": 1,
    }


async def test_bad_input_is_a_problem(world: World) -> None:
    client = await world.client("demo.bj.manager")
    for params in ({"metric": "no.such"}, {"days": 8}, {"branch_id": 2**31 - 1}):
        response = await client.get("/api/v1/reporting/dashboard", params=params)
        assert 400 <= response.status_code < 500, params
        assert response.headers["content-type"].startswith(PROBLEM)


async def test_snapshots_are_taken_once_a_day_and_compared(
    world: World, kit: Any, job_worker: Any
) -> None:
    harness = await job_worker()
    for _ in range(2):  # a second run (or a re-delivered message) adds no rows
        with world.bind(await world.scope_of("HQ")):
            async with db.transaction():
                await jobs.enqueue(take_snapshots)
        await harness.drain()
    rows = await kit.owner_fetch(
        "SELECT branch_id, metric, day, value FROM reporting_snapshot"
        " WHERE metric = 'customer_archive.customers'"
    )
    assert len(rows) == len(world.branches)
    today = services.bank_today()
    assert {r["day"] for r in rows} == {today}

    # A figure from a month ago makes the comparison and the trend.
    hq = world.branch("HQ")
    now = next(r["value"] for r in rows if r["branch_id"] == hq)
    await kit.owner_fetch(
        "INSERT INTO reporting_snapshot (branch_id, metric, day, value)"
        " VALUES ($1, 'customer_archive.customers', $2, $3)",
        hq,
        today - timedelta(days=30),
        now - 5,
    )
    auditor = await world.client("demo.auditor")
    answer = (
        await auditor.get(
            "/api/v1/reporting/dashboard",
            params={"metric": "customer_archive.customers", "days": 30},
        )
    ).json()
    figure = next(f for f in answer["figures"] if f["metric"] == "customer_archive.customers")
    assert figure["previous"] == float(now - 5)
    assert figure["change"] == 5
    assert [p["day"] for p in answer["trend"]] == [today.isoformat()]
    assert [p["day"] for p in answer["previous_trend"]] == [today.isoformat()]

    # The sub-branch's manager-level history is not the branch's: RLS hides BJ's rows.
    with world.bind(await world.scope_of("BJ-HD")):
        assert await count_branches() == 1


def test_the_snapshot_job_is_scheduled_daily() -> None:
    assert (take_snapshots.name, 24 * 3600) in [(s.actor_name, s.every_seconds) for s in SCHEDULES]


async def test_the_admins_target_rows_open_the_dashboard(world: World, kit: Any) -> None:
    """A target's row page (linked from the admin) leads to its KPI at its branch; another
    branch's target is absent."""
    bj = await world.client("demo.bj.manager")
    created = await kit.create(bj, branch_id=world.branch("BJ-HD"))
    page = await bj.get(f"/app/reporting/targets/{created['id']}", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == (
        f"/app/reporting/?branch_id={world.branch('BJ-HD')}&metric=customer_archive.customers"
    )
    sh = await world.client("demo.sh.manager")
    other = await sh.get(f"/app/reporting/targets/{created['id']}", follow_redirects=False)
    assert other.status_code == 404
