"""Batch scoring runs, stored scores with reasons in words, on-demand scores, the 360
section and timeline, population stability and its alert, and branch isolation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd

from bankcrm_customer_archive import validation
from bankcrm_mining import scoring, training
from bankcrm_mining.actors import score
from bankcrm_mining.plugin import marketing_scores
from bankcrm_sdk.world import World

RUNS = "/api/v1/mining/scoring/runs"


async def approved(world: World, kit: Any, **overrides: Any) -> int:
    created = await kit.create(await world.client("demo.bj.manager"), **overrides)
    checker = await world.client("demo.sh.manager")
    response = await checker.post(f"{kit.base}/{created['id']}/approve")
    assert response.status_code == 200, response.text
    return int(created["id"])


async def sh_feature_run(world: World, kit: Any) -> tuple[int, int, int]:
    """Two customers of SH-PD, one holding two products, and a feature run over them."""
    rm = await world.client("demo.sh.rm")
    rich = await kit.customer(rm, 1, "13800000001", "甲")
    poor = await kit.customer(rm, 2, "13800000002", "乙")
    await kit.holding(rm, rich, "6222000000000001")
    await kit.holding(rm, rich, "6222000000000002", product="LOAN-1", category="loan")
    manager = await world.client("demo.sh.manager")
    as_of = (validation.bank_today() + timedelta(days=1)).isoformat()
    built = await manager.post("/api/v1/mining/features/runs", json={"as_of": as_of})
    assert built.status_code == 201, built.text
    return int(built.json()["id"]), rich, poor


async def test_a_run_scores_every_customer_once_with_reasons(
    world: World, kit: Any, job_worker: Any
) -> None:
    feature_run, rich, poor = await sh_feature_run(world, kit)
    manager = await world.client("demo.sh.manager")
    draft = await kit.create(await world.client("demo.bj.manager"), name="draft_card")
    refused = await manager.post(
        RUNS, json={"model_id": draft["id"], "feature_run_id": feature_run}
    )
    assert refused.status_code == 409
    assert refused.json()["type"].endswith("/not_approved")

    model = await approved(world, kit)
    harness = await job_worker()
    started = await manager.post(RUNS, json={"model_id": model, "feature_run_id": feature_run})
    assert started.status_code == 202, started.text
    assert started.headers["location"].endswith(f"/scoring/runs/{started.json()['id']}")
    assert started.json()["status"] == "queued"
    await harness.drain()
    again = await manager.post(RUNS, json={"model_id": model, "feature_run_id": feature_run})
    assert again.json()["id"] == started.json()["id"]  # the same pair answers the same run
    run = (await manager.get(f"{RUNS}/{started.json()['id']}")).json()
    assert (run["status"], run["customers"]) == ("done", 2)

    with world.bind(await world.scope_of("SH")):  # the run is in the feature run's branch
        await scoring.run_scoring(run["id"])  # a redelivered job changes nothing
    rows = await kit.owner_fetch("SELECT customer, branch_id FROM mining_score")
    assert sorted(r["customer"] for r in rows) == sorted([rich, poor])
    assert {r["branch_id"] for r in rows} == {world.branch("SH-PD")}

    rm = await world.client("demo.sh.rm")
    mine = (await rm.get(f"/api/v1/mining/scoring/customers/{poor}")).json()
    assert [(s["model_name"], s["model_version"]) for s in mine] == [("retail_scorecard", 1)]
    # tenure < 365 days: -20; fewer than 2 products (the kit's bins: 0 or 1): -10
    assert mine[0]["score"] == 600 - 20 - 10
    assert "开户天数：< 365" in mine[0]["reasons"]
    assert mine[0]["band_title"] == scoring.BAND_TITLES[mine[0]["band"]]
    other = (await rm.get(f"/api/v1/mining/scoring/customers/{rich}")).json()
    assert other[0]["score"] == 600 - 20  # two products: no bin of product_count, 0 points

    now = await rm.post(f"{kit.base}/{model}/score", json={"customer_id": poor})
    assert now.status_code == 200, now.text
    assert (now.json()["score"], now.json()["run"]) == (mine[0]["score"], None)

    view = (await rm.get(f"/api/v1/customer_archive/customers/{poor}/360")).json()
    section = next(s for s in view["sections"] if s["key"] == "mining.scores")
    assert section["data"]["scores"][0]["score"] == mine[0]["score"]
    timeline = (await rm.get(f"/api/v1/customer_archive/customers/{poor}/timeline")).json()
    assert any(item["kind"] == "mining.score_band" for item in timeline["items"])

    bj = await world.client("demo.bj.manager")
    assert (await bj.get(f"/api/v1/mining/scoring/customers/{poor}")).status_code == 404
    assert (await bj.get(f"{RUNS}/{run['id']}")).status_code == 404
    assert (
        await bj.post(f"{kit.base}/{model}/score", json={"customer_id": poor})
    ).status_code == 404
    assert (await bj.get(RUNS)).json()["items"] == []
    teller = await world.client("demo.teller")
    assert (await teller.get(f"/api/v1/mining/scoring/customers/{poor}")).status_code == 403

    # Marketing targets by the stored scores, in the caller's scope only.
    with world.bind(await world.scope_of("SH")):
        found = await marketing_scores("retail_scorecard", [rich, poor])
        assert found is not None
        assert set(found) == {rich, poor}
        assert 0 < found[poor] < 1
        assert await marketing_scores("no_such_model", [poor]) is None
    with world.bind(await world.scope_of("BJ")):
        assert await marketing_scores("retail_scorecard", [rich, poor]) == {}


async def test_a_shifted_population_alerts_the_people_concerned(
    world: World, kit: Any, job_worker: Any
) -> None:
    feature_run, _, _ = await sh_feature_run(world, kit)
    body = kit.body()
    # Trained, it says, on customers nearly all older than a year: today's are all new.
    for entry, count in zip(body["spec"]["points"], (5, 995, 500, 500), strict=True):
        entry["count"] = count
    model = await approved(world, kit, spec=body["spec"])
    manager = await world.client("demo.sh.manager")
    harness = await job_worker()
    started = await manager.post(RUNS, json={"model_id": model, "feature_run_id": feature_run})
    await harness.drain()
    run = (await manager.get(f"{RUNS}/{started.json()['id']}")).json()
    assert run["alerted"] is True
    assert run["stability"]["features"]["tenure_days"] > scoring.PSI_ALERT
    notified = await kit.owner_fetch(
        "SELECT recipient, title_zh FROM bankcrm_notification WHERE template = $1",
        scoring.STABILITY_ALERT,
    )
    # The SH manager started it; the maker (BJ) cannot see SH-PD and is not told.
    assert [r["recipient"] for r in notified] == [world.users["demo.sh.manager"]]
    assert "retail_scorecard" in notified[0]["title_zh"]


def test_stability_is_near_zero_for_the_same_population_and_large_for_a_shift() -> None:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"x": rng.normal(size=5000), "c": rng.choice(["a", "b"], 5000)})
    y = (rng.uniform(size=5000) < 1 / (1 + np.exp(-(frame["x"] - 2)))).astype(int).to_numpy()
    card = training.fit_scorecard(frame, y)
    assert card.score_distribution is not None
    same = pd.DataFrame({"x": rng.normal(size=3000), "c": rng.choice(["a", "b"], 3000)})
    moved = same.assign(x=same["x"] + 1.5)
    for population, low in ((same, True), (moved, False)):
        result = scoring.stability(
            card, population, training.score_frame(card, population, reasons=0).score,
            card.score_distribution,
        )  # fmt: skip
        assert (result["features"]["x"] < 0.1) is low
        assert (result["score"] < 0.1) is low


def test_the_scoring_job_is_declared() -> None:
    assert score.name == scoring.SCORE_JOB
