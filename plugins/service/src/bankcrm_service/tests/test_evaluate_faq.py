"""``bankcrm service evaluate-faq``: a bank checks the FAQ matching on its own articles and
questions (CSV or JSON, Chinese or English): top-1/top-3 and latency as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import click
from click.testing import CliRunner

from bankcrm_service.cli import register_service_cli


def _cli() -> click.Group:
    @click.group()
    def root() -> None:
        pass

    register_service_cli(root)
    return root


def test_top1_and_top3_from_csv_and_json(tmp_path: Path) -> None:
    kb = tmp_path / "kb.csv"
    kb.write_text(
        "id,question,answer\n"
        "card,银行卡丢失了怎么办,请立即挂失\n"
        "pwd,How do I reset my online banking password,Click forgot password\n"
        "rate,定期存款利率是多少,请查看利率表\n",
        encoding="utf-8",
    )
    queries = tmp_path / "queries.jsonl"
    queries.write_text(
        "\n".join(
            json.dumps(q, ensure_ascii=False)
            for q in (
                {"question": "我的卡丢了", "id": "card"},
                {"question": "I forgot my password", "id": "pwd"},
                {"question": "存款利息多少", "id": "rate"},
                {"question": "銀行卡遺失", "id": "card"},  # Traditional
            )
        ),
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        _cli(), ["service", "evaluate-faq", "--kb", str(kb), "--queries", str(queries)]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert (out["articles"], out["queries"]) == (3, 4)
    assert out["top1"] == 1.0
    assert out["top3"] == 1.0
    assert out["latency_ms"]["p99"] < 50


def test_the_esun_shape_and_a_missing_column(tmp_path: Path) -> None:
    kb = tmp_path / "faq.json"
    kb.write_text(
        json.dumps(
            {"7": [{"question": "如何申請信用卡", "answers": ["線上申請"]}],
             "8": [{"question": "匯款手續費多少", "answers": ["每筆30元"]}]},
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )  # fmt: skip
    queries = tmp_path / "q.csv"
    queries.write_text("question,id\n怎么申请信用卡,7\n汇款要多少手续费,8\n", encoding="utf-8")
    ok = CliRunner().invoke(
        _cli(), ["service", "evaluate-faq", "--kb", str(kb), "--queries", str(queries)]
    )
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["top1"] == 1.0
    bad = CliRunner().invoke(
        _cli(),
        ["service", "evaluate-faq", "--kb", str(queries), "--queries", str(queries),
         "--question", "text"],
    )  # fmt: skip
    assert bad.exit_code == 2
    assert "no column 'text'" in bad.output
