"""Scores: batch scoring runs, on-demand scores, reason codes and population stability.

A scoring run applies one approved model version to one feature run: every customer of
the feature run gets a score, the event probability, a band and the top reasons in words,
stored with the model version (``mining_score``, in the customer's branch). The run is a
job (``mining.score``): queued after the request commits, written in chunks, and safe to
run twice (each customer's score is written once per run). After scoring, the run
compares the population with the one the model was trained on — the population
stability index (PSI) of each feature's bins and of the score — and notifies the person
who started it and the model's maker when one exceeds :data:`PSI_ALERT`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from msgspec import Struct

import bankcrm.organisation.service as organisation
from bankcrm import audit, db, jobs
from bankcrm.context import require_scope
from bankcrm.notifications import (
    NotificationSource,
    NotificationTemplate,
    able_to_receive,
    notify,
)
from bankcrm.web.pagination import Page, decode_cursor, encode_cursor
from bankcrm.web.problems import FieldError, Problem, invalid, not_found
from bankcrm_mining import features, registry, segments, training

RUN = "mining_scoring_run"
SCORE = "mining_score"
ENTITY = "mining.scoring_run"
SCORE_JOB = "mining.score"
STABILITY_ALERT = "mining.stability_alert"
PSI_ALERT = 0.25
"""Above this a population has shifted enough to question the model (the usual rule:
under 0.1 stable, 0.1–0.25 watch, above 0.25 act)."""
CHUNK = 20_000
BANDS = ((0.02, "A"), (0.05, "B"), (0.10, "C"), (0.20, "D"), (math.inf, "E"))
"""Bands by event probability: A the least likely, E the most."""
BAND_TITLES = {"A": "很低", "B": "较低", "C": "中等", "D": "较高", "E": "很高"}

FEATURE_LABELS: dict[str, str] = {
    "recency_days": "距最近交易天数",
    **{f"frequency_{w}d": f"近{w}天交易笔数" for w in features.WINDOWS},
    **{f"monetary_{w}d": f"近{w}天交易金额" for w in features.WINDOWS},
    **{f"inflow_{w}d": f"近{w}天流入" for w in features.WINDOWS},
    **{f"outflow_{w}d": f"近{w}天流出" for w in features.WINDOWS},
    "balance_last": "最新余额",
    "balance_trend_90d": "近90天余额变化",
    "tenure_days": "开户天数",
    "product_count": "持有产品数",
    "held_deposit": "持有存款产品数",
    "held_loan": "持有贷款产品数",
    "held_card": "持有银行卡数",
    "held_wealth": "持有理财产品数",
    "held_other": "持有其他产品数",
}
"""Feature names in the words staff read in reason codes."""

TEMPLATES: tuple[NotificationTemplate, ...] = (
    NotificationTemplate(
        key=STABILITY_ALERT,
        category="mining",
        title_zh="模型「$model」人群稳定性告警：PSI $psi",
        body_zh="模型「$model」第 $version 版评分批次 $run 的人群与训练时差异较大"
        "（$worst 的 PSI 为 $psi，阈值 $threshold），请复核模型是否仍然适用。",
        title_en="Model $model: population shift, PSI $psi",
        body_en="Scoring run $run of model $model version $version sees a population unlike "
        "the one it was trained on ($worst has PSI $psi, threshold $threshold): review "
        "whether the model still applies.",
    ),
)


class ScoringRunOut(Struct):
    id: int
    branch_id: int
    model: int
    feature_run: int
    status: str
    customers: int
    stability: dict[str, Any]
    alerted: bool
    created_by: str
    created_at: datetime
    finished_at: datetime | None


class ScoreOut(Struct):
    customer: int
    model: int
    model_name: str
    model_version: int
    score: int
    probability: float
    band: str
    band_title: str
    reasons: list[str]
    scored_at: datetime | None
    run: int | None


RUN_COLUMNS = (
    "id, branch_id, model, feature_run, status, customers, stability, alerted, created_by,"
    " created_at, finished_at"
)


def _run_out(row: Any) -> ScoringRunOut:
    values = dict(row)
    if isinstance(values["stability"], str):
        values["stability"] = json.loads(values["stability"])
    return ScoringRunOut(**values)


def band_of(probability: float) -> str:
    return next(band for limit, band in BANDS if probability < limit)


SCORED_KINDS = ("scorecard", "kmeans")


def check_scorable(model: registry.ModelOut) -> None:
    if model.kind not in SCORED_KINDS:
        raise Problem(
            409, "only points-table and segmentation models score customers",
            [FieldError("kind", model.kind)], "not_scorable",
        )  # fmt: skip


@dataclass(frozen=True)
class Applied:
    score: np.ndarray
    probability: np.ndarray
    bands: list[str]
    reasons: list[list[str]]
    segments: np.ndarray | None = None
    """Each row's segment index (segmentation models)."""


