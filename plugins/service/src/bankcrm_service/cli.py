"""``bankcrm service evaluate-triage FILE --text COLUMN --label COLUMN``: a bank checks the
triage classifier on its own data (CSV or JSON, Chinese or English). No database is
needed; the JSON out is what :func:`bankcrm_service.triage.evaluate` returns."""

from __future__ import annotations

import json
from pathlib import Path

import click

from bankcrm_service import faq_match, triage


def register_service_cli(root: click.Group) -> None:
    @root.group("service")
    def service() -> None:
        """Customer service: triage and FAQ model evaluation."""

    @service.command("evaluate-triage")
    @click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
    @click.option("--text", "text_column", required=True, help="The column holding the text.")
    @click.option("--label", "label_column", required=True, help="The column holding the class.")
    @click.option(
        "--test-size",
        type=click.FloatRange(0.05, 0.9),
        default=0.25,
        show_default=True,
        help="The share of rows held out for testing.",
    )
    @click.option("--seed", type=int, default=42, show_default=True)
    def evaluate_triage(
        file: Path, text_column: str, label_column: str, test_size: float, seed: int
    ) -> None:
        """Train on part of FILE and print accuracy, macro-F1 and the confusion matrix of
        the rest as JSON."""
        try:
            texts, labels = triage.read_rows(file, text_column, label_column)
            result = triage.evaluate(texts, labels, test_size=test_size, seed=seed)
        except (triage.TriageDataError, ValueError) as error:
            raise click.UsageError(str(error)) from error
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))

    @service.command("evaluate-faq")
    @click.option(
        "--kb", "kb", required=True, type=click.Path(path_type=Path, exists=True, dir_okay=False),
        help="The knowledge base: CSV/JSON rows with question, answer and id columns.",
    )  # fmt: skip
    @click.option(
        "--queries", "queries", required=True,
        type=click.Path(path_type=Path, exists=True, dir_okay=False),
        help="Customer questions with the id of the article that answers each.",
    )  # fmt: skip
    @click.option("--question", "question_column", default="question", show_default=True)
    @click.option("--answer", "answer_column", default="answer", show_default=True)
    @click.option("--id", "id_column", default="id", show_default=True)
    def evaluate_faq(
        kb: Path, queries: Path, question_column: str, answer_column: str, id_column: str
    ) -> None:
        """Ask the knowledge base KB every question of QUERIES and print top-1/top-3
        accuracy and the latency of one question as JSON (the same matching as the ticket
        suggestions and the public self-service)."""
        try:
            entries, keys = faq_match.read_knowledge_base(
                kb, question=question_column, answer=answer_column, key=id_column
            )
            texts, expected = triage.read_rows(queries, question_column, id_column)
            result = faq_match.evaluate(entries, keys, texts, expected)
        except (faq_match.FaqDataError, triage.TriageDataError, ValueError) as error:
            raise click.UsageError(str(error)) from error
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
