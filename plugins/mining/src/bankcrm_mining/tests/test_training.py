"""The training pipeline on data with a known answer: WOE bins, the points table,
scoring through the table, reason codes, metrics and the ``evaluate`` command."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from bankcrm.cli import main as cli
from bankcrm_mining import training


def synthetic(rows: int = 4000, seed: int = 7) -> pd.DataFrame:
    """Default driven by utilisation (up) and tenure (down), a channel category with a
    risky value, missing incomes that are risky, and pure noise."""
    rng = np.random.default_rng(seed)
    utilisation = rng.uniform(0, 1, rows)
    tenure = rng.integers(0, 240, rows).astype(float)
    channel = rng.choice(["网点", "手机银行", "代理"], rows, p=[0.5, 0.4, 0.1])
    income = np.where(rng.uniform(size=rows) < 0.1, np.nan, rng.normal(8000, 2000, rows))
    logit = -2.5 + 3.0 * utilisation - 0.01 * tenure + 1.2 * (channel == "代理")
    logit += np.where(np.isnan(income), 1.0, 0.0)
    default = rng.uniform(size=rows) < 1 / (1 + np.exp(-logit))
    return pd.DataFrame({
        "利用率": utilisation, "tenure_months": tenure, "channel": channel, "income": income,
        "noise": rng.normal(size=rows), "客户号": [f"C{i:06d}" for i in range(rows)],
        "违约": np.where(default, "是", "否"),
    })  # fmt: skip


def test_the_points_table_follows_the_risk() -> None:
    data = training.prepare(synthetic(), "违约")
    assert "客户号" not in data.features.columns  # an identifier is not a feature
    card = training.fit_scorecard(data.features, data.y)
    assert {"利用率", "tenure_months", "channel", "income"} <= set(card.features)
    iv = card.information_value
    assert iv.get("noise", 0) < min(iv[f] for f in ("利用率", "tenure_months", "channel", "income"))

    def points(feature: str) -> list[tuple[dict[str, object], int]]:
        return [(e["bin"], e["points"]) for e in card.points if e["feature"] == feature]

    utilisation = [p for _, p in points("利用率")]
    assert utilisation[0] > utilisation[-1]  # low utilisation earns the most points
    channel = dict((tuple(b.get("values", [])), p) for b, p in points("channel"))
    agent = next(p for values, p in channel.items() if "代理" in values)
    assert agent == min(channel.values())
    missing_income = next(p for b, p in points("income") if b.get("missing"))
    assert missing_income < max(p for _, p in points("income"))


def test_scores_come_from_the_table_with_reasons_in_words() -> None:
    frame = synthetic()
    data = training.prepare(frame, "违约")
    card = training.fit_scorecard(data.features, data.y)
    restored = training.Scorecard.from_spec(card.spec(), card.features)
    risky = pd.DataFrame({"利用率": [0.99], "tenure_months": [1.0], "channel": ["代理"],
                          "income": [np.nan]})  # fmt: skip
    safe = pd.DataFrame({"利用率": [0.01], "tenure_months": [230.0], "channel": ["网点"],
                         "income": [9000.0]})  # fmt: skip
    high = training.score_frame(restored, risky, reasons=4)
    low = training.score_frame(restored, safe)
    assert high.score[0] < low.score[0]
    assert high.probability[0] > 0.5 > low.probability[0]
    expected = card.base_points + sum(
        e["points"]
        for e in card.points
        if e["feature"] in risky and training.bin_index(risky[e["feature"]], [e["bin"]])[0] == 0
    )  # fmt: skip  (a feature the row lacks scores 0 points)
    assert high.score[0] == expected
    assert any(reason.startswith("channel：") and "代理" in reason for reason in high.reasons[0])
    assert any(reason == "income：缺失" for reason in high.reasons[0])
    unseen = training.score_frame(restored, safe.assign(channel=["从未见过"]))
    assert unseen.score[0] == low.score[0] - sum(
        e["points"]
        for e in card.points
        if e["feature"] == "channel" and "网点" in e["bin"].get("values", [])
    )  # an unseen category scores neutral (0 points)


def test_evaluation_reports_held_out_and_time_ordered_figures() -> None:
    frame = synthetic().assign(opened=pd.date_range("2020-01-01", periods=4000, freq="6h"))
    data = training.prepare(frame, "违约", time_column="opened")
    cost = training.CostMatrix.parse("5,1")
    report = training.evaluate(data, task="default", cost=cost)
    holdout = report["holdout"]
    assert holdout["cases"] == 1200
    assert 0.7 < holdout["roc_auc"] <= 1
    assert holdout["threshold"] == pytest.approx(1 / 6, abs=1e-4)
    assert holdout["expected_cost"] == pytest.approx(
        (5 * holdout["missed_events"] + holdout["false_alarms"]) / 1200, abs=1e-4
    )
    assert sum(b["cases"] for b in holdout["calibration"]) == 1200
    assert "opened" not in report["features_offered"]
    assert report["time_ordered"]["cases"] == 1200
    assert report["points_table"][0]["feature"] in report["features_used"]


@pytest.mark.parametrize(
    ("values", "event", "message"),
    [
        (["1", "2"], None, "name the event value"),
        (["a", "b", "c"], None, "two values"),
        (["yes", "no"], "maybe", "no value 'maybe'"),
    ],
)
def test_a_target_that_cannot_be_read_is_refused(
    values: list[str], event: str | None, message: str
) -> None:
    with pytest.raises(training.TrainingError, match=message):
        training.event_vector(pd.Series(values * 10, name="y"), event)


def test_the_evaluate_command_reads_a_csv_and_prints_json(tmp_path: Path) -> None:
    path = tmp_path / "申请.csv"
    synthetic(1500).to_csv(path, sep=";", index=False, encoding="gb18030")
    runner = CliRunner()
    result = runner.invoke(
        cli, ["mining", "evaluate", str(path), "--task", "scorecard", "--target", "违约",
              "--cost-matrix", "5,1", "--folds", "3"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["holdout"]["roc_auc"] > 0.7
    assert report["cross_validated"]["folds"] == 3
    assert report["top_reasons"]

    wrong = runner.invoke(
        cli, ["mining", "evaluate", str(path), "--task", "churn", "--target", "nope"]
    )
    assert wrong.exit_code == 2
    assert "no column 'nope'" in wrong.output
    costs = runner.invoke(
        cli,
        [
            "mining",
            "evaluate",
            str(path),
            "--task",
            "churn",
            "--target",
            "违约",
            "--cost-matrix",
            "5",
        ],
    )
    assert costs.exit_code == 2
    assert "cost matrix" in costs.output