def apply(model: registry.ModelOut, frame: pd.DataFrame) -> Applied:
    """A model's output for every row: points, probability, band and reasons of a
    scorecard; segment number, closeness, letter and description of a segmentation."""
    check_scorable(model)
    if model.kind == "kmeans":
        nearest, distance = segments.assign(model.spec, frame)
        described = model.spec["segments"]
        return Applied(
            score=nearest + 1,
            probability=1.0 / (1.0 + distance),
            bands=[segments.LETTERS[i] for i in nearest],
            reasons=[[described[i]["zh"]] for i in nearest],
            segments=nearest,
        )
    card = training.Scorecard.from_spec(model.spec, model.features)
    scored = training.score_frame(card, frame, labels=FEATURE_LABELS)
    return Applied(
        score=np.round(scored.score).astype(int),
        probability=scored.probability,
        bands=[band_of(float(p)) for p in scored.probability],
        reasons=scored.reasons,
    )


def band_title(kind: str, spec: Mapping[str, Any], band: str) -> str:
    """A band in words: a scorecard's likelihood of the event, a segment's description."""
    if kind == "kmeans":
        described = spec.get("segments", [])
        index = segments.LETTERS.find(band)
        return str(described[index]["zh"]) if 0 <= index < len(described) else band
    return BAND_TITLES.get(band, band)


# --- population stability ---------------------------------------------------------------


def stability(
    card: training.Scorecard, frame: pd.DataFrame, scores: np.ndarray, baseline: dict[str, Any]
) -> dict[str, Any]:
    """PSI of each feature against its training bins (when the model kept their counts)
    and of the score against ``baseline`` (``score_distribution`` of training or of the
    model's first run)."""
    by_feature: dict[str, float] = {}
    for feature in card.features:
        entries = [e for e in card.points if e["feature"] == feature]
        if feature not in frame.columns or not all("count" in e for e in entries):
            continue
        index = training.bin_index(frame[feature], [e["bin"] for e in entries])
        actual = np.bincount(index[index >= 0], minlength=len(entries)).astype(float)
        by_feature[feature] = round(
            training.psi(np.array([e["count"] for e in entries], float), actual), 4
        )
    out: dict[str, Any] = {"features": by_feature, "score": None}
    if baseline.get("edges") is not None and len(scores):
        edges = baseline["edges"]
        actual = np.bincount(np.searchsorted(edges, scores, side="right"), minlength=len(edges) + 1)
        out["score"] = round(
            training.psi(np.asarray(baseline["shares"]) * 1000, actual.astype(float)), 4
        )
    return out


# --- runs -----------------------------------------------------------------------------


async def start_run(model_id: int, feature_run_id: int) -> ScoringRunOut:
    """Queue the scoring of a feature run's customers by an approved model version. The
    same pair asked again answers the run already made."""
    model = await registry.get_model(model_id)
    if model.status != "approved":
        raise Problem(
            409, "only an approved version scores production data (maker-checker)",
            [FieldError("status", model.status)], "not_approved",
        )  # fmt: skip
    check_scorable(model)
    feature_run = await features.get_run(feature_run_id)
    offered = {f for spec in feature_run.definition.values() for f in spec["features"]}
    missing = sorted(set(model.features) - offered)
    if missing:
        raise invalid(
            "/body/feature_run_id", f"the feature run lacks the model's features {missing}"
        )
    actor = require_scope().actor
    async with db.transaction():
        row = await db.fetchrow(
            f"INSERT INTO {RUN} (branch_id, model, feature_run, status, customers, stability,"
            " alerted, created_by, created_at) VALUES ($1, $2, $3, 'queued', 0, '{}', false,"
            " $4, now()) ON CONFLICT (model, feature_run) DO NOTHING"
            f" RETURNING {RUN_COLUMNS}",
            feature_run.branch_id, model_id, feature_run_id, actor,
        )  # fmt: skip
        if row is None:
            existing = await db.fetchrow(
                f"SELECT {RUN_COLUMNS} FROM {RUN} WHERE model = $1 AND feature_run = $2",
                model_id, feature_run_id,
            )  # fmt: skip
            assert existing is not None  # the run is in the feature run's branch: visible
            return _run_out(existing)
        await audit.record(
            audit.Action.CREATE, ENTITY, row["id"], branch_id=feature_run.branch_id,
            after={"model": model_id, "model_name": model.name, "version": model.version,
                   "feature_run": feature_run_id},
        )  # fmt: skip
        await jobs.enqueue(SCORE_JOB, row["id"])
    return _run_out(row)


