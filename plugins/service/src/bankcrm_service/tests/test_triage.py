"""The triage classifier and ``bankcrm service evaluate-triage``: CSV and JSON in Chinese
and English, JSON out, bad input as a usage error."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from bankcrm_service import triage
from bankcrm_service.cli import register_service_cli

COMPLAINTS = [
    "信用卡年费被重复扣收，要求退还",
    "我的信用卡被盗刷了，请马上冻结",
    "信用卡额度被无故降低，非常不满",
    "信用卡分期手续费太高，收费不透明",
    "The bank charged my credit card annual fee twice",
    "Unauthorized charges on my credit card, freeze it now",
]
INQUIRIES = [
    "请问定期存款提前支取怎么计息",
    "想咨询一下房贷利率是多少",
    "网点周末几点开门营业",
    "请问如何开通手机银行",
    "What are the opening hours of the branch on Saturday",
    "How do I open a savings account online",
]


def _rows() -> tuple[list[str], list[str]]:
    texts = [t + suffix for suffix in ("", "。", "！", "？") for t in COMPLAINTS + INQUIRIES]
    labels = [
        label
        for _ in range(4)
        for label in ["complaint"] * len(COMPLAINTS) + ["inquiry"] * len(INQUIRIES)
    ]
    return texts, labels


def test_a_trained_classifier_separates_complaints_from_inquiries() -> None:
    model = triage.TextClassifier.train(*_rows())
    assert model.predict("信用卡又被重复扣年费了，要求退款").label == "complaint"
    assert model.predict("请问手机银行怎么开通").label == "inquiry"
    prediction = model.predict("my credit card was charged twice")
    assert prediction.label == "complaint"
    assert 0.5 < prediction.confidence <= 1.0


def test_evaluate_reports_accuracy_macro_f1_and_the_confusion_matrix() -> None:
    result = triage.evaluate(*_rows(), test_size=0.25, seed=1)
    assert result["labels"] == ["complaint", "inquiry"]
    assert result["test_rows"] == 12
    assert result["accuracy"] >= 0.75
    assert 0 <= result["macro_f1"] <= 1
    matrix = result["confusion_matrix"]
    assert sum(map(sum, matrix)) == 12
    assert result["latency_ms"]["p99"] >= result["latency_ms"]["p50"] > 0


def test_too_few_rows_or_one_class_is_refused() -> None:
    with pytest.raises(triage.TriageDataError):
        triage.evaluate(["a"] * 3, ["x"] * 3)
    with pytest.raises(triage.TriageDataError):
        triage.evaluate(["a b c"] * 20, ["x"] * 20)


def _cli() -> click.Group:
    @click.group()
    def root() -> None:
        pass

    register_service_cli(root)
    return root


def test_the_command_reads_csv_and_prints_json(tmp_path: Path) -> None:
    texts, labels = _rows()
    path = tmp_path / "tickets.csv"
    lines = ["内容;类别"] + [f'"{t}";{y}' for t, y in zip(texts, labels, strict=True)]
    path.write_text("\n".join(lines), encoding="gb18030")
    result = CliRunner().invoke(
        _cli(), ["service", "evaluate-triage", str(path), "--text", "内容", "--label", "类别"]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["rows"] == 48
    assert set(out) >= {"accuracy", "macro_f1", "confusion_matrix", "labels"}


def test_the_command_reads_json_lines(tmp_path: Path) -> None:
    texts, labels = _rows()
    path = tmp_path / "tickets.jsonl"
    path.write_text(
        "\n".join(
            json.dumps({"text": t, "label": y}, ensure_ascii=False)
            for t, y in zip(texts, labels, strict=True)
        ),
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        _cli(), ["service", "evaluate-triage", str(path), "--text", "text", "--label", "label"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["test_rows"] == 12


def test_a_missing_column_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "tickets.csv"
    path.write_text("text,label\nhello,a\n", encoding="utf-8")
    result = CliRunner().invoke(
        _cli(), ["service", "evaluate-triage", str(path), "--text", "body", "--label", "label"]
    )
    assert result.exit_code == 2
    assert "no column 'body'" in result.output


def test_the_shipped_data_sets_are_readable() -> None:
    texts, labels = triage.read_rows(
        triage.DATA / "cfpb_complaints_4class.csv", "Consumer complaint narrative", "Product"
    )
    assert len(texts) == 2085
    assert len(set(labels)) == 4
    texts, labels = triage.read_rows(triage.DATA / "cn_bank_reviews.csv", "text", "class")
    assert len(texts) == 6022
    assert set(labels) == {"0", "1", "2"}
