"""``bankcrm mining evaluate FILE --task … --target COLUMN``: a bank checks a model on its
own data.

It trains the task's pipeline (:mod:`.training`, the same code the training job and the
benchmarks run) on part of any tabular file and prints the held-out metrics, the points
table and the most frequent reason codes as JSON. No database is needed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from bankcrm_mining import training

GROUP = "mining"


def register_mining_cli(root: click.Group) -> None:
    @root.group(GROUP)
    def mining() -> None:
        """Customer analytics: model evaluation."""

    @mining.command("evaluate")
    @click.argument("file", type=click.Path(path_type=Path))
    @click.option("--task", type=click.Choice(training.TASKS), required=True)
    @click.option("--target", required=True, help="The column holding the outcome.")
    @click.option(
        "--event", default=None, help="The target value that is the event (bad, churned, bought)."
    )
    @click.option(
        "--time-column",
        default=None,
        help="Also test on the latest rows, trained on the earlier ones.",
    )
    @click.option(
        "--cost-matrix",
        default=None,
        metavar="MISSED,FALSE_ALARM",
        help="Cost of a missed event and of a false alarm, e.g. 5,1.",
    )
    @click.option(
        "--drop",
        multiple=True,
        help="A column not to use (repeatable), e.g. one known only afterwards.",
    )
    @click.option(
        "--folds",
        type=click.IntRange(min=0, max=20),
        default=0,
        help="Also report K-fold cross-validated metrics.",
    )
    def evaluate(
        file: Path,
        task: training.Task,
        target: str,
        event: str | None,
        time_column: str | None,
        cost_matrix: str | None,
        drop: tuple[str, ...],
        folds: int,
    ) -> None:
        """Train on 70 % of FILE (CSV or Parquet), report on the other 30 %."""
        try:
            cost = training.CostMatrix.parse(cost_matrix) if cost_matrix else None
            data = training.prepare(
                training.read_table(file), target, event=event, time_column=time_column, drop=drop
            )
            report = training.evaluate(data, task=task, cost=cost)
            if folds >= 2:
                report["cross_validated"] = {
                    "folds": folds,
                    **training.cross_validate(data, folds=folds, cost=cost),
                }
        except training.TrainingError as error:
            raise click.UsageError(str(error)) from None
        json.dump(report, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