async def _baseline(model: registry.ModelOut, run_id: int) -> dict[str, Any]:
    stored = model.spec.get("score_distribution")
    if stored:
        return dict(stored)
    first = await db.fetchval(
        f"SELECT stability -> 'distribution' FROM {RUN} WHERE model = $1 AND status = 'done'"
        " AND id <> $2 ORDER BY id LIMIT 1",
        model.id, run_id,
    )  # fmt: skip
    return json.loads(first) if isinstance(first, str) else dict(first or {})


async def run_scoring(run_id: int) -> ScoringRunOut:
    """Score a queued run (the job's body); a finished run is left as it is."""
    async with db.transaction():
        row = await db.fetchrow(f"SELECT {RUN_COLUMNS} FROM {RUN} WHERE id = $1 FOR UPDATE", run_id)
        if row is None:
            raise not_found(f"scoring run {run_id}")
        if row["status"] == "done":
            return _run_out(row)
        model = await registry.get_model(row["model"])
        frame = await features.feature_frame(row["feature_run"])
        branches = dict(
            await db.fetch(
                "SELECT customer, branch_id FROM mining_feature_value WHERE run = $1",
                row["feature_run"],
            )
        )
        applied = apply(model, frame)
        customers = [int(c) for c in frame.index]
        for start in range(0, len(customers), CHUNK):
            part = slice(start, start + CHUNK)
            await db.fetch(
                f"INSERT INTO {SCORE} (branch_id, run, model, model_name, model_version, customer,"
                " score, probability, band, reasons, scored_at)"
                " SELECT b, $1, $2, $3, $4, c, s, p, band, r::jsonb, now()"
                " FROM unnest($5::int[], $6::int[], $7::int[], $8::float8[], $9::text[],"
                " $10::text[]) AS u(b, c, s, p, band, r)"
                " ON CONFLICT (run, customer) DO NOTHING",
                run_id, model.id, model.name, model.version,
                [branches[c] for c in customers[part]], customers[part],
                [int(s) for s in applied.score[part]],
                [float(p) for p in applied.probability[part]],
                applied.bands[part],
                [json.dumps(r, ensure_ascii=False) for r in applied.reasons[part]],
            )  # fmt: skip
        if applied.segments is not None:
            sizes = [float(s["customers"]) for s in model.spec["segments"]]
            found = np.bincount(applied.segments, minlength=len(sizes)).astype(float)
            result: dict[str, Any] = {
                "features": {}, "segments": found.astype(int).tolist(),
                "score": round(training.psi(np.asarray(sizes), found), 4) if customers else None,
            }  # fmt: skip
        else:
            card = training.Scorecard.from_spec(model.spec, model.features)
            result = stability(card, frame, applied.score, await _baseline(model, run_id))
            result["distribution"] = (
                training.score_distribution(applied.score) if len(customers) else {}
            )
        shifts = {**result["features"], **({"score": result["score"]} if result["score"] else {})}
        worst = max(shifts.items(), key=lambda item: item[1], default=None)
        alerted = worst is not None and worst[1] > PSI_ALERT
        row = await db.fetchrow(
            f"UPDATE {RUN} SET status = 'done', customers = $2, stability = $3, alerted = $4,"
            f" finished_at = now() WHERE id = $1 RETURNING {RUN_COLUMNS}",
            run_id, len(customers), db.jsonb(result), alerted,
        )  # fmt: skip
        assert row is not None
        if alerted and worst is not None:
            await _alert(row, model, worst)
    return _run_out(row)


def _user_id(actor: str | None) -> int | None:
    if actor and actor.startswith("user:") and actor[5:].isdigit():
        return int(actor[5:])
    return None


async def _alert(row: Any, model: registry.ModelOut, worst: tuple[str, float]) -> None:
    """Tell whoever started the run and the model's maker; when neither can see the run's
    branch, its managers."""
    wanted = [u for u in (_user_id(row["created_by"]), _user_id(model.created_by)) if u]
    recipients = await able_to_receive(wanted, row["branch_id"])
    if not recipients:
        recipients = await organisation.branch_managers(row["branch_id"])
    if not recipients:
        return
    await notify(
        recipients, STABILITY_ALERT,
        {"model": model.name, "version": model.version, "run": row["id"],
         "worst": FEATURE_LABELS.get(worst[0], "评分" if worst[0] == "score" else worst[0]),
         "psi": f"{worst[1]:.2f}", "threshold": f"{PSI_ALERT:.2f}"},
        NotificationSource("mining", ENTITY, row["id"], row["branch_id"]),
    )  # fmt: skip


async def get_run(run_id: int) -> ScoringRunOut:
    row = await db.fetchrow(f"SELECT {RUN_COLUMNS} FROM {RUN} WHERE id = $1", run_id)
    if row is None:
        raise not_found(f"scoring run {run_id}")
    return _run_out(row)


