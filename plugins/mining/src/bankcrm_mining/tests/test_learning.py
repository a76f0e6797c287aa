"""Training inside the platform: outcomes read off a later feature run, a draft version
registered with its hold-out metrics, failures recorded with the reason."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from bankcrm_mining import learning
from bankcrm_sdk.world import World

TRAIN = "/api/v1/mining/models/training-runs"


def test_outcomes_of_churn_and_propensity() -> None:
    before = pd.DataFrame(
        {"balance_last": [1000.0, 1000.0, 1000.0, np.nan], "frequency_90d": [5.0, 5.0, 0.0, 3.0],
         "held_wealth": [0.0, 1.0, 0.0, 0.0]},
        index=pd.Index([1, 2, 3, 4], name="customer"),
    )  # fmt: skip
    after = pd.DataFrame(
        {"balance_last": [100.0, 900.0, 1000.0, np.nan], "frequency_90d": [5.0, 4.0, 0.0, 0.0],
         "held_wealth": [1.0, 1.0, 0.0, 0.0]},
        index=pd.Index([1, 2, 3, 4], name="customer"),
    )  # fmt: skip
    # 1 drained its balance; 4 stopped transacting; 3 never transacted: not churn.
    assert learning.outcomes("churn", before, after, None).to_dict() == {1: 1, 2: 0, 3: 0, 4: 1}
    assert learning.outcomes("propensity", before, after, "wealth").to_dict() == {
        1: 1, 2: 0, 3: 0, 4: 0,
    }  # fmt: skip
    assert list(learning.outcomes("churn", before, after.drop(index=[4]), None).index) == [1, 2, 3]


async def feature_runs(kit: Any, branch: int, customers: int = 400) -> tuple[int, int]:
    """Two runs of a branch, 90 days apart: customers with few products and falling
    activity drain their balance far more often."""
    rng = np.random.default_rng(3)
    ids = []
    for as_of, version in (("2026-06-01", 1), ("2026-08-30", 1)):
        rows = await kit.owner_fetch(
            "INSERT INTO mining_feature_run (branch_id, as_of, version, definition, customers,"
            " fingerprint, created_by, created_at) VALUES ($1, $2::date, $3, $4::jsonb, $5, $6,"
            " 'user:1', now()) RETURNING id",
            branch, pd.Timestamp(as_of).date(), version,
            json.dumps({"mining.rfm": {"version": 1, "features": ["balance_last", "frequency_90d"]},
                        "mining.holdings": {"version": 1,
                                            "features": ["product_count", "held_wealth"]}}),
            customers, "ab" * 32,
        )  # fmt: skip
        ids.append(rows[0]["id"])
    products = rng.integers(0, 5, customers)
    frequency = rng.integers(0, 30, customers).astype(float)
    risk = 1 / (1 + np.exp(-(1.5 - 0.8 * products - 0.1 * frequency)))
    churned = rng.uniform(size=customers) < risk
    for run, balance in (
        (ids[0], np.full(customers, 10_000.0)),
        (ids[1], np.where(churned, 500.0, 9_000.0)),
    ):
        await kit.owner_fetch(
            "INSERT INTO mining_feature_value (branch_id, run, customer, as_of, values)"
            " SELECT $1, $2, c, now()::date, v::jsonb FROM unnest($3::int[], $4::text[]) u(c, v)",
            branch, run, list(range(1, customers + 1)),
            [json.dumps({"balance_last": float(balance[i]), "frequency_90d": float(frequency[i]),
                         "product_count": float(products[i]), "held_wealth": 0.0})
             for i in range(customers)],
        )  # fmt: skip
    return ids[0], ids[1]


async def test_a_churn_model_is_trained_and_registered_as_a_draft(
    world: World, kit: Any, job_worker: Any
) -> None:
    early, late = await feature_runs(kit, world.branch("SH"))
    manager = await world.client("demo.sh.manager")
    harness = await job_worker()
    started = await manager.post(
        TRAIN, json={"name": "deposit_churn", "task": "churn", "feature_run_id": early,
                     "outcome_run_id": late},
    )  # fmt: skip
    assert started.status_code == 202, started.text
    assert started.headers["location"].endswith(f"/training-runs/{started.json()['id']}")
    await harness.drain()
    run = (await manager.get(f"{TRAIN}/{started.json()['id']}")).json()
    assert run["status"] == "done", run
    assert run["metrics"]["roc_auc"] > 0.7
    assert run["metrics"]["cases"] == 400
    model = (await manager.get(f"{kit.base}/{run['model']}")).json()
    assert (model["name"], model["task"], model["status"]) == ("deposit_churn", "churn", "draft")
    assert set(model["features"]) <= {"frequency_90d", "product_count"}
    assert "product_count" in model["features"]
    assert model["created_by"] == f"user:{world.users['demo.sh.manager']}"
    assert model["spec"]["score_distribution"]["edges"]
    # A second person approves it before it scores anyone.
    assert (await manager.post(f"{kit.base}/{model['id']}/approve")).status_code == 409

    bj = await world.client("demo.bj.manager")
    assert (await bj.get(f"{TRAIN}/{run['id']}")).status_code == 404


async def test_bad_training_requests_and_untrainable_data(
    world: World, kit: Any, job_worker: Any
) -> None:
    early, late = await feature_runs(kit, world.branch("SH"), customers=30)
    manager = await world.client("demo.sh.manager")
    body = {"name": "wealth_buyer", "task": "propensity", "feature_run_id": early,
            "outcome_run_id": late}  # fmt: skip
    missing = await manager.post(TRAIN, json=body)
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "/body/product_category"
    backwards = await manager.post(
        TRAIN, json={**body, "product_category": "wealth", "feature_run_id": late,
                     "outcome_run_id": early},
    )  # fmt: skip
    assert backwards.status_code == 422
    assert backwards.json()["errors"][0]["field"] == "/body/outcome_run_id"
    lacking = await manager.post(TRAIN, json={**body, "product_category": "card"})
    assert lacking.status_code == 422
    assert "held_card" in lacking.json()["errors"][0]["message"]

    harness = await job_worker()
    started = await manager.post(TRAIN, json={**body, "product_category": "wealth"})
    assert started.status_code == 202, started.text
    await harness.drain()
    run = (await manager.get(f"{TRAIN}/{started.json()['id']}")).json()
    # Nobody bought a wealth product between the runs: nothing to learn, and it says so.
    assert run["status"] == "failed"
    assert "too few events" in run["error"]
    assert run["model"] is None
