"""Contracts (销售合同) from won opportunities, linked to the archive's contracts, and the
commission clawback when a contract ends early."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from bankcrm_sdk.world import World

BASE = "/api/v1/sales"


def fields(response: Any) -> set[str]:
    return {e["field"] for e in response.json().get("errors", [])}


async def _deal(
    world: World, kit: Any, manager: Any, price: str, *, win: bool = True, customer: int = 0
) -> int:
    code = await kit.product_code("DEP-3Y", "deposit")
    customer = customer or await kit.customer(manager)
    made = await manager.post(f"{BASE}/opportunities", json={
        "customer_id": customer, "title": "三年期大额存单", "branch_id": world.branch("BJ-HD"),
        "owner_id": world.users["demo.bj.rm"],
        "products": [{"product_code": code, "unit_price": price, "quantity": 2}]})  # fmt: skip
    assert made.status_code == 201, made.text
    if win:
        won = await manager.post(
            f"{BASE}/opportunities/{made.json()['id']}/stage", json={"stage": "won"}
        )
        assert won.status_code == 200, won.text
    return int(made.json()["id"])


def _today() -> str:
    return datetime.now(UTC).date().isoformat()


async def test_a_won_deal_is_signed_once_as_a_contract_in_the_archive(
    world: World, kit: Any
) -> None:
    manager = await world.client("demo.bj.manager")
    rm = await world.client("demo.bj.rm")
    deal = await _deal(world, kit, manager, "500000")
    signed = await manager.post(
        f"{BASE}/opportunities/{deal}/contract", json={"number": "HT-2026-001",
                                                       "signed_on": _today()},
    )  # fmt: skip
    assert signed.status_code == 201, signed.text
    contract = signed.json()
    assert signed.headers["location"] == f"{BASE}/contracts/{contract['id']}"
    assert (contract["contract_kind"], contract["amount"], contract["status"]) == (
        "deposit", "1000000.00", "active")  # fmt: skip
    [line] = contract["lines"]
    assert (line["product_code"], line["quantity"], line["amount"]) == ("DEP-3Y", 2, "1000000.00")
    archived = await manager.get(
        f"/api/v1/customer_archive/contracts/{contract['archive_contract']}"
    )
    assert archived.status_code == 200, archived.text
    assert (archived.json()["number"], archived.json()["status"]) == ("HT-2026-001", "active")
    assert [a["action"] for a in await kit.audit("sales.contract", contract["id"])] == ["create"]
    again = await manager.post(
        f"{BASE}/opportunities/{deal}/contract",
        json={"number": "HT-2026-002", "signed_on": _today()},
    )
    assert again.status_code == 409
    assert again.json()["type"].endswith("/contract_exists")
    # Nothing half-written: neither the archive nor sales holds a second contract.
    assert len(await kit.owner_fetch("SELECT id FROM customer_archive_contract")) == 1
    # The deal's owner sees the contract of their deal.
    listed = (await rm.get(f"{BASE}/contracts")).json()["items"]
    assert [c["id"] for c in listed] == [contract["id"]]
    # Another branch's manager sees nothing of it.
    other = await world.client("demo.sh.manager")
    assert (await other.get(f"{BASE}/contracts/{contract['id']}")).status_code == 404


async def test_bad_signings_are_refused_naming_the_field_and_write_nothing(
    world: World, kit: Any
) -> None:
    manager = await world.client("demo.bj.manager")
    open_deal = await _deal(world, kit, manager, "1000", win=False)
    refused = await manager.post(
        f"{BASE}/opportunities/{open_deal}/contract",
        json={"number": "HT-1", "signed_on": _today()},
    )
    assert refused.status_code == 409
    assert fields(refused) == {"/path/opportunity_id"}
    future = (datetime.now(UTC).date() + timedelta(days=3)).isoformat()
    customer = int((await kit.owner_fetch("SELECT customer FROM sales_opportunity"))[0][0])
    won = await _deal(world, kit, manager, "1000", customer=customer)
    bad = await manager.post(f"{BASE}/opportunities/{won}/contract", json={
        "number": "HT-2", "signed_on": future, "end_on": "2020-01-01"})  # fmt: skip
    assert bad.status_code == 422
    assert fields(bad) == {"/body/signed_on", "/body/end_on"}
    malformed = await manager.post(
        f"{BASE}/opportunities/{won}/contract", json={"number": "合同 1", "signed_on": _today()}
    )
    assert malformed.status_code == 422
    assert fields(malformed) == {"/body/number"}
    assert await kit.owner_fetch("SELECT id FROM customer_archive_contract") == []
    assert await kit.owner_fetch("SELECT id FROM sales_contract") == []


async def test_an_early_termination_claws_the_commission_back_once(
    world: World, kit: Any, job_worker: Any
) -> None:
    manager = await world.client("demo.bj.manager")
    rm = world.users["demo.bj.rm"]
    rule = await manager.post(f"{BASE}/commissions/rules", json={
        "branch_id": world.branch("BJ-HD"), "name": "存款提成", "valid_from": "2026-01-01",
        "rate": "1", "clawback_days": 90})  # fmt: skip
    assert rule.status_code == 201, rule.text
    assert rule.json()["clawback_days"] == 90
    deal = await _deal(world, kit, manager, "100000")  # 200,000 -> 2,000 at 1 %
    signed = await manager.post(f"{BASE}/opportunities/{deal}/contract",
                                json={"number": "HT-9", "signed_on": _today()})  # fmt: skip
    assert signed.status_code == 201, signed.text
    harness = await job_worker()
    branch = world.branch("BJ-HD")
    this_month = datetime.now(UTC).date().replace(day=1)
    next_month = (this_month + timedelta(days=32)).replace(day=1)

    async def compute(month: datetime | Any) -> dict[str, Any]:
        queued = await manager.post(
            f"{BASE}/commissions/runs", json={"branch_id": branch, "month": month.isoformat()}
        )
        assert queued.status_code == 202, queued.text
        await harness.drain()
        runs = (await manager.get(f"{BASE}/commissions/runs")).json()
        run: dict[str, Any] = next(r for r in runs if r["month"] == month.isoformat())
        return run

    first = await compute(this_month)
    assert Decimal(first["total"]) == Decimal("2000.00")
    checker = await world.client("demo.admin")
    approved = await checker.post(f"{BASE}/commissions/runs/{first['id']}/approve")
    assert approved.status_code == 200, approved.text
    ended = await manager.post(
        f"{BASE}/contracts/{signed.json()['id']}/terminate",
        json={"terminated_on": _today(), "reason": "客户提前支取"},
    )
    assert ended.status_code == 200, ended.text
    archived = await manager.get(
        f"/api/v1/customer_archive/contracts/{signed.json()['archive_contract']}"
    )
    assert archived.json()["status"] == "terminated"
    twice = await manager.post(
        f"{BASE}/contracts/{signed.json()['id']}/terminate",
        json={"terminated_on": _today(), "reason": "again"},
    )
    assert twice.status_code == 409
    for _ in range(2):  # recomputed: the same single clawback
        later = await compute(next_month)
        assert Decimal(later["total"]) == Decimal("-2000.00")
    lines = await kit.owner_fetch(
        "SELECT user_id, amount, note FROM sales_commission_line WHERE run = $1", later["id"]
    )
    assert [(r["user_id"], r["amount"]) for r in lines] == [(rm, Decimal("-2000.00"))]
    assert lines[0]["note"].startswith("clawback: contract HT-9")
    statement = (await (await world.client("demo.bj.rm")).get(
        f"{BASE}/commissions/statement")).json()  # fmt: skip
    assert sorted(Decimal(line["amount"]) for line in statement) == [
        Decimal("-2000.00"), Decimal("2000.00")]  # fmt: skip


async def test_a_deal_ended_early_before_its_run_earns_nothing(
    world: World, kit: Any, job_worker: Any
) -> None:
    manager = await world.client("demo.bj.manager")
    made = await manager.post(f"{BASE}/commissions/rules", json={
        "branch_id": world.branch("BJ-HD"), "name": "存款提成", "valid_from": "2026-01-01",
        "rate": "1", "clawback_days": 30})  # fmt: skip
    assert made.status_code == 201, made.text
    deal = await _deal(world, kit, manager, "50000")
    signed = await manager.post(f"{BASE}/opportunities/{deal}/contract",
                                json={"number": "HT-10", "signed_on": _today()})  # fmt: skip
    ended = await manager.post(f"{BASE}/contracts/{signed.json()['id']}/terminate",
                               json={"terminated_on": _today(), "reason": "撤销"})  # fmt: skip
    assert ended.status_code == 200, ended.text
    harness = await job_worker()
    queued = await manager.post(f"{BASE}/commissions/runs", json={
        "branch_id": world.branch("BJ-HD"), "month": _today()})  # fmt: skip
    assert queued.status_code == 202
    await harness.drain()
    [line] = await kit.owner_fetch("SELECT amount, note FROM sales_commission_line")
    assert line["amount"] == Decimal("0.00")
    assert "terminated early" in line["note"]
