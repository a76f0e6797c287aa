"""Balance and AUM snapshots: the idempotent job, FX conversion, history, 360 sections."""

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx

from bankcrm import db
from bankcrm.context import Scope
from bankcrm_customer_archive import services
from bankcrm_customer_archive.profile import services as profile
from bankcrm_customer_archive.profile.jobs import take_daily_snapshots
from bankcrm_sdk.world import World

BASE = "/api/v1/customer_archive"


async def _holdings(bj: httpx.AsyncClient, customer_id: int) -> list[int]:
    ids = []
    for code, account, balance, currency in [
        ("DEP-1Y", "6222000000000000001", "100000.00", "CNY"),
        ("WM-30D", "6222000000000000002", "1000.00", "USD"),
        ("LN-CONS", "6222000000000000003", "30000", "CNY"),
    ]:
        response = await bj.post(f"{BASE}/customers/{customer_id}/holdings", json={
            "product_code": code, "account_no": account, "balance": balance,
            "currency": currency})  # fmt: skip
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


async def _rows(world: World) -> tuple[list[Any], list[Any]]:
    with world.bind(await world.scope_of("HQ")):
        balances = await db.fetch(
            "SELECT branch_id, holding, customer, snapshot_on, balance, currency, created_at"
            " FROM customer_archive_balance_snapshot ORDER BY id"
        )
        aum = await db.fetch(
            "SELECT branch_id, customer, snapshot_on, aum, created_at"
            " FROM customer_archive_aum_snapshot ORDER BY id"
        )
    return [tuple(r) for r in balances], [tuple(r) for r in aum]


async def test_snapshot_job_is_idempotent(
    world: World, kit: Any, bj: httpx.AsyncClient, catalogue: dict[str, int]
) -> None:
    customer_id = (await kit.create(bj, branch_id=world.branch("BJ-HD")))["id"]
    deposit, wealth, loan = await _holdings(bj, customer_id)
    sh = await world.client("demo.sh.manager")
    sh_customer = (await kit.create(sh, branch_id=world.branch("SH")))["id"]
    day = date(2026, 3, 31)

    with world.bind(await world.scope_of("BJ")):
        async with db.transaction():
            await take_daily_snapshots(day.isoformat())
    balances, aum = await _rows(world)
    assert {(r[1], r[4], r[5]) for r in balances} == {
        (deposit, Decimal("100000.00"), "CNY"), (wealth, Decimal("1000.00"), "USD"),
        (loan, Decimal("30000.00"), "CNY"),
    }  # fmt: skip
    # Asset holdings only, USD at the default rate; the SH customer is outside the scope.
    assert [(r[1], r[2], r[3]) for r in aum] == [(customer_id, day, Decimal("107100.00"))]
    (audit_row,) = await kit.audit(day.isoformat(), "create", "customer_archive.aum_snapshot")
    assert json.loads(audit_row["after"]) == {"snapshot_on": "2026-03-31", "holdings": 3,
                                              "customers": 1}  # fmt: skip

    # A re-delivered message: the same rows, nothing audited again.
    with world.bind(await world.scope_of("BJ")):
        async with db.transaction():
            await take_daily_snapshots(day.isoformat())
    assert await _rows(world) == (balances, aum)
    assert len(await kit.audit(day.isoformat(), "create", "customer_archive.aum_snapshot")) == 1

    # Balances move: a later run the same day follows them, the next day adds rows.
    response = await bj.patch(f"{BASE}/customers/{customer_id}/holdings/{deposit}",
                              json={"balance": "150000"})  # fmt: skip
    assert response.status_code == 200
    with world.bind(await world.scope_of("HQ")):
        run = await profile.take_snapshots(day)
        assert (run.holdings, run.customers) == (1, 2)  # the changed deposit; + SH customer
        await profile.take_snapshots(day + timedelta(days=1))
    history = (
        await bj.get(
            f"{BASE}/customers/{customer_id}/aum",
            params={"date_from": "2026-03-01", "date_to": "2026-04-30"},
        )
    ).json()
    assert [(p["snapshot_on"], p["aum"]) for p in history["points"]] == [
        ("2026-03-31", "157100.00"), ("2026-04-01", "157100.00"),
    ]  # fmt: skip
    balances_url = f"{BASE}/holdings/{deposit}/balances"
    points = (await bj.get(balances_url, params={"date_from": "2026-03-01",
                                                 "date_to": "2026-04-30"})).json()  # fmt: skip
    assert [p["balance"] for p in points] == ["150000.00", "150000.00"]
    assert (await sh.get(f"{BASE}/customers/{customer_id}/aum")).status_code == 404
    bad = await bj.get(f"{BASE}/customers/{customer_id}/aum",
                       params={"date_from": "2026-04-30", "date_to": "2026-03-01"})  # fmt: skip
    assert bad.status_code == 422
    one_day = {"date_from": "2026-03-31", "date_to": "2026-03-31"}
    sh_history = (await sh.get(f"{BASE}/customers/{sh_customer}/aum", params=one_day)).json()
    assert [p["aum"] for p in sh_history["points"]] == ["0.00"]


