"""Analytics: funnel with conversion and time in stage, win/loss, channels with ROI from
the cost table or marketing's hook, the weighted forecast, the KPIs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from bankcrm_sales import analytics
from bankcrm_sdk.world import World

BASE = "/api/v1/sales"


async def _won_and_lost(world: World, kit: Any) -> Any:
    manager = await world.client("demo.bj.manager")
    code = await kit.product_code()
    close = (datetime.now(UTC) + timedelta(days=20)).date().isoformat()
    customer = await kit.customer(manager)
    made = []
    for channel, price in (("web", "400000"), ("referral", "90000"), ("referral", "10000")):
        response = await manager.post(f"{BASE}/opportunities", json={
            "customer_id": customer, "title": f"{channel} 商机", "channel": channel,
            "expected_close": close,
            "products": [{"product_code": code, "unit_price": price}]})  # fmt: skip
        assert response.status_code == 201, response.text
        made.append(response.json()["id"])
    won, lost, _open = made
    for stage in ("proposal", "won"):
        moved = await manager.post(f"{BASE}/opportunities/{won}/stage", json={"stage": stage})
        assert moved.status_code == 200, moved.text
    gone = await manager.post(f"{BASE}/opportunities/{lost}/stage",
                              json={"stage": "lost", "lost_reason": "利率不具竞争力",
                                    "competitor": "招商银行"})  # fmt: skip
    assert gone.status_code == 200, gone.text
    return manager


async def test_funnel_win_loss_forecast(world: World, kit: Any) -> None:
    manager = await _won_and_lost(world, kit)
    funnel = (await manager.get(f"{BASE}/analytics/funnel")).json()
    stages = {s["stage"]: s for s in funnel["stages"]}
    assert stages["discovery"]["entered"] == 3
    assert stages["discovery"]["advanced"] == 1  # one went on; one was lost, one is open
    assert stages["discovery"]["conversion"] == 33.3
    assert stages["proposal"]["entered"] == 1
    assert stages["proposal"]["conversion"] == 100.0
    assert stages["discovery"]["avg_days_in_stage"] >= 0
    assert (funnel["won"], funnel["lost"], funnel["win_rate"]) == (1, 1, 50.0)
    rows = (await manager.get(f"{BASE}/analytics/win-loss")).json()
    assert {(r["status"], r["reason"], r["competitor"], r["count"]) for r in rows} == {
        ("won", "", "", 1), ("lost", "利率不具竞争力", "招商银行", 1)
    }  # fmt: skip
    forecast = (await manager.get(f"{BASE}/analytics/forecast")).json()
    assert sum(Decimal(r["weighted"]) for r in forecast) == Decimal("1000.00")  # 10 % of 10,000
    bad = await manager.get(f"{BASE}/analytics/funnel", params={"start": "2026-05-01",
                                                               "end": "2026-04-01"})  # fmt: skip
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "/query/start"
    # A relationship manager's figures are their own: none of the manager's deals.
    rm = await world.client("demo.bj.rm")
    assert (await rm.get(f"{BASE}/analytics/funnel")).json()["won"] == 0


async def test_channel_roi_from_the_cost_table(world: World, kit: Any) -> None:
    manager = await _won_and_lost(world, kit)
    month = datetime.now(UTC).date().isoformat()
    for cost, expected in (("-1", 422), ("100000", 200)):
        body = {"branch_id": world.branch("BJ"), "channel": "web", "month": month, "cost": cost}
        response = await manager.put(f"{BASE}/channel-costs", json=body)
        assert response.status_code == expected, response.text
    rows = {r["channel"]: r for r in (await manager.get(f"{BASE}/analytics/channels")).json()}
    assert rows["web"]["won"] == 1
    assert rows["web"]["conversion"] == 100.0
    assert rows["web"]["cost_source"] == "table"
    assert rows["web"]["roi"] == 300.0  # (400,000 - 100,000) / 100,000
    assert rows["referral"]["opportunities"] == 2
    assert rows["referral"]["conversion"] == 0.0
    assert rows["referral"]["roi"] is None  # no cost known
    found = {k["name"]: k for k in (await manager.get("/api/v1/kpis")).json()}
    assert found["sales.channel_roi"]["value"] == 300.0


async def test_hook_sales_channel_costs_from_marketing(
    world: World, kit: Any, make_plugin: Any, kernel_with: Any
) -> None:
    await _won_and_lost(world, kit)
    plugin = make_plugin(
        "costs", requires=["sales"],
        hooks={"sales_channel_costs": lambda branch_ids, start, end: {"web": Decimal(200000)}},
    )  # fmt: skip
    registry = kernel_with([plugin]).registry
    with world.bind(await world.scope_of("BJ")):
        rows = {r.channel: r for r in await analytics.channels(registry=registry)}
    assert rows["web"].cost_source == "marketing"
    assert rows["web"].roi == 100.0


async def test_competitor_deals_answer_marketing_with_the_lost_opportunity(
    world: World, kit: Any
) -> None:
    await _won_and_lost(world, kit)
    today = datetime.now(UTC).date()
    with world.bind(await world.scope_of("BJ")):
        deals = await analytics.competitor_deals(
            frozenset(await world.subtree("BJ")), today - timedelta(days=1)
        )
        later = await analytics.competitor_deals(
            frozenset(await world.subtree("BJ")), today + timedelta(days=2)
        )
    assert later == []
    assert len(deals) == 1  # the won deal named no competitor
    deal = deals[0]
    assert deal["ref"].startswith("opportunity:")
    assert (deal["competitor"], deal["outcome"], deal["reason"]) == (
        "招商银行", "lost", "利率不具竞争力"
    )  # fmt: skip
    assert deal["amount"] == Decimal("90000.00")
    with world.bind(await world.scope_of("SH")):
        assert await analytics.competitor_deals(frozenset(await world.subtree("SH")), today) == []
