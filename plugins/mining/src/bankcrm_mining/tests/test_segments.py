"""Segmentation: k-means with the number of segments chosen by silhouette, segments
described in words, assigned to customers by a scoring run."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from bankcrm_mining import scoring, segments
from bankcrm_sdk.world import World

LABELS = {"balance_last": "最新余额", "frequency_90d": "近90天交易笔数"}


def three_groups(n: int = 900, seed: int = 5) -> pd.DataFrame:
    """Savers (high balance, few transactions), spenders (low balance, many) and a middle."""
    rng = np.random.default_rng(seed)
    third = n // 3
    balance = np.concatenate([rng.lognormal(13, 0.2, third), rng.lognormal(8, 0.2, third),
                              rng.lognormal(10.5, 0.2, third)])  # fmt: skip
    frequency = np.concatenate([rng.poisson(2, third), rng.poisson(60, third),
                                rng.poisson(20, third)]).astype(float)  # fmt: skip
    frame = pd.DataFrame({"balance_last": balance, "frequency_90d": frequency})
    frame.loc[::50, "balance_last"] = np.nan
    return frame


def test_segments_are_found_and_described() -> None:
    frame = three_groups()
    spec = segments.fit(frame, LABELS)
    assert len(spec["centroids"]) == 3
    assert spec["silhouette"] > 0.5
    assert segments.check_spec(spec) is None
    nearest, _ = segments.assign(spec, frame)
    # The 18 customers without a balance take the median's side: near thirds, not exact.
    assert all(abs(n - 300) <= 18 for n in np.bincount(nearest))
    words = {s["zh"] for s in spec["segments"]}
    assert any("最新余额高" in w and "近90天交易笔数低" in w for w in words)
    assert any("最新余额低" in w and "近90天交易笔数高" in w for w in words)
    assert sum(s["customers"] for s in spec["segments"]) == 900
    # A customer missing a feature takes the median; one missing the column entirely too.
    alone, _ = segments.assign(spec, pd.DataFrame({"frequency_90d": [61.0]}))
    assert spec["segments"][alone[0]]["zh"].startswith(("近90天交易笔数高", "最新余额"))


@pytest.mark.parametrize(
    ("change", "wrong"),
    [
        ({"features": []}, "features"),
        ({"scale": {}}, "scale"),
        ({"centroids": [[0.0]]}, "centroids"),
        ({"segments": []}, "segments"),
    ],
)
def test_a_spec_that_cannot_assign_is_named(change: dict[str, Any], wrong: str) -> None:
    spec = segments.fit(three_groups(), LABELS)
    assert segments.check_spec({**spec, **change}) == wrong


async def test_customers_get_their_segment_through_a_scoring_run(
    world: World, kit: Any, job_worker: Any
) -> None:
    frame = three_groups(300)
    branch = world.branch("SH")
    run = (await kit.owner_fetch(
        "INSERT INTO mining_feature_run (branch_id, as_of, version, definition, customers,"
        " fingerprint, created_by, created_at) VALUES ($1, '2026-11-01', 1, $2, 300, $3,"
        " 'user:1', now()) RETURNING id",
        branch, json.dumps({"mining.rfm": {"version": 1, "features": list(LABELS)}}), "cd" * 32,
    ))[0]["id"]  # fmt: skip
    await kit.owner_fetch(
        "INSERT INTO mining_feature_value (branch_id, run, customer, as_of, values)"
        " SELECT $1, $2, c, '2026-11-01', v::jsonb FROM unnest($3::int[], $4::text[]) u(c, v)",
        branch, run, list(range(1, 301)),
        [json.dumps({k: (None if v != v else v) for k, v in r.items()})
         for r in frame.to_dict("records")],
    )  # fmt: skip
    manager = await world.client("demo.sh.manager")
    created = await manager.post(
        f"{kit.base}/segmentations", json={"name": "retail_segments", "feature_run_id": run}
    )
    assert created.status_code == 201, created.text
    model = created.json()
    assert (model["task"], model["kind"], model["status"]) == ("segmentation", "kmeans", "draft")
    assert model["metrics"]["segments"] == 3
    checker = await world.client("demo.bj.manager")
    assert (await checker.post(f"{kit.base}/{model['id']}/approve")).status_code == 200

    harness = await job_worker()
    started = await manager.post(
        "/api/v1/mining/scoring/runs", json={"model_id": model["id"], "feature_run_id": run}
    )
    assert started.status_code == 202, started.text
    await harness.drain()
    done = (await manager.get(f"/api/v1/mining/scoring/runs/{started.json()['id']}")).json()
    assert done["customers"] == 300
    assert done["stability"]["segments"] == [s["customers"] for s in model["spec"]["segments"]]
    assert done["stability"]["score"] < 0.01  # the same customers it was fitted on
    rows = await kit.owner_fetch("SELECT band, count(*) AS n FROM mining_score GROUP BY band")
    assert sum(r["n"] for r in rows) == 300
    assert {r["band"] for r in rows} <= set(segments.LETTERS)
    described = {s["letter"]: s["zh"] for s in model["spec"]["segments"]}
    with world.bind(await world.scope_of("SH")):
        changes = await scoring.band_changes(1, pd.Timestamp.now(tz="UTC").to_pydatetime(), 5)
    assert changes[0]["band_title"] == described[changes[0]["band"]]
    # A segmentation is not a probability: marketing cannot target by it.
    with world.bind(await world.scope_of("SH")):
        assert await scoring.stored_probabilities("retail_segments", [1]) is None
