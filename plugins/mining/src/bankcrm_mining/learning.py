"""Training inside the platform: features of one feature run, outcomes read off a later one.

A bank's own history says what happened next, so a model is trained without anyone
labelling customers by hand, and point-in-time by construction: the features come from a
run as of date T (data before T only), the outcome from a run of the same branch as of a
later date. The outcomes:

- ``churn`` (存款流失): the customer's balance fell below :data:`CHURN_SHARE` of what it
  was, or they stopped transacting (some transactions in the 90 days before T, none in
  the 90 days before the later date);
- ``propensity`` (产品倾向): the customer holds more products of ``product_category`` at
  the later date than at T.

A training run is a job (``mining.train``): it evaluates the pipeline of
:mod:`.training` on a stratified hold-out, fits it on every customer, and registers the
result as a draft version (a second person approves it before it scores anyone) with
the hold-out metrics and the feature run's fingerprint. The run records its status, the
model it made or why it failed.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

import numpy as np
import pandas as pd
from msgspec import Struct

from bankcrm import audit, db, jobs
from bankcrm.context import require_scope
from bankcrm.web.pagination import Page, decode_cursor, encode_cursor
from bankcrm.web.problems import invalid, not_found
from bankcrm_mining import features, registry, segments, training

RUN = "mining_training_run"
ENTITY = "mining.training_run"
TRAIN_JOB = "mining.train"
CHURN_SHARE = 0.2
Outcome = Literal["churn", "propensity"]
PRODUCT_CATEGORIES = tuple(features.CATEGORIES)

COLUMNS = (
    "id, branch_id, name, task, product_category, feature_run, outcome_run, status, model,"
    " error, metrics, created_by, created_at, finished_at"
)


class TrainingRunOut(Struct):
    id: int
    branch_id: int
    name: str
    task: str
    product_category: str | None
    feature_run: int
    outcome_run: int
    status: str
    model: int | None
    error: str
    metrics: dict[str, Any]
    created_by: str
    created_at: datetime
    finished_at: datetime | None


def _out(row: Any) -> TrainingRunOut:
    values = dict(row)
    if isinstance(values["metrics"], str):
        values["metrics"] = json.loads(values["metrics"])
    return TrainingRunOut(**values)


def outcomes(
    task: Outcome, before: pd.DataFrame, after: pd.DataFrame, product_category: str | None
) -> pd.Series:
    """1 where the event happened between the two runs, for customers in both."""
    both = before.index.intersection(after.index)
    earlier, later = before.loc[both], after.loc[both]
    if task == "churn":
        balance_before = earlier["balance_last"].fillna(0.0)
        balance_after = later["balance_last"].fillna(0.0)
        drained = (balance_before > 0) & (balance_after < CHURN_SHARE * balance_before)
        stopped = (earlier["frequency_90d"] > 0) & (later["frequency_90d"] == 0)
        event = drained | stopped
    else:
        column = f"held_{product_category}"
        event = later[column].fillna(0.0) > earlier[column].fillna(0.0)
    return event.astype(np.int8)


async def start_training(
    name: str,
    task: Outcome,
    feature_run_id: int,
    outcome_run_id: int,
    product_category: str | None = None,
) -> TrainingRunOut:
    """Queue the training of ``name`` on a feature run, with outcomes off a later run."""
    if task == "propensity" and product_category not in PRODUCT_CATEGORIES:
        raise invalid("/body/product_category", f"one of {list(PRODUCT_CATEGORIES)} for propensity")
    if task == "churn" and product_category is not None:
        raise invalid("/body/product_category", "only a propensity model has a product category")
    source = await features.get_run(feature_run_id)
    outcome = await features.get_run(outcome_run_id)
    if outcome.branch_id != source.branch_id:
        raise invalid("/body/outcome_run_id", "the outcome run must be of the feature run's branch")
    if outcome.as_of <= source.as_of:
        raise invalid("/body/outcome_run_id", "the outcome run must be as of a later date")
    needed = {"balance_last", "frequency_90d"} if task == "churn" else {f"held_{product_category}"}
    for field, run in (("feature_run_id", source), ("outcome_run_id", outcome)):
        offered = {f for spec in run.definition.values() for f in spec["features"]}
        if needed - offered:
            raise invalid(
                f"/body/{field}", f"the run lacks the features {sorted(needed - offered)}"
            )
    scope = require_scope()
    async with db.transaction():
        row = await db.fetchrow(
            f"INSERT INTO {RUN} (branch_id, name, task, product_category, feature_run,"
            " outcome_run, status, error, metrics, created_by, created_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, 'queued', '', '{}', $7, now())"
            f" RETURNING {COLUMNS}",
            source.branch_id, name, task, product_category, feature_run_id, outcome_run_id,
            scope.actor,
        )  # fmt: skip
        assert row is not None
        await audit.record(
            audit.Action.CREATE, ENTITY, row["id"], branch_id=source.branch_id,
            after={"name": name, "task": task, "feature_run": feature_run_id,
                   "outcome_run": outcome_run_id, "product_category": product_category},
        )  # fmt: skip
        await jobs.enqueue(TRAIN_JOB, row["id"])
    return _out(row)


async def run_training(run_id: int) -> TrainingRunOut:
    """Train a queued run (the job's body); a finished or failed run is left as it is.
    Data that cannot train a model (too few events, no informative feature) fails the
    run with the reason, for staff to read, rather than the job."""
    async with db.transaction():
        row = await db.fetchrow(f"SELECT {COLUMNS} FROM {RUN} WHERE id = $1 FOR UPDATE", run_id)
        if row is None:
            raise not_found(f"training run {run_id}")
        if row["status"] != "queued":
            return _out(row)
        before = await features.feature_frame(row["feature_run"])
        after = await features.feature_frame(row["outcome_run"])
        y = outcomes(row["task"], before, after, row["product_category"])
        frame = before.loc[y.index]
        data = training.Prepared(frame[training.usable_columns(frame)], y.to_numpy(), None)
        try:
            report = training.evaluate(data, task=row["task"])
            card = training.fit_scorecard(data.features, data.y)
        except training.TrainingError as error:
            failed = await db.fetchrow(
                f"UPDATE {RUN} SET status = 'failed', error = $2, finished_at = now()"
                f" WHERE id = $1 RETURNING {COLUMNS}",
                run_id, str(error)[:500],
            )  # fmt: skip
            return _out(failed)
        holdout = report["holdout"]
        metrics = {k: float(holdout[k]) for k in ("roc_auc", "ks", "brier") if k in holdout}
        metrics |= {"cases": float(len(data.y)), "event_rate": float(data.y.mean())}
        run = await features.get_run(row["feature_run"])
        model = await registry.register_model(
            registry.ModelIn(
                name=row["name"], task=row["task"], kind="scorecard", spec=card.spec(),
                features=card.features, metrics=metrics, data_fingerprint=run.fingerprint,
                description=_description(row, run.as_of.isoformat()),
            )
        )  # fmt: skip
        done = await db.fetchrow(
            f"UPDATE {RUN} SET status = 'done', model = $2, metrics = $3, finished_at = now()"
            f" WHERE id = $1 RETURNING {COLUMNS}",
            run_id, model.id, db.jsonb({**metrics, "top_reasons": report["top_reasons"][:5]}),
        )  # fmt: skip
    return _out(done)


def _description(row: Any, as_of: str) -> str:
    what = "存款流失" if row["task"] == "churn" else f"{row['product_category']} 类产品倾向"
    return (
        f"{what}模型：特征快照 {row['feature_run']}（{as_of}），结果取自快照 {row['outcome_run']}"
    )


async def get_training(run_id: int) -> TrainingRunOut:
    row = await db.fetchrow(f"SELECT {COLUMNS} FROM {RUN} WHERE id = $1", run_id)
    if row is None:
        raise not_found(f"training run {run_id}")
    return _out(row)


async def list_trainings(limit: int = 50, cursor: str | None = None) -> Page[TrainingRunOut]:
    after = decode_cursor(cursor, (int,))
    rows = await db.fetch(
        f"SELECT {COLUMNS} FROM {RUN} WHERE ($1::bigint IS NULL OR id < $1)"
        " ORDER BY id DESC LIMIT $2",
        after[0] if after else None, limit + 1,
    )  # fmt: skip
    items = [_out(r) for r in rows[:limit]]
    return Page(items, encode_cursor([items[-1].id]) if len(rows) > limit else None)


async def train_segmentation(name: str, feature_run_id: int) -> registry.ModelOut:
    """Register a draft segmentation of a feature run's customers (k-means, 3 to 6
    segments described in words)."""
    from bankcrm_mining.scoring import FEATURE_LABELS

    run = await features.get_run(feature_run_id)
    frame = await features.feature_frame(feature_run_id)
    try:
        spec = segments.fit(frame, FEATURE_LABELS)
    except ValueError as error:
        raise invalid("/body/feature_run_id", str(error)) from None
    return await registry.register_model(
        registry.ModelIn(
            name=name, task="segmentation", kind="kmeans", spec=spec, features=spec["features"],
            metrics={"silhouette": spec["silhouette"], "segments": float(len(spec["centroids"])),
                     "customers": float(len(frame))},
            data_fingerprint=run.fingerprint,
            description=f"客户分群：特征快照 {feature_run_id}（{run.as_of.isoformat()}），"
            f"{len(spec['centroids'])} 个客群",
        )
    )  # fmt: skip
