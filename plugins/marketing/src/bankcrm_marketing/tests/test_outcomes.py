"""The outcome ledger: products opened are recorded for target and control members alike,
responses and hand-recorded outcomes join them, results show the uplift against the
control group, ROI rolls cost against revenue, and sales reads marketing's channel cost."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bankcrm import db
from bankcrm_marketing import outcomes
from bankcrm_sdk.world import World

PRODUCT = "WM-MKT"


async def product(kit: Any) -> str:
    await kit.owner_fetch(
        "INSERT INTO customer_archive_product (code, name, name_en, category, segment,"
        " balance_type, currency, active) VALUES ($1, '稳健理财', 'Steady wealth', 'wealth',"
        " 'individual', 'asset', 'CNY', true) ON CONFLICT (code) DO NOTHING",
        PRODUCT,
    )
    return PRODUCT


async def launched(world: World, kit: Any, count: int = 40) -> dict[str, Any]:
    manager = await world.client("demo.bj.manager")
    await product(kit)
    await kit.customers("BJ-HD", count)
    created = await kit.create(
        manager, channel="call", control_share=0.5, seed=11, product_code=PRODUCT,
        branch_id=world.branch("BJ-HD"),
    )  # fmt: skip
    url = f"{kit.base}/{created['id']}"
    await manager.post(f"{url}/target")
    assert (await manager.post(f"{url}/launch")).status_code == 200
    cost = {"category": "staff", "amount": "1000.00", "spent_on": date.today().isoformat()}
    assert (await manager.post(f"{url}/costs", json=cost)).status_code == 201
    return created


async def open_holding(world: World, customer_id: int, balance: str, n: int) -> dict[str, Any]:
    rm = await world.client("demo.bj.manager")
    response = await rm.post(
        f"/api/v1/customer_archive/customers/{customer_id}/holdings",
        json={"product_code": PRODUCT, "account_no": f"6222{n:012d}", "balance": balance},
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_products_opened_count_in_both_groups_once(world: World, kit: Any) -> None:
    campaign = await launched(world, kit)
    members = await kit.owner_fetch(
        'SELECT customer, "group" FROM marketing_member WHERE campaign = $1 ORDER BY customer',
        campaign["id"],
    )
    target = [r["customer"] for r in members if r["group"] == "target"]
    control = [r["customer"] for r in members if r["group"] == "control"]
    assert len(target) >= 4
    assert len(control) >= 2
    opened = [(c, "50000.00") for c in target[:4]] + [(c, "20000.00") for c in control[:1]]
    payloads = []
    for n, (customer, balance) in enumerate(opened):
        holding = await open_holding(world, customer, balance, n)
        payloads.append({"customer_id": customer, "holding_id": holding["id"], "change": "created"})
    with world.bind(await world.scope_of("BJ")):
        for payload in payloads:
            async with db.transaction():
                assert await outcomes.holding_changed(payload) == 1
            async with db.transaction():  # a redelivered event records nothing twice
                assert await outcomes.holding_changed(payload) == 0
    manager = await world.client("demo.bj.manager")
    results = (await manager.get(f"{kit.base}/{campaign['id']}/results")).json()
    assert results["target"]["converted"] == 4
    assert results["control"]["converted"] == 1
    assert results["target"]["revenue"] == "200000.00"
    expected = 4 / len(target) - 1 / len(control)
    assert results["uplift"] == pytest.approx(expected, abs=1e-6)
    assert results["uplift_low"] < expected < results["uplift_high"]
    assert results["cost"] == "1000.00"
    assert results["roi"] == pytest.approx((200000 - 1000) / 1000 * 100, abs=0.1)

    ledger = (await manager.get("/api/v1/marketing/outcomes")).json()["items"]
    assert sorted((o["group"], o["kind"]) for o in ledger) == sorted(
        [("target", "product_opened")] * 4 + [("control", "product_opened")]
    )
    roi = (await manager.get("/api/v1/marketing/roi")).json()
    assert [(r["key"], r["cost"], r["revenue"]) for r in roi["by_channel"]] == [
        ("call", "1000.00", "200000.00")
    ]
    assert [r["key"] for r in roi["by_product"]] == [PRODUCT]
    sh = await world.client("demo.sh.manager")
    assert (await sh.get("/api/v1/marketing/outcomes")).json()["items"] == []
    assert kit.refused(await sh.get(f"{kit.base}/{campaign['id']}/results"), 404)


async def test_responses_and_outcomes_by_hand(world: World, kit: Any, job_worker: Any) -> None:
    campaign = await launched(world, kit, count=6)
    harness = await job_worker()
    await harness.drain()
    contacts = await kit.owner_fetch(
        "SELECT id, customer FROM marketing_contact WHERE status = 'sent' ORDER BY id"
    )
    rm = await world.client("demo.bj.manager")
    url = "/api/v1/marketing/contacts/{}/response"
    accepted = await rm.post(url.format(contacts[0]["id"]), json={"response": "accepted"})
    assert accepted.status_code == 200, accepted.text
    declined = {"response": "declined", "note": "利率低于他行"}
    assert (await rm.post(url.format(contacts[1]["id"]), json=declined)).status_code == 200
    manual = await rm.post(
        "/api/v1/marketing/outcomes",
        json={"customer_id": contacts[2]["customer"], "kind": "complaint",
              "campaign_id": campaign["id"], "reason": "营销电话过于频繁"},
    )  # fmt: skip
    assert manual.status_code == 201, manual.text
    assert (await rm.get(manual.headers["location"])).json()["kind"] == "complaint"
    no_reason = await rm.post(
        "/api/v1/marketing/outcomes",
        json={"customer_id": contacts[2]["customer"], "kind": "declined"},
    )
    assert kit.refused(no_reason, 422)
    assert no_reason.json()["errors"][0]["field"] == "/body/reason"
    stranger = (await kit.customers("SH-PD", 1))[0]
    outside = await rm.post(
        "/api/v1/marketing/outcomes", json={"customer_id": stranger, "kind": "shown"}
    )
    assert kit.refused(outside, 422)
    rows = await kit.owner_fetch(
        "SELECT kind, reason, source, product_code FROM marketing_outcome ORDER BY id"
    )
    assert [(r["kind"], r["reason"], r["source"]) for r in rows] == [
        ("accepted", "", "contact"),
        ("declined", "利率低于他行", "contact"),
        ("complaint", "营销电话过于频繁", "staff"),
    ]
    assert {r["product_code"] for r in rows} == {PRODUCT}


async def test_hook_sales_channel_costs_answers_the_campaign_cost(world: World, kit: Any) -> None:
    await launched(world, kit, count=2)
    today = date.today()
    with world.bind(await world.scope_of("BJ")):
        scope_ids = frozenset(await world.subtree("BJ"))
        costs = await outcomes.channel_costs(scope_ids, today, today + timedelta(days=1))
        assert costs == {"campaign": Decimal("1000.00")}
        before = await outcomes.channel_costs(scope_ids, today - timedelta(days=9), today)
        assert before is None  # no spending then: sales reads its own table
    with world.bind(await world.scope_of("SH")):
        shanghai = frozenset(await world.subtree("SH"))
        assert await outcomes.channel_costs(shanghai, today, today + timedelta(days=1)) is None


def test_the_uplift_interval() -> None:
    assert outcomes.uplift_interval(0, 0, 10, 1) is None
    diff, low, high = outcomes.uplift_interval(1000, 150, 1000, 100) or (0, 0, 0)
    assert diff == pytest.approx(0.05)
    assert low == pytest.approx(0.05 - 1.96 * (0.15 * 0.85 / 1000 + 0.1 * 0.9 / 1000) ** 0.5,
                                abs=1e-4)  # fmt: skip
    assert high > diff > low > 0


async def test_the_kpis(world: World, kit: Any, kernel: Any) -> None:
    await launched(world, kit, count=4)
    from bankcrm_marketing import metrics

    with world.bind(await world.scope_of("BJ")):
        assert await metrics.active_campaigns() == 1
        assert await metrics.cost_this_month() == Decimal("1000.00")
        assert await metrics.contacts_30_days() == 0
        assert await metrics.response_rate_30_days() == 0.0
    with world.bind(await world.scope_of("SH")):
        assert await metrics.active_campaigns() == 0
    names = [m.name for _p, specs in kernel.registry.call_each("register_metrics")
             for m in specs or () if m.name.startswith("marketing.")]  # fmt: skip
    assert names == ["marketing.active_campaigns", "marketing.contacts_30d",
                     "marketing.response_rate_30d", "marketing.cost_month"]  # fmt: skip


async def test_hook_marketing_recommendations_are_shown_and_recorded(
    world: World, kit: Any, make_plugin: Any, kernel_with: Any
) -> None:
    from bankcrm_marketing.messages import Recommendation

    customer = (await kit.customers("BJ-HD", 1))[0]
    advice = [
        Recommendation(
            "WM-STEADY", 0.81, "理财即将到期", "Wealth product maturing", "mining.nbo@2"
        ),
        Recommendation("CARD-PLAT", 0.44, "消费活跃", "Active card spending", "mining.nbo@2"),
    ]

    def recommend(customer_ids: list[int], limit: int) -> dict[int, list[Recommendation]]:
        return {c: advice[:limit] for c in customer_ids}

    plugin = make_plugin("nbo", requires=["marketing"],
                         hooks={"marketing_recommendations": recommend})  # fmt: skip
    registry = kernel_with([plugin]).registry
    with world.bind(await world.scope_of("BJ")):
        first = await outcomes.recommendations_for(customer, 3, registry)
        again = await outcomes.recommendations_for(customer, 1, registry)
    assert [(r.product_code, r.reason_zh) for r in first] == [
        ("WM-STEADY", "理财即将到期"), ("CARD-PLAT", "消费活跃")
    ]  # fmt: skip
    assert [r.product_code for r in again] == ["WM-STEADY"]
    shown = await kit.owner_fetch("SELECT product_code, kind, reason FROM marketing_outcome")
    assert sorted((r["product_code"], r["kind"]) for r in shown) == [
        ("CARD-PLAT", "shown"),
        ("WM-STEADY", "shown"),
    ]  # fmt: skip  (once per product and day)
    # Without a recommender (mining not installed): nothing to show, nothing recorded.
    manager = await world.client("demo.bj.manager")
    answer = await manager.get(f"/api/v1/marketing/recommendations/{customer}")
    assert answer.status_code == 200, answer.text
    assert answer.json() == []
    sh = await world.client("demo.sh.manager")
    assert kit.refused(await sh.get(f"/api/v1/marketing/recommendations/{customer}"), 404)
