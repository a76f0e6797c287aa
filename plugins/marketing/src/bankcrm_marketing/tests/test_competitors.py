"""Competitors: institutions, their products and rates with history, our rates, the rate
comparison, deals won or lost (from staff and from the ``marketing_competitor_deals``
hook) and the win/loss summary, all within the caller's branches."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from bankcrm_marketing import competitors
from bankcrm_sdk.world import World

API = "/api/v1/marketing"
TODAY = datetime.now(UTC).date()
YEAR_AGO = TODAY - timedelta(days=365)


async def our_products(kit: Any) -> None:
    await kit.owner_fetch(
        "INSERT INTO customer_archive_product (code, name, name_en, category, segment,"
        " balance_type, currency, active) VALUES"
        " ('T-DEP-1Y', '一年定期', 'One-year deposit', 'deposit', 'individual', 'asset', 'CNY',"
        " true), ('T-LN-MORT', '住房贷款', 'Mortgage', 'loan', 'individual', 'credit', 'CNY',"
        " true) ON CONFLICT (code) DO NOTHING"
    )


async def competitor_with_rates(
    client: httpx.AsyncClient, name: str, rates: tuple[tuple[date, str], ...],
    category: str = "deposit",
) -> tuple[dict[str, Any], dict[str, Any]]:  # fmt: skip
    made = await client.post(f"{API}/competitors", json={"name": name, "note": "同一商圈"})
    assert made.status_code == 201, made.text
    competitor = made.json()
    product = await client.post(
        f"{API}/competitors/{competitor['id']}/products",
        json={"name": f"{name}一年定期", "product_category": category, "term_months": 12},
    )
    assert product.status_code == 201, product.text
    for day, rate in rates:
        recorded = await client.post(
            f"{API}/rates",
            json={"competitor_product_id": product.json()["id"], "rate": rate,
                  "effective_from": day.isoformat(), "source": "官网"},
        )  # fmt: skip
        assert recorded.status_code == 201, recorded.text
    return competitor, product.json()


async def test_competitors_products_and_rate_history(world: World, kit: Any) -> None:
    bj = await world.client("demo.bj.manager")
    competitor, product = await competitor_with_rates(
        bj, "招商银行", ((YEAR_AGO, "1.65"), (TODAY, "1.35"))
    )
    assert competitor["branch_id"] == world.branch("BJ")
    history = await bj.get(f"{API}/rates", params={"competitor_product_id": product["id"]})
    assert [(r["effective_from"], r["rate"]) for r in history.json()["items"]] == [
        (TODAY.isoformat(), "1.3500"), (YEAR_AGO.isoformat(), "1.6500")
    ]  # fmt: skip
    day = TODAY.isoformat()
    again = await bj.post(f"{API}/rates", json={"competitor_product_id": product["id"],
                                                "rate": "1.2", "effective_from": day})  # fmt: skip
    assert kit.refused(again, 409)
    assert again.json()["errors"][0]["field"] == "/body/effective_from"
    duplicate = await bj.post(f"{API}/competitors", json={"name": " 招商银行 "})
    assert kit.refused(duplicate, 409)
    renamed = await bj.patch(f"{API}/competitors/{competitor['id']}", json={"active": False})
    assert renamed.status_code == 200
    assert renamed.json()["active"] is False
    trail = await kit.audit(competitor["id"], "marketing.competitor")
    assert [row["action"] for row in trail] == ["create", "update"]

    sh = await world.client("demo.sh.manager")
    assert (await sh.get(f"{API}/competitors/{competitor['id']}")).status_code == 404
    assert (await sh.get(f"{API}/competitor-products/{product['id']}")).status_code == 404
    assert (await sh.get(f"{API}/rates")).json()["items"] == []
    foreign = await sh.post(f"{API}/rates", json={"competitor_product_id": product["id"],
                                                  "rate": "1", "effective_from": day})  # fmt: skip
    assert kit.refused(foreign, 422)
    assert foreign.json()["errors"][0]["field"] == "/body/competitor_product_id"


async def test_bad_rates_are_refused_naming_the_field(world: World, kit: Any) -> None:
    await our_products(kit)
    bj = await world.client("demo.bj.manager")
    cases = (
        ({"rate": "1.5", "effective_from": TODAY.isoformat()}, "/body/product_code"),
        ({"product_code": "T-DEP-1Y", "rate": "101", "effective_from": TODAY.isoformat()},
         "/body/rate"),
        ({"product_code": "T-DEP-1Y", "rate": "1.23456", "effective_from": TODAY.isoformat()},
         "/body/rate"),
        ({"product_code": "NOPE", "rate": "1.5", "effective_from": TODAY.isoformat()},
         "/body/product_code"),
    )  # fmt: skip
    for body, field in cases:
        response = await bj.post(f"{API}/rates", json=body)
        assert kit.refused(response, 422), response.text
        assert response.json()["errors"][0]["field"] == field
    missing = await bj.get(f"{API}/rates/comparison")
    assert missing.status_code == 422


async def test_rate_comparison_at_a_day_and_within_the_branch(world: World, kit: Any) -> None:
    await our_products(kit)
    bj = await world.client("demo.bj.manager")
    for day, rate in ((YEAR_AGO, "1.70"), (TODAY, "1.40")):
        ours = await bj.post(f"{API}/rates", json={"product_code": "T-DEP-1Y", "rate": rate,
                                                   "effective_from": day.isoformat()})  # fmt: skip
        assert ours.status_code == 201, ours.text
    await competitor_with_rates(bj, "招商银行", ((YEAR_AGO, "1.65"), (TODAY, "1.35")))
    await competitor_with_rates(bj, "建设银行", ((YEAR_AGO, "1.80"), (TODAY, "1.50")))
    sh = await world.client("demo.sh.manager")
    await competitor_with_rates(sh, "上海农商行", ((TODAY, "2.00"),))

    now = (await bj.get(f"{API}/rates/comparison", params={"product_category": "deposit"})).json()
    assert now["better"] == "higher"
    assert [(r["ours"], r["competitor_name"], r["rate"]) for r in now["rows"]] == [
        (True, None, "1.4000"), (False, "建设银行", "1.5000"), (False, "招商银行", "1.3500")
    ]  # fmt: skip
    assert (now["our_best"], now["competitor_best"], now["gap"]) == ("1.4000", "1.5000", "-0.1000")
    assert [r["difference"] for r in now["rows"]] == ["0.0000", "0.1000", "-0.0500"]

    month_ago = (TODAY - timedelta(days=30)).isoformat()
    then = (await bj.get(f"{API}/rates/comparison", params={
        "product_category": "deposit", "on": month_ago})).json()  # fmt: skip
    assert [r["rate"] for r in then["rows"]] == ["1.7000", "1.8000", "1.6500"]
    earlier = (YEAR_AGO - timedelta(days=1)).isoformat()
    before_any = (await bj.get(f"{API}/rates/comparison", params={
        "product_category": "deposit", "on": earlier})).json()  # fmt: skip
    assert before_any["rows"] == []
    assert before_any["gap"] is None

    shanghai = (await sh.get(f"{API}/rates/comparison",
                             params={"product_category": "deposit"})).json()  # fmt: skip
    assert [(r["ours"], r["competitor_name"]) for r in shanghai["rows"]] == [(False, "上海农商行")]
    assert shanghai["our_best"] is None

    loans = (await bj.get(f"{API}/rates/comparison", params={"product_category": "loan"})).json()
    assert loans["better"] == "lower"
    assert loans["rows"] == []


async def test_deals_and_the_win_loss_summary(world: World, kit: Any) -> None:
    customer = (await kit.customers("BJ-HD", 1))[0]
    bj = await world.client("demo.bj.manager")
    cmb, _ = await competitor_with_rates(bj, "招商银行", ())
    ccb, _ = await competitor_with_rates(bj, "建设银行", ())
    deals = (
        (cmb, "lost", "500000", "利率低0.1个百分点"),
        (cmb, "lost", "200000", "利率低0.1个百分点"),
        (cmb, "lost", "100000", "审批更快"),
        (cmb, "won", "300000", ""),
        (ccb, "won", "800000", "我行利率更低"),
    )
    for competitor, outcome, amount, reason in deals:
        made = await bj.post(f"{API}/competitor-deals", json={
            "competitor_id": competitor["id"], "outcome": outcome, "amount": amount,
            "reason": reason, "closed_on": TODAY.isoformat(), "product_category": "deposit",
            "customer_id": customer})  # fmt: skip
        assert made.status_code == 201, made.text
    summary = (await bj.get(f"{API}/competitor-deals/summary")).json()
    assert (summary["won"], summary["lost"]) == (2, 3)
    first, second = summary["competitors"]
    assert (first["competitor_name"], first["won"], first["lost"], first["win_rate"]) == (
        "招商银行", 1, 3, 25.0
    )  # fmt: skip
    assert first["lost_amount"] == "800000.00"
    assert first["lost_reasons"] == [{"reason": "利率低0.1个百分点", "count": 2},
                                     {"reason": "审批更快", "count": 1}]  # fmt: skip
    assert (second["competitor_name"], second["win_rate"]) == ("建设银行", 100.0)

    listed = (await bj.get(f"{API}/competitor-deals", params={"outcome": "won"})).json()
    assert len(listed["items"]) == 2
    sh = await world.client("demo.sh.manager")
    assert (await sh.get(f"{API}/competitor-deals/summary")).json()["competitors"] == []
    deal_id = listed["items"][0]["id"]
    assert (await sh.get(f"{API}/competitor-deals/{deal_id}")).status_code == 404
    foreign = await sh.post(f"{API}/competitor-deals", json={
        "competitor_id": cmb["id"], "outcome": "won", "closed_on": TODAY.isoformat()})  # fmt: skip
    assert kit.refused(foreign, 422)
    assert foreign.json()["errors"][0]["field"] == "/body/competitor_id"
    future = await bj.post(f"{API}/competitor-deals", json={
        "competitor_id": cmb["id"], "outcome": "won",
        "closed_on": (TODAY + timedelta(days=9)).isoformat()})  # fmt: skip
    assert kit.refused(future, 422)
    teller = await world.client("demo.teller")
    assert (await teller.get(f"{API}/competitor-deals/summary")).status_code == 200
    assert (await teller.post(f"{API}/competitors", json={"name": "x"})).status_code == 403


async def test_hook_marketing_competitor_deals_are_recorded_once(
    world: World, kit: Any, make_plugin: Any, kernel_with: Any
) -> None:
    bj = await world.client("demo.bj.manager")
    cmb, _ = await competitor_with_rates(bj, "招商银行", ())  # registered at BJ
    hd, sh = world.branch("BJ-HD"), world.branch("SH")
    answer: list[dict[str, Any]] = [
        {"ref": "opportunity:1", "branch_id": hd, "competitor": "招商银行 ", "outcome": "lost",
         "closed_on": TODAY, "amount": Decimal("90000"), "reason": "利率不具竞争力"},
        {"ref": "opportunity:2", "branch_id": hd, "competitor": "平安银行", "outcome": "won",
         "closed_on": TODAY},
        {"ref": "opportunity:3", "branch_id": sh, "competitor": "招商银行", "outcome": "lost",
         "closed_on": TODAY},  # outside the branches asked
        {"ref": "opportunity:4", "branch_id": hd, "competitor": "", "outcome": "lost",
         "closed_on": TODAY},  # no competitor
        {"ref": "opportunity:5", "branch_id": hd, "competitor": "x", "outcome": "maybe",
         "closed_on": TODAY},  # malformed
    ]  # fmt: skip
    asked: list[tuple[frozenset[int], date]] = []

    def deals(branch_ids: frozenset[int], since: date) -> list[dict[str, Any]]:
        asked.append((branch_ids, since))
        return answer

    plugin = make_plugin("crm_sales", requires=["marketing"],
                         hooks={"marketing_competitor_deals": deals})  # fmt: skip
    registry = kernel_with([plugin]).registry
    with world.bind(await world.scope_of("BJ")):
        first = await competitors.sync_deals(registry=registry)
        again = await competitors.sync_deals(registry=registry)
        answer[0]["reason"] = "对方利率更高"
        changed = await competitors.sync_deals(registry=registry)
    assert (first.received, first.recorded, first.skipped) == (5, 2, 3)
    assert (again.recorded, again.skipped) == (0, 3)
    assert changed.recorded == 1
    assert asked[0] == (await world.subtree("BJ"), TODAY - timedelta(days=competitors.SYNC_DAYS))
    rows = await kit.owner_fetch(
        "SELECT competitor, competitor_name, outcome, reason, source, source_ref, branch_id"
        " FROM marketing_competitor_deal ORDER BY source_ref"
    )
    assert [tuple(r) for r in rows] == [
        (cmb["id"], "招商银行", "lost", "对方利率更高", "crm_sales", "opportunity:1", hd),
        (None, "平安银行", "won", "", "crm_sales", "opportunity:2", hd),
    ]  # fmt: skip
    trail = await kit.owner_fetch(
        "SELECT action FROM bankcrm_audit WHERE entity = 'marketing.competitor_deal' ORDER BY id"
    )
    assert [r["action"] for r in trail] == ["create", "create", "update"]
    summary = (await bj.get(f"{API}/competitor-deals/summary")).json()
    assert {(c["competitor_name"], c["won"], c["lost"]) for c in summary["competitors"]} == {
        ("招商银行", 0, 1), ("平安银行", 1, 0)
    }  # fmt: skip


async def test_the_admin_refuses_a_duplicate_competitor_without_a_500(
    world: World, kit: Any
) -> None:
    bj = await world.client("demo.bj.manager")
    await competitor_with_rates(bj, "招商银行", ())
    other, _ = await competitor_with_rates(bj, "建设银行", ())
    assert (await bj.get("/admin/")).status_code == 200
    bj.headers["X-CSRFToken"] = bj.cookies["csrftoken"]
    row = f"/admin/api/tables/marketing_competitor/{other['id']}/"
    renamed = await bj.patch(row, json={"note": "国有大行"})
    assert renamed.status_code == 200, renamed.text
    twice = await bj.patch(row, json={"name": "招商银行"})
    assert 400 <= twice.status_code < 500, twice.text
    names = await kit.owner_fetch("SELECT name, note FROM marketing_competitor ORDER BY id")
    assert [tuple(r) for r in names] == [("招商银行", "同一商圈"), ("建设银行", "国有大行")]


async def test_a_deal_lost_in_sales_reaches_the_competitor_records(
    world: World, kit: Any, kernel: Any, job_worker: Any
) -> None:
    if "sales" not in kernel.registry.order:
        pytest.skip("sales is not installed: nothing reports deals")
    await our_products(kit)
    manager = await world.client("demo.bj.manager")
    cmb, _ = await competitor_with_rates(manager, "招商银行", ())
    customer = (await kit.customers("BJ-HD", 1))[0]
    harness = await job_worker()
    opened = await manager.post("/api/v1/sales/opportunities", json={
        "customer_id": customer, "title": "一年定期存款", "channel": "branch",
        "expected_close": (TODAY + timedelta(days=20)).isoformat(),
        "products": [{"product_code": "T-DEP-1Y", "unit_price": "500000"}]})  # fmt: skip
    assert opened.status_code == 201, opened.text
    lost = await manager.post(
        f"/api/v1/sales/opportunities/{opened.json()['id']}/stage",
        json={"stage": "lost", "lost_reason": "对方利率高0.1个百分点", "competitor": "招商银行"},
    )
    assert lost.status_code == 200, lost.text
    await harness.drain()  # sales.opportunity_lost -> marketing asks sales for the deal
    rows = await kit.owner_fetch(
        "SELECT competitor, outcome, reason, amount, product_category, customer, source"
        " FROM marketing_competitor_deal"
    )
    assert [tuple(r) for r in rows] == [
        (cmb["id"], "lost", "对方利率高0.1个百分点", Decimal("500000.00"), "deposit", customer,
         "sales")
    ]  # fmt: skip
    synced = await manager.post("/api/v1/marketing/competitor-deals/sync")
    assert synced.json()["recorded"] == 0  # the same deal again: nothing new
