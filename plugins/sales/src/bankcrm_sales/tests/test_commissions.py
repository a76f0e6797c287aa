"""Plans with attainment, commission rules (tiers, caps), splits, the monthly run as a
job, maker-checker approval, payment and the statement."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from bankcrm_sdk.world import World

BASE = "/api/v1/sales"


def fields(response: Any) -> set[str]:
    return {e["field"] for e in response.json().get("errors", [])}


async def _won(world: World, kit: Any, manager: Any, price: str) -> int:
    code = await kit.product_code()
    customer = await kit.customer(manager)
    made = await manager.post(f"{BASE}/opportunities", json={
        "customer_id": customer, "title": "大额存单", "branch_id": world.branch("BJ-HD"),
        "owner_id": world.users["demo.bj.rm"],
        "products": [{"product_code": code, "unit_price": price}]})  # fmt: skip
    assert made.status_code == 201, made.text
    won = await manager.post(f"{BASE}/opportunities/{made.json()['id']}/stage",
                             json={"stage": "won"})  # fmt: skip
    assert won.status_code == 200, won.text
    return int(made.json()["id"])


async def test_rules_refuse_overlapping_tiers_and_bad_splits(world: World, kit: Any) -> None:
    manager = await world.client("demo.bj.manager")
    rule = {"branch_id": world.branch("BJ-HD"), "name": "提成", "valid_from": "2026-01-01"}
    overlapping = await manager.post(f"{BASE}/commissions/rules", json={**rule, "tiers": [
        {"from_amount": "0", "to_amount": "200000", "rate": "1"},
        {"from_amount": "100000", "rate": "2"}]})  # fmt: skip
    assert overlapping.status_code == 422
    assert fields(overlapping) == {"/body/tiers/1/from_amount"}
    both = await manager.post(f"{BASE}/commissions/rules", json={**rule, "rate": "1", "tiers": [
        {"from_amount": "0", "rate": "2"}]})  # fmt: skip
    assert "/body/rate" in fields(both)
    opportunity = await _won(world, kit, manager, "100000")
    url = f"{BASE}/commissions/splits/{opportunity}"
    rm, boss = world.users["demo.bj.rm"], world.users["demo.bj.manager"]
    bad = await manager.put(url, json=[{"user_id": rm, "percent": "60"},
                                       {"user_id": boss, "percent": "30"}])  # fmt: skip
    assert bad.status_code == 422
    assert fields(bad) == {"/body"}
    assert "100" in bad.json()["errors"][0]["message"]
    assert await kit.owner_fetch("SELECT id FROM sales_commission_split") == []


async def test_a_run_is_computed_approved_by_another_and_paid(
    world: World, kit: Any, job_worker: Any
) -> None:
    manager = await world.client("demo.bj.manager")
    rm, boss = world.users["demo.bj.rm"], world.users["demo.bj.manager"]
    made = await manager.post(f"{BASE}/commissions/rules", json={
        "branch_id": world.branch("BJ-HD"), "name": "阶梯提成", "valid_from": "2026-01-01",
        "cap": "9000", "tiers": [{"from_amount": "0", "to_amount": "1000000", "rate": "0.5"},
                                 {"from_amount": "1000000", "rate": "1"}]})  # fmt: skip
    assert made.status_code == 201, made.text
    first = await _won(world, kit, manager, "1500000")  # 5,000 + 5,000 = 10,000
    split = await manager.put(f"{BASE}/commissions/splits/{first}", json=[
        {"user_id": rm, "percent": "70"}, {"user_id": boss, "percent": "30"}])  # fmt: skip
    assert split.status_code == 200, split.text
    harness = await job_worker()
    month = datetime.now(UTC).date().isoformat()
    for _ in range(2):  # computed twice: the same draft
        queued = await manager.post(
            f"{BASE}/commissions/runs", json={"branch_id": world.branch("BJ-HD"), "month": month}
        )
        assert queued.status_code == 202, queued.text
        await harness.drain()
    lines = {r["user_id"]: r for r in await kit.owner_fetch(
        "SELECT user_id, amount, note FROM sales_commission_line")}  # fmt: skip
    assert lines[rm]["amount"] == Decimal("7000.00")
    assert lines[boss]["amount"] == Decimal("3000.00")
    [run] = (await manager.get(f"{BASE}/commissions/runs")).json()
    assert (run["status"], Decimal(run["total"])) == ("draft", Decimal("10000.00"))
    # The maker cannot approve their own run.
    own = await manager.post(f"{BASE}/commissions/runs/{run['id']}/approve")
    assert own.status_code == 409
    assert own.json()["type"].endswith("/maker_checker")
    early = await manager.post(f"{BASE}/commissions/runs/{run['id']}/paid")
    assert early.status_code == 422
    checker = await world.client("demo.admin")
    approved = await checker.post(f"{BASE}/commissions/runs/{run['id']}/approve")
    assert approved.status_code == 200, approved.text
    paid = await checker.post(f"{BASE}/commissions/runs/{run['id']}/paid")
    assert paid.json()["status"] == "paid"
    again = await manager.post(
        f"{BASE}/commissions/runs", json={"branch_id": world.branch("BJ-HD"), "month": month}
    )
    assert again.status_code == 409
    assert "/body/month" in fields(again)
    assert len(await kit.owner_fetch("SELECT id FROM sales_commission_line")) == 2  # unchanged
    # Each sees their own statement; the manager sees both.
    answer = await (await world.client("demo.bj.rm")).get(f"{BASE}/commissions/statement")
    assert answer.status_code == 200, answer.text
    mine = answer.json()
    assert [(line["user"], line["amount"]) for line in mine] == [(rm, "7000.00")]
    both = (await manager.get(f"{BASE}/commissions/statement")).json()
    assert {line["user"] for line in both} == {rm, boss}


async def test_plans_and_attainment(world: World, kit: Any) -> None:
    manager = await world.client("demo.bj.manager")
    today = datetime.now(UTC).date()
    start = today.replace(day=1).isoformat()
    bad = await manager.post(f"{BASE}/plans", json={
        "branch_id": world.branch("BJ"), "period": "quarter",
        "period_start": (today.replace(day=1) + timedelta(days=40)).replace(day=2).isoformat(),
        "target_amount": "1000000"})  # fmt: skip
    assert bad.status_code == 422
    assert fields(bad) == {"/body/period_start"}
    plan = await manager.post(f"{BASE}/plans", json={
        "branch_id": world.branch("BJ"), "period": "month", "period_start": start,
        "target_amount": "1000000", "target_count": 4})  # fmt: skip
    assert plan.status_code == 201, plan.text
    duplicate = await manager.post(f"{BASE}/plans", json={
        "branch_id": world.branch("BJ"), "period": "month", "period_start": start,
        "target_amount": "2000000"})  # fmt: skip
    assert duplicate.status_code == 409
    await _won(world, kit, manager, "250000")
    got = (await manager.get(f"{BASE}/plans/{plan.json()['id']}/attainment")).json()
    assert (Decimal(got["won_amount"]), got["won_count"]) == (Decimal("250000.00"), 1)
    assert got["amount_attainment"] == 25.0
    assert got["count_attainment"] == 25.0
    assert 0 <= got["elapsed"] <= 100
