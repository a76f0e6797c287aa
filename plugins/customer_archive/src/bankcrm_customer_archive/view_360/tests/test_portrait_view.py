"""The customer portrait: contents, derived traits, masking, audit, scope."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import httpx

from bankcrm import db
from bankcrm.context import Scope
from bankcrm_customer_archive.view_360 import portrait
from bankcrm_sdk.world import World

BASE = "/api/v1/customer_archive"


async def holding(client: httpx.AsyncClient, customer_id: int, code: str, account: str,
                  balance: str) -> None:  # fmt: skip
    response = await client.post(
        f"{BASE}/customers/{customer_id}/holdings",
        json={"product_code": code, "account_no": account, "balance": balance},
    )
    assert response.status_code == 201, response.text


async def test_portrait_contents_and_traits(
    world: World, kit: Any, bj: httpx.AsyncClient, catalogue: dict[str, int]
) -> None:
    hd = world.branch("BJ-HD")
    customer = await kit.create(
        bj, branch_id=hd, id_number=kit.resident_id(born="19800101"), phone="13812345678"
    )
    customer_id = customer["id"]
    await holding(bj, customer_id, "DEP-1Y", "6222000000000300001", "600000")
    await holding(bj, customer_id, "WM-30D", "6222000000000300002", "200000")
    await holding(bj, customer_id, "LN-CONS", "6222000000000300003", "30000")
    vip = (await bj.post(f"{BASE}/tags", json={"name": "VIP", "branch_id": hd})).json()
    assert (await bj.post(f"{BASE}/customers/{customer_id}/tags",
                          json={"tag_id": vip["id"]})).status_code == 200  # fmt: skip
    today = date.today()
    with world.bind(await world.scope_of("BJ")):
        async with db.transaction():
            # Rising: 500,000 a month ago and before, 800,000 in the last 30 days.
            await db.execute_many(
                "INSERT INTO customer_archive_aum_snapshot (branch_id, customer, snapshot_on,"
                " aum, created_at) VALUES ($1, $2, $3, $4, now())",
                [(hd, customer_id, today - timedelta(days=d), 800_000 if d < 30 else 500_000)
                 for d in range(1, 80)],
            )  # fmt: skip
            await db.fetch(
                "INSERT INTO customer_archive_rating (branch_id, customer, kind, value, source,"
                " rated_at, note) VALUES ($1, $2, 'risk_tolerance', 'C4', 'manual', now(), '')",
                hd, customer_id,
            )  # fmt: skip
            await db.fetch(
                "UPDATE customer_archive_customer SET risk_tolerance = 'C4',"
                " value_tier = 'wealth' WHERE id = $1",
                customer_id,
            )

    response = await bj.get(f"{BASE}/customers/{customer_id}/portrait")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["customer_id"] == customer_id
    assert body["branch_id"] == hd
    assert body["value_tier"] == "wealth"
    assert body["risk_tolerance"] == "C4"
    assert Decimal(body["aum"]) == Decimal("800000.00")
    assert body["aum_direction"] == "rising"
    assert [p["month"] for p in body["aum_trend"]] == sorted(p["month"] for p in body["aum_trend"])
    assert Decimal(body["aum_trend"][-1]["average_aum"]) == Decimal("800000.00")
    mix = {m["category"]: m for m in body["product_mix"]}
    assert set(mix) == {"deposit", "wealth", "loan"}
    assert Decimal(mix["deposit"]["balance_cny"]) == Decimal("600000.00")
    assert Decimal(mix["deposit"]["share"]) == Decimal("0.75")
    assert mix["loan"]["share"] is None
    assert body["products_held"] == 3
    assert [(t["name"], t["kind"], t["source"]) for t in body["tags"]] == [
        ("VIP", "manual", "manual")
    ]
    assert [(r["kind"], r["value"], r["source"]) for r in body["ratings"]] == [
        ("risk_tolerance", "C4", "manual")
    ]
    assert body["age"] == today.year - 1980 - ((today.month, today.day) < (1, 1))
    assert body["tenure_days"] == 0
    assert body["days_since_activity"] == 0
    assert body["contact_persons"] == 0
    assert body["contact_channels"] == 0
    traits = {t["code"] for t in body["traits"]}
    assert traits == {
        "high_net_worth", "multi_product", "borrower", "new_customer", "aum_rising",
        "aggressive_investor",
    }  # fmt: skip
    assert all(t["label"] and t["reason"] for t in body["traits"])

    # Masked: no clear phone, ID number or birth date anywhere in the answer.
    text = response.text
    assert body["phone"] == "138****5678"
    assert "13812345678" not in text
    assert kit.resident_id(born="19800101") not in text
    assert "1980-01-01" not in text
    assert "birth_date" not in body
    assert "*" in body["id_number"]

    # The view is audited as such; another branch cannot see the portrait.
    views = await kit.audit(customer_id, "view")
    assert json.loads(views[-1]["after"]) == {"screen": "portrait"}
    sh = await world.client("demo.sh.manager")
    assert (await sh.get(f"{BASE}/customers/{customer_id}/portrait")).status_code == 404
    assert (await bj.get(f"{BASE}/customers/999999/portrait")).status_code == 404


async def test_portrait_in_the_360_view_and_without_holding_rights(
    world: World, kit: Any, bj: httpx.AsyncClient, catalogue: dict[str, int]
) -> None:
    hd = world.branch("BJ-HD")
    customer_id = (await kit.create(bj, branch_id=hd, status="dormant"))["id"]
    await holding(bj, customer_id, "DEP-1Y", "6222000000000300011", "1000")
    view = await bj.get(f"{BASE}/customers/{customer_id}/360")
    assert view.status_code == 200, view.text
    sections = {s["key"]: s for s in view.json()["sections"]}
    assert portrait.PORTRAIT_SECTION in sections
    data = sections[portrait.PORTRAIT_SECTION]["data"]["portrait"]
    assert {t["code"] for t in data["traits"]} == {"dormant", "new_customer"}
    assert data["aum_direction"] is None
    assert data["aum_trend"] == []
    assert len(await kit.audit(customer_id, "view")) == 1

    # Without holding.read: no balances, no traits derived from them.
    narrow = Scope(actor="user:0", branch_ids=await world.subtree("BJ"),
                   permissions=frozenset({"customer_archive.customer.read"}))  # fmt: skip
    with world.bind(narrow):
        section = await portrait.portrait_section(customer_id, narrow)
    assert section is not None
    reduced = section.data["portrait"]
    assert reduced.aum is None
    assert reduced.product_mix == []
    assert reduced.products_held is None
    assert {t.code for t in reduced.traits} == {"dormant", "new_customer"}


async def test_long_standing_and_inactive(
    world: World, kit: Any, bj: httpx.AsyncClient, catalogue: dict[str, int]
) -> None:
    hd = world.branch("BJ-HD")
    customer_id = (await kit.create(bj, branch_id=hd))["id"]
    await holding(bj, customer_id, "DEP-1Y", "6222000000000300021", "1000")
    owner = await asyncpg.connect(world.kernel.owner_url)
    try:
        await owner.execute(
            "UPDATE customer_archive_customer SET created_at = $2, last_activity_at = $3"
            " WHERE id = $1", customer_id, datetime(2015, 3, 1).astimezone(),
            datetime.now().astimezone() - timedelta(days=400),
        )  # fmt: skip
        await owner.execute(
            "UPDATE customer_archive_holding SET opened_on = $2 WHERE customer = $1",
            customer_id, date(2014, 6, 1),
        )  # fmt: skip
    finally:
        await owner.close()
    body = (await bj.get(f"{BASE}/customers/{customer_id}/portrait")).json()
    assert body["customer_since"] == "2014-06-01"
    assert body["days_since_activity"] == 400
    assert {t["code"] for t in body["traits"]} == {"long_standing", "dormant"}