async def test_schedule_enqueues_the_snapshot_job(
    world: World, kit: Any, bj: httpx.AsyncClient, catalogue: dict[str, int], job_worker: Any
) -> None:
    customer_id = (await kit.create(bj))["id"]
    await _holdings(bj, customer_id)
    worker = await job_worker()
    enqueued = await worker.tick()
    assert "customer_archive.daily_snapshots" in enqueued
    await worker.drain()
    balances, aum = await _rows(world)
    assert len(balances) == 3
    assert [(r[1], r[2]) for r in aum] == [(customer_id, profile.business_date())]


async def test_360_has_profile_sections(
    world: World, kit: Any, bj: httpx.AsyncClient, catalogue: dict[str, int]
) -> None:
    customer_id = (await kit.create(bj, education="bachelor"))["id"]
    await _holdings(bj, customer_id)
    await bj.post(f"{BASE}/customers/{customer_id}/ratings",
                  json={"kind": "risk_tolerance", "value": "C2"})  # fmt: skip
    await bj.post(f"{BASE}/customers/{customer_id}/contracts",
                  json={"kind": "deposit", "number": "CK-1"})  # fmt: skip
    with world.bind(await world.scope_of("BJ")):
        await profile.take_snapshots()
    body = (await bj.get(f"{BASE}/customers/{customer_id}/360")).json()
    sections = {s["key"]: s["data"] for s in body["sections"]}
    assert {
        "customer_archive.profile",
        "customer_archive.holdings",
        "customer_archive.background",
        "customer_archive.relations",
        "customer_archive.ratings",
        "customer_archive.contracts",
        "customer_archive.aum_trend",
    } <= set(sections)
    assert sections["customer_archive.background"]["education"] == "bachelor"
    assert "company_size" not in sections["customer_archive.background"]
    assert sections["customer_archive.ratings"]["current"]["risk_tolerance"] == "C2"
    assert [c["number"] for c in sections["customer_archive.contracts"]["contracts"]] == ["CK-1"]
    assert [p["aum"] for p in sections["customer_archive.aum_trend"]["points"]] == ["107100.00"]
    narrow = Scope(actor="user:0", branch_ids=await world.subtree("BJ"),
                   permissions=frozenset({"customer_archive.customer.read"}))  # fmt: skip
    with world.bind(narrow):
        only = await services.core_sections(customer_id, narrow)
    assert only is not None
    keys = [s.key for s in only]
    assert keys[:4] == [
        "customer_archive.profile", "customer_archive.background",
        "customer_archive.relations", "customer_archive.ratings",
    ]  # fmt: skip
    assert "customer_archive.contracts" not in keys
    assert "customer_archive.aum_trend" not in keys


async def test_a_holding_with_history_cannot_be_deleted_only_closed(
    world: World, kit: Any, bj: httpx.AsyncClient, catalogue: dict[str, int]
) -> None:
    customer_id = (await kit.create(bj, branch_id=world.branch("BJ-HD")))["id"]
    deposit, wealth, _loan = await _holdings(bj, customer_id)
    with world.bind(await world.scope_of("BJ")):
        async with db.transaction():
            await take_daily_snapshots(date(2026, 3, 31).isoformat())

    refused = await bj.delete(f"{BASE}/customers/{customer_id}/holdings/{deposit}")
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert problem["type"].endswith("/has_dependents")
    assert problem["errors"] == [
        {
            "field": "/path/holding_id",
            "message": "rows of customer_archive_balance_snapshot refer to this record",
        }
    ]
    assert "status" in problem["detail"]
    closed = await bj.patch(
        f"{BASE}/customers/{customer_id}/holdings/{deposit}", json={"status": "closed"}
    )
    assert closed.status_code == 200, closed.text
    balances, _aum = await _rows(world)
    assert deposit in {r[1] for r in balances}

    fresh = await bj.post(
        f"{BASE}/customers/{customer_id}/holdings",
        json={"product_code": "DEP-1Y", "account_no": "6222000000000000099", "balance": "1.00"},
    )
    assert fresh.status_code == 201, fresh.text
    gone = await bj.delete(f"{BASE}/customers/{customer_id}/holdings/{fresh.json()['id']}")
    assert gone.status_code == 204, gone.text
    assert wealth
