"""Product recommendation: item-to-item collaborative filtering over holdings, its
reasons, the popularity fallback, the spec check, and marketing's recommendations."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from bankcrm_customer_archive import validation
from bankcrm_mining import recommend
from bankcrm_sdk.world import World


def holdings(rows: list[tuple[int, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["customer", "product"])


def test_customers_who_hold_a_also_hold_b() -> None:
    rows = [(c, "DEP") for c in range(20)] + [(c, "LOAN") for c in range(12)]
    rows += [(c, "CARD") for c in range(14, 20)] + [(c, "FUND") for c in range(30, 36)]
    spec = recommend.fit(holdings(rows), {"DEP": "活期存款", "LOAN": "房贷"})
    assert spec["products"]["DEP"] == {"name": "活期存款", "share": round(20 / 26, 4)}
    assert dict(map(tuple, spec["neighbours"]["DEP"])) == {"LOAN": 0.6, "CARD": 0.3}
    assert spec["neighbours"]["FUND"] == []  # held with nothing else

    found = recommend.recommend(spec, {"DEP"}, 3, "mining.nbo@1")
    assert [r.product_code for r in found] == ["LOAN", "CARD", "FUND"]
    assert found[0].score == 0.6
    assert found[0].reason_zh == "持有「活期存款」的客户中 60% 也持有「房贷」"
    assert "most held" in found[2].reason_en  # nothing links FUND: filled by popularity
    assert all(r.model == "mining.nbo@1" for r in found)
    # Two products pointing at a third combine as a noisy-or, and held ones never come back.
    both = recommend.recommend(spec, {"LOAN", "CARD"}, 1, "m")
    assert [r.product_code for r in both] == ["DEP"]
    assert both[0].score == pytest.approx(1.0, abs=1e-4)
    assert recommend.most_popular(spec, {"DEP"}, 2) == ["LOAN", "CARD"]


@pytest.mark.parametrize(
    ("spec", "wrong"),
    [
        ({"products": {}}, "products"),
        ({"products": {"A": {"share": "x"}}, "neighbours": {}}, "products/A/share"),
        ({"products": {"A": {"share": 1}}, "neighbours": {"A": [["B", 0.5]]}}, "neighbours/A/0"),
        ({"products": {"A": {"share": 1}}, "neighbours": {"A": [["A", 2]]}}, "neighbours/A/0"),
    ],
)
def test_a_spec_that_cannot_recommend_is_named(spec: dict[str, Any], wrong: str) -> None:
    assert recommend.check_spec(spec) == wrong


async def test_marketing_shows_the_approved_model_s_recommendations(world: World, kit: Any) -> None:
    rm = await world.client("demo.sh.rm")
    customers = []
    for serial in range(12):
        customer = await kit.customer(rm, serial + 1, f"1380000{serial:04d}", f"客户{serial}")
        await kit.holding(rm, customer, f"62220000000{serial:05d}", opened_on="2024-01-01")
        if serial < 8:
            await kit.holding(
                rm, customer, f"62230000000{serial:05d}", opened_on="2024-02-01",
                product="LOAN-HOME", category="loan",
            )  # fmt: skip
        customers.append(customer)
    manager = await world.client("demo.sh.manager")
    today = validation.bank_today().isoformat()
    created = await manager.post(
        f"{kit.base}/recommenders", json={"name": "next_best_product", "as_of": today}
    )
    assert created.status_code == 201, created.text
    model = created.json()
    assert (model["task"], model["kind"], model["status"]) == (
        "recommendation", "item_similarity", "draft",
    )  # fmt: skip
    assert model["spec"]["neighbours"]["DEP-DEMAND"] == [["LOAN-HOME", round(8 / 12, 4)]]

    lonely = customers[-1]  # holds the deposit only
    before = (await rm.get(f"/api/v1/marketing/recommendations/{lonely}")).json()
    assert before == []  # a draft recommends nothing
    checker = await world.client("demo.bj.manager")
    assert (await checker.post(f"{kit.base}/{model['id']}/approve")).status_code == 200
    shown = (await rm.get(f"/api/v1/marketing/recommendations/{lonely}")).json()
    assert shown[0]["product_code"] == "LOAN-HOME"
    assert "67% 也持有" in shown[0]["reason_zh"]
    assert shown[0]["model"] == "mining.next_best_product@1"

    early = await manager.post(
        f"{kit.base}/recommenders", json={"name": "next_best_product", "as_of": "2023-01-01"}
    )
    assert early.status_code == 422
    assert early.json()["errors"][0]["field"] == "/body/as_of"
