"""Value tiers: computed from AUM with each branch's thresholds, dormancy one tier down,
history only on change, idempotent, per branch."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import asyncpg
import httpx

from bankcrm import db
from bankcrm_customer_archive.tiers import services as tiers
from bankcrm_sdk.jobs import StartJobWorker
from bankcrm_sdk.world import World

BASE = "/api/v1/customer_archive"
SETTINGS = "/api/v1/branches/{}/plugins/customer_archive/settings"

_accounts = iter(range(6222000000000100000, 6222000000000200000))


async def customer_with_aum(
    kit: Any, client: httpx.AsyncClient, branch_id: int, order: str, *balances: str, **extra: Any
) -> int:
    customer = await kit.create(
        client, branch_id=branch_id, id_number=kit.resident_id(order=order), **extra
    )
    for balance in balances:
        response = await client.post(
            f"{BASE}/customers/{customer['id']}/holdings",
            json={"product_code": "DEP-1Y", "account_no": str(next(_accounts)),
                  "balance": balance},
        )  # fmt: skip
        assert response.status_code == 201, response.text
    return int(customer["id"])


async def owner_fetch(world: World, sql: str, *args: Any) -> list[asyncpg.Record]:
    owner = await asyncpg.connect(world.kernel.owner_url)
    try:
        return list(await owner.fetch(sql, *args))
    finally:
        await owner.close()


async def tiers_of(world: World, *ids: int) -> list[str | None]:
    rows = await owner_fetch(
        world, "SELECT id, value_tier FROM customer_archive_customer WHERE id = ANY($1)", list(ids)
    )
    found = {r["id"]: r["value_tier"] for r in rows}
    return [found[i] for i in ids]


async def history(world: World, customer_id: int) -> list[asyncpg.Record]:
    return await owner_fetch(
        world,
        "SELECT value, source, rated_by, note FROM customer_archive_rating"
        " WHERE customer = $1 AND kind = 'value_tier' ORDER BY id",
        customer_id,
    )


async def run_job(world: World, job_worker: StartJobWorker, *codes: str, **kwargs: Any) -> None:
    worker = await job_worker()
    with world.bind(await world.scope_of(*codes)):
        async with db.transaction():
            await tiers.recompute_value_tiers.enqueue(**kwargs)
    await worker.drain(30)


async def test_tiers_follow_aum_and_branch_thresholds(
    world: World, kit: Any, bj: httpx.AsyncClient, catalogue: dict[str, int],
    job_worker: StartJobWorker,
) -> None:  # fmt: skip
    hd = world.branch("BJ-HD")
    private = await customer_with_aum(kit, bj, hd, "302", "5000000", "1500000.50")
    wealth = await customer_with_aum(kit, bj, hd, "312", "600000")
    affluent = await customer_with_aum(kit, bj, hd, "322", "50000")
    mass = await customer_with_aum(kit, bj, hd, "332", "49999.99")
    nothing = await customer_with_aum(kit, bj, hd, "342")
    company = (await kit.create(bj, branch_id=hd, kind="corporate", name="北京星河科技有限公司",
                                id_type="uscc", id_number=kit.uscc()))["id"]  # fmt: skip

    await run_job(world, job_worker, "BJ")
    assert await tiers_of(world, private, wealth, affluent, mass, nothing, company) == [
        "private", "wealth", "affluent", "mass", "mass", None,
    ]  # fmt: skip
    first = await history(world, private)
    assert [(r["value"], r["source"], r["rated_by"]) for r in first] == [("private", "job", None)]
    assert "6500000.50" in first[0]["note"]

    # Beijing raises its thresholds; Haidian inherits them.
    admin = await world.client("demo.admin")
    response = await admin.put(
        SETTINGS.format(world.branch("BJ")),
        json={"value_tiers": {"private_min_aum": 10_000_000, "wealth_min_aum": 1_000_000,
                              "affluent_min_aum": 50_000}},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    await run_job(world, job_worker, "BJ")
    assert await tiers_of(world, private, wealth, affluent, mass) == [
        "wealth", "affluent", "affluent", "mass",
    ]  # fmt: skip
    # History grows only for the customers whose tier changed.
    assert [r["value"] for r in await history(world, private)] == ["private", "wealth"]
    assert [r["value"] for r in await history(world, wealth)] == ["wealth", "affluent"]
    assert [r["value"] for r in await history(world, affluent)] == ["affluent"]
    assert [r["value"] for r in await history(world, mass)] == ["mass"]

    # One audit row per branch and run, with the counts.
    audit_rows = await owner_fetch(
        world,
        "SELECT branch_id, after FROM bankcrm_audit WHERE entity = $1 ORDER BY id",
        tiers.ENTITY_TIER_RUN,
    )
    bj_subtree = await world.subtree("BJ")
    assert len(audit_rows) == 2 * len(bj_subtree)
    last_hd = [json.loads(r["after"]) for r in audit_rows if r["branch_id"] == hd][-1]
    assert last_hd["evaluated"] == 5
    assert last_hd["changed_to"] == {"wealth": 1, "affluent": 1}
    assert last_hd["distribution"] == {"wealth": 1, "affluent": 2, "mass": 2}
    assert last_hd["settings"]["private_min_aum"] == 10_000_000


async def test_thresholds_must_descend(world: World) -> None:
    admin = await world.client("demo.admin")
    response = await admin.put(
        SETTINGS.format(world.branch("BJ")),
        json={"value_tiers": {"private_min_aum": 100, "wealth_min_aum": 1000}},
    )
    assert response.status_code == 422
    assert "descend" in response.json()["detail"]


async def test_running_twice_changes_nothing_more(
    world: World, kit: Any, bj: httpx.AsyncClient, catalogue: dict[str, int],
    job_worker: StartJobWorker,
) -> None:  # fmt: skip
    hd = world.branch("BJ-HD")
    customer = await customer_with_aum(kit, bj, hd, "302", "700000")
    await run_job(world, job_worker, "BJ")
    await run_job(world, job_worker, "BJ")
    with world.bind(await world.scope_of("BJ")):
        async with db.transaction():
            again = await tiers.recompute_branch(hd, run_id="test")
    assert again.evaluated == 1
    assert again.changed == 0
    assert again.distribution == {"wealth": 1}
    assert [r["value"] for r in await history(world, customer)] == ["wealth"]


async def test_average_of_snapshots_and_dormancy(
    world: World, kit: Any, bj: httpx.AsyncClient, catalogue: dict[str, int]
) -> None:
    hd = world.branch("BJ-HD")
    # Parked at the quarter's end: 1,000,000 today, but 100,000 on average.
    parked = await customer_with_aum(kit, bj, hd, "302", "1000000")
    sleeper = await customer_with_aum(kit, bj, hd, "312", "700000")
    marked = await customer_with_aum(kit, bj, hd, "322", "60000", status="dormant")
    active = await customer_with_aum(kit, bj, hd, "332", "60000")
    today = date.today()
    scope = await world.scope_of("BJ")
    with world.bind(scope):
        async with db.transaction():
            await db.execute_many(
                "INSERT INTO customer_archive_aum_snapshot (branch_id, customer, snapshot_on,"
                " aum, created_at) VALUES ($1, $2, $3, $4, now())",
                [(hd, parked, today - timedelta(days=d), 100_000) for d in range(1, 31)]
                + [(hd, parked, today - timedelta(days=200), 9_000_000)],
            )
            # The sleeper's record and holding are two years old, no activity since.
            long_ago = today - timedelta(days=730)
            await db.fetch(
                "UPDATE customer_archive_customer SET created_at = $2,"
                " last_activity_at = $2 WHERE id = $1",
                sleeper, long_ago,
            )  # fmt: skip
            await db.fetch(
                "UPDATE customer_archive_holding SET opened_on = $2 WHERE customer = $1",
                sleeper, long_ago,
            )  # fmt: skip
            run = await tiers.recompute_branch(hd, run_id="test")
    assert run.evaluated == 4
    assert await tiers_of(world, parked, sleeper, marked, active) == [
        "affluent", "affluent", "mass", "affluent",
    ]  # fmt: skip
    assert "dormant" in (await history(world, sleeper))[0]["note"]

    # With the current basis the parked money counts, and without the dormancy rule the
    # sleeper keeps its tier.
    admin = await world.client("demo.admin")
    response = await admin.put(
        SETTINGS.format(hd),
        json={"value_tiers": {"aum_basis": "current", "dormant_after_days": 0}},
    )
    assert response.status_code == 200, response.text
    with world.bind(scope):
        async with db.transaction():
            await tiers.recompute_branch(hd, run_id="test")
    assert await tiers_of(world, parked, sleeper, marked, active) == [
        "wealth", "wealth", "affluent", "affluent",
    ]  # fmt: skip


async def test_branches_are_recomputed_separately(
    world: World, kit: Any, bj: httpx.AsyncClient, catalogue: dict[str, int],
    job_worker: StartJobWorker,
) -> None:  # fmt: skip
    bj_customer = await customer_with_aum(kit, bj, world.branch("BJ-HD"), "302", "700000")
    sh = await world.client("demo.sh.manager")
    sh_customer = await customer_with_aum(kit, sh, world.branch("SH-PD"), "312", "700000")

    # A Beijing manager queues a recomputation: Shanghai is untouched.
    response = await bj.post(f"{BASE}/value-tiers/recompute", json={})
    assert response.status_code == 202, response.text
    assert set(response.json()["branch_ids"]) == set(await world.subtree("BJ"))
    worker = await job_worker()
    await worker.drain(30)
    assert await tiers_of(world, bj_customer, sh_customer) == ["wealth", None]

    outside = await bj.post(f"{BASE}/value-tiers/recompute", json={"branch_id": world.branch("SH")})
    assert outside.status_code == 422
    rm = await world.client("demo.bj.rm")
    assert (await rm.post(f"{BASE}/value-tiers/recompute", json={})).status_code == 403


async def test_one_customer_through_the_rating_history(
    world: World, kit: Any, bj: httpx.AsyncClient, catalogue: dict[str, int]
) -> None:
    customer = await customer_with_aum(kit, bj, world.branch("BJ-HD"), "302", "80000")
    url = f"{BASE}/customers/{customer}/value-tier"
    response = await bj.post(url)
    assert response.status_code == 200, response.text
    assert response.json() == {"customer_id": customer, "value_tier": "affluent"}
    assert (await bj.post(url)).json()["value_tier"] == "affluent"
    assert [(r["value"], r["source"]) for r in await history(world, customer)] == [
        ("affluent", "job")
    ]
    sh = await world.client("demo.sh.manager")
    assert (await sh.post(url)).status_code == 404