async def list_runs(
    model_id: int | None = None, limit: int = 50, cursor: str | None = None
) -> Page[ScoringRunOut]:
    after = decode_cursor(cursor, (int,))
    rows = await db.fetch(
        f"SELECT {RUN_COLUMNS} FROM {RUN} WHERE ($1::bigint IS NULL OR model = $1)"
        " AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
        model_id, after[0] if after else None, limit + 1,
    )  # fmt: skip
    items = [_run_out(r) for r in rows[:limit]]
    return Page(items, encode_cursor([items[-1].id]) if len(rows) > limit else None)


# --- a customer's scores ----------------------------------------------------------------


def _score_out(row: Any) -> ScoreOut:
    reasons = row["reasons"]
    spec = json.loads(row["spec"]) if isinstance(row["spec"], str) else row["spec"]
    return ScoreOut(
        customer=row["customer"], model=row["model"], model_name=row["model_name"],
        model_version=row["model_version"], score=row["score"], probability=row["probability"],
        band=row["band"], band_title=band_title(row["kind"], spec, row["band"]),
        reasons=json.loads(reasons) if isinstance(reasons, str) else list(reasons),
        scored_at=row["scored_at"], run=row["run"],
    )  # fmt: skip


SCORE_COLUMNS = (
    "s.customer, s.model, s.model_name, s.model_version, s.score, s.probability, s.band,"
    " s.reasons, s.scored_at, s.run, m.kind, m.spec"
)
SCORED = f"{SCORE} s JOIN mining_model m ON m.id = s.model"


async def customer_scores(customer_id: int, *, checked: bool = False) -> list[ScoreOut]:
    """The newest stored score of each model for a customer (404 outside the scope;
    ``checked``: the caller, such as the 360 view, has already checked)."""
    if not checked:
        await _visible_customer(customer_id)
    rows = await db.fetch(
        f"SELECT DISTINCT ON (s.model_name) {SCORE_COLUMNS} FROM {SCORED} WHERE s.customer = $1"
        " ORDER BY s.model_name, s.scored_at DESC, s.id DESC",
        customer_id,
    )
    return [_score_out(r) for r in rows]


async def _visible_customer(customer_id: int) -> None:
    from bankcrm_customer_archive import services as archive

    if not await archive.customer_facts([customer_id]):
        raise not_found(f"customer {customer_id}")


async def score_customer(model_id: int, customer_id: int) -> ScoreOut:
    """Score one customer now with a model version on the newest features we hold for
    them (not stored: batch runs store scores)."""
    model = await registry.get_model(model_id)
    if model.status != "approved":
        raise Problem(
            409, "only an approved version scores production data (maker-checker)",
            [FieldError("status", model.status)], "not_approved",
        )  # fmt: skip
    check_scorable(model)
    await _visible_customer(customer_id)
    found = await features.customer_features(customer_id)
    frame = pd.DataFrame([found.values], columns=list(found.values) or model.features)
    applied = apply(model, frame.astype("float64"))
    band = applied.bands[0]
    return ScoreOut(
        customer=customer_id, model=model.id, model_name=model.name,
        model_version=model.version, score=int(applied.score[0]),
        probability=float(applied.probability[0]), band=band,
        band_title=band_title(model.kind, model.spec, band),
        reasons=applied.reasons[0], scored_at=None, run=None,
    )  # fmt: skip


async def band_changes(customer_id: int, before: datetime, limit: int) -> list[dict[str, Any]]:
    """Scorings of a customer whose band differs from the previous one of the same model
    (and each model's first), newest first: what the timeline shows."""
    rows = await db.fetch(
        f"SELECT * FROM (SELECT {SCORE_COLUMNS}, lag(s.band) OVER (PARTITION BY s.model_name"
        f" ORDER BY s.scored_at, s.id) AS previous FROM {SCORED} WHERE s.customer = $1) t"
        " WHERE previous IS DISTINCT FROM band AND scored_at < $2"
        " ORDER BY scored_at DESC LIMIT $3",
        customer_id, before, limit,
    )  # fmt: skip
    changes = []
    for row in rows:
        out = _score_out(row)
        changes.append({**dict(row), "reasons": out.reasons, "band_title": out.band_title,
                        "kind": row["kind"]})  # fmt: skip
    return changes


async def stored_probabilities(
    model_name: str, customer_ids: Sequence[int]
) -> dict[int, float] | None:
    """Each customer's newest stored event probability by the model ``model_name`` (what
    marketing targets a campaign by); None when no version of it is approved."""
    model = await registry.approved_model(model_name)
    if model is None or model.kind != "scorecard":
        return None
    rows = await db.fetch(
        f"SELECT DISTINCT ON (customer) customer, probability FROM {SCORE}"
        " WHERE model_name = $1 AND customer = ANY($2::int[])"
        " ORDER BY customer, scored_at DESC, id DESC",
        model_name, list(customer_ids),
    )  # fmt: skip
    return {r["customer"]: float(r["probability"]) for r in rows}
