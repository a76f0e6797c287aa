"""The feature store: point-in-time features materialised as versioned runs, per branch."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
import pytest

from bankcrm.business_calendar import DEFAULT_ZONE
from bankcrm_mining.features import (
    FeatureExtractor,
    build_features,
    extractors,
    feature_frame,
    rfm,
)
from bankcrm_sdk.world import World

RUNS = "/api/v1/mining/features/runs"


def test_rfm_never_sees_the_date_itself_or_after() -> None:
    tx = pd.DataFrame(
        {
            "customer": [1, 1, 1, 1, 2],
            "booked_at": pd.to_datetime(
                [
                    "2026-06-01 10:00+08:00",
                    "2026-09-20 10:00+08:00",
                    "2026-09-30 23:59+08:00",
                    "2026-10-01 00:00+08:00",
                    "2025-01-01 10:00+08:00",
                ],
                utc=True,
            ),
            "amount": [500.0, -100.0, 40.0, 9999.0, 7.0],
            "account_no": ["A", "A", "A", "A", "B"],
            "balance_after": [500.0, 400.0, 440.0, 10439.0, None],
        }
    )
    features = rfm(tx, date(2026, 10, 1))
    one = features.loc[1]
    assert one["recency_days"] == 0  # 23:59 the day before
    assert (one["frequency_90d"], one["monetary_90d"]) == (2, 140.0)
    assert (one["inflow_90d"], one["outflow_90d"]) == (40.0, 100.0)
    assert (one["frequency_365d"], one["monetary_365d"]) == (3, 640.0)
    assert one["balance_last"] == 440.0
    assert one["balance_trend_90d"] == 440.0 - 500.0
    two = features.loc[2]
    assert two["frequency_365d"] == 0
    assert pd.isna(two["balance_last"])


async def test_a_run_is_point_in_time_versioned_and_branch_scoped(world: World, kit: Any) -> None:
    rm = await world.client("demo.bj.rm")
    old = await kit.customer(rm, 1, "13800000001", "甲")
    new = await kit.customer(rm, 2, "13800000002", "乙")
    await kit.owner_fetch(
        "UPDATE customer_archive_customer SET created_at = '2024-10-01T00:00+08' WHERE id = $1",
        old,
    )
    await kit.holding(rm, old, "6222000000000001", opened_on="2024-10-01")
    await kit.holding(rm, old, "6222000000000011", opened_on="2026-11-01",
                      product="CARD-GOLD", category="card")  # fmt: skip
    manager = await world.client("demo.bj.manager")
    content = (
        b"txn_id,booked_at,amount,account_no,balance_after\n"
        b"A1,2026-08-01,1000,6222000000000001,1000\n"
        b"A2,2026-09-15,-200,6222000000000001,800\n"
        b"A3,2026-10-02,-300,6222000000000001,500\n"  # after the feature date
    )
    assert (await kit.upload(manager, content)).status_code == 201

    response = await manager.post(RUNS, json={"as_of": "2026-10-01"})
    assert response.status_code == 201, response.text
    run = response.json()
    assert (run["version"], run["customers"]) == (1, 1)  # the new customer did not exist yet
    assert set(run["definition"]) == {"mining.rfm", "mining.holdings"}
    values = (await manager.get(f"/api/v1/mining/features/customers/{old}")).json()["values"]
    assert (values["frequency_365d"], values["monetary_365d"]) == (2, 1200.0)
    assert values["balance_last"] == 800.0
    assert values["recency_days"] == 16
    assert (values["product_count"], values["held_card"], values["held_deposit"]) == (1, 0, 1)
    assert values["tenure_days"] == 730

    again = (await manager.post(RUNS, json={"as_of": "2026-10-01"})).json()
    assert (again["version"], again["fingerprint"]) == (2, run["fingerprint"])
    assert new  # created today: only in a run as of tomorrow

    sh = await world.client("demo.sh.manager")
    assert (await sh.get(f"/api/v1/mining/features/customers/{old}")).status_code == 404
    assert (await sh.get(RUNS)).json()["items"] == []
    assert (await sh.post(RUNS, json={"as_of": "2026-10-01", "branch_id": world.branch("BJ")})
            ).status_code == 422  # fmt: skip
    future = await manager.post(RUNS, json={"as_of": "2099-01-01"})
    assert future.status_code == 422
    assert future.json()["errors"][0]["field"] == "/body/as_of"


def complaints_plugin(make_plugin: Any) -> Any:
    """A plugin counting each customer's complaints before the date (here: the id)."""

    async def extract(customer_ids: Sequence[int], as_of: date) -> dict[int, dict[str, float]]:
        return {c: {"complaints.count_90d": float(c % 3)} for c in customer_ids}

    def mining_feature_extractors() -> list[FeatureExtractor]:
        return [FeatureExtractor("complaints.counts", 2, ("complaints.count_90d",), extract)]

    return make_plugin(
        "complaints", requires=("mining",),
        hooks={"mining_feature_extractors": mining_feature_extractors},
    )  # fmt: skip


async def test_hook_mining_feature_extractors_adds_features(
    world: World, kit: Any, make_plugin: Any, kernel_with: Any
) -> None:
    rm = await world.client("demo.bj.rm")
    customer = await kit.customer(rm, 1, "13800000001")
    kernel = kernel_with([complaints_plugin(make_plugin)])
    tomorrow = datetime.now(DEFAULT_ZONE).date() + timedelta(days=1)  # the bank's date
    with world.bind(await world.scope_of("BJ")):
        run = await build_features(tomorrow, world.branch("BJ"), kernel.registry)
        assert run.definition["complaints.counts"] == {
            "version": 2, "features": ["complaints.count_90d"],
        }  # fmt: skip
        frame = await feature_frame(run.id)
    assert frame.loc[customer, "complaints.count_90d"] == customer % 3
    assert frame.loc[customer, "frequency_90d"] == 0


def test_hook_mining_feature_extractors_names_are_the_plugins(
    make_plugin: Any, kernel_with: Any
) -> None:
    async def extract(customer_ids: Sequence[int], as_of: date) -> dict[int, dict[str, float]]:
        return {}

    rogue = make_plugin(
        "rogue", requires=("mining",),
        hooks={"mining_feature_extractors": lambda: [
            FeatureExtractor("rogue.x", 1, ("recency_days",), extract)]},
    )  # fmt: skip
    with pytest.raises(ValueError, match=r"rogue\."):
        extractors(kernel_with([rogue]).registry)
