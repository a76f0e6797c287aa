"""``bankcrm service evaluate-triage FILE --text COLUMN --label COLUMN``: a bank checks the
triage classifier on its own data (CSV or JSON, Chinese or English). No database is
needed; the JSON out is what :func:`bankcrm_service.triage.evaluate` returns."""

from __future__ import annotations

import json
from pathlib import Path

import click

from bankcrm_service import triage


def register_service_cli(root: click.Group) -> None:
    @root.group("service")
    def service() -> None:
        """Customer service: triage model evaluation."""

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
