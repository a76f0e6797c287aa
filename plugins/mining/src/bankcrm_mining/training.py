"""Training: WOE binning and logistic regression, exported as a points table.

Every task (credit scorecard, card default, deposit churn, product propensity) is a binary
event learned the same way, because a bank must be able to read and challenge the model:

1. each feature is cut into at most ``max_bins`` bins by a shallow decision tree (numbers
   into ranges; categories grouped by their event rate; missing values in a bin of their
   own), each bin holding at least ``min_share`` of the rows;
2. each bin's weight of evidence (WOE, the log of the event share over the non-event
   share, smoothed) replaces the raw value; features with an information value below
   ``min_iv`` are dropped;
3. a logistic regression over the WOE columns, dropping any feature whose coefficient
   comes out negative (a bin with more events must never earn more points);
4. the coefficients become points on the usual scale (600 points at odds 50:1, 20 points
   to double the odds): ``base_points`` plus one number per bin. A higher score means a
   lower probability of the event.

The model leaves this module only as that points table (:class:`Scorecard`, a dict for
the registry): scoring, reason codes and evaluation all read the table, so what is
evaluated is exactly what is registered and what scores customers.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.stats import chi2_contingency
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score, roc_curve
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.tree import DecisionTreeClassifier

Task = Literal["scorecard", "default", "churn", "propensity"]
TASKS: tuple[Task, ...] = ("scorecard", "default", "churn", "propensity")
PDO = 20.0
"""Points to double the odds."""
BASE_SCORE = 600.0
BASE_ODDS = 50.0
"""Non-event to event odds at ``BASE_SCORE``."""
FACTOR = PDO / math.log(2)
OFFSET = BASE_SCORE - FACTOR * math.log(BASE_ODDS)
EVENT_WORDS = frozenset({"1", "yes", "y", "true", "bad", "是", "违约", "流失"})
NON_EVENT_WORDS = frozenset({"0", "no", "n", "false", "good", "否", "正常", "未流失"})


class TrainingError(ValueError):
    """The data cannot train a model; the message says why."""


@dataclass(frozen=True)
class CostMatrix:
    """The cost of a missed event (a bad loan accepted) and of a false alarm (a good
    applicant refused), per case."""

    missed_event: float
    false_alarm: float

    @property
    def threshold(self) -> float:
        """The event probability above which flagging costs less than not flagging."""
        return self.false_alarm / (self.false_alarm + self.missed_event)

    @classmethod
    def parse(cls, text: str) -> CostMatrix:
        """``"5,1"``: missed event, false alarm."""
        try:
            missed, false_alarm = (float(part) for part in text.split(","))
        except ValueError:
            raise TrainingError(
                "the cost matrix is two numbers: cost of a missed event, cost of a false alarm"
            ) from None
        if missed <= 0 or false_alarm <= 0:
            raise TrainingError("costs must be positive")
        return cls(missed, false_alarm)


@dataclass(frozen=True)
class TrainingOptions:
    max_bins: int = 6
    min_share: float = 0.05
    min_iv: float = 0.02
    max_features: int = 30
    regularisation: float = 1.0
    merge_alpha: float = 0.05
    """Neighbouring bins merge unless their event rates differ at this significance."""


@dataclass
class Scorecard:
    """A trained model as data: what the registry stores as a ``scorecard`` spec."""

    base_points: float
    points: list[dict[str, Any]]
    """``{"feature", "bin", "points", "woe", "count", "events"}`` per bin."""
    features: list[str]
    information_value: dict[str, float] = field(default_factory=dict)
    event_rate: float = 0.0
    score_distribution: dict[str, list[float]] | None = None
    """The training scores' deciles: the baseline of population stability."""

    def spec(self) -> dict[str, Any]:
        return {
            "base_points": self.base_points,
            "points": self.points,
            "scale": {"offset": OFFSET, "factor": FACTOR, "pdo": PDO, "base_score": BASE_SCORE,
                      "base_odds": BASE_ODDS},
            "information_value": self.information_value,
            "event_rate": self.event_rate,
            "score_distribution": self.score_distribution,
        }  # fmt: skip

    @classmethod
    def from_spec(cls, spec: dict[str, Any], features: Sequence[str]) -> Scorecard:
        return cls(
            base_points=float(spec["base_points"]),
            points=list(spec["points"]),
            features=list(features),
            information_value=dict(spec.get("information_value", {})),
            event_rate=float(spec.get("event_rate", 0.0)),
            score_distribution=spec.get("score_distribution"),
        )


# --- reading a table ----------------------------------------------------------------


def read_table(path: Path) -> pd.DataFrame:
    """A CSV (comma, semicolon, tab or pipe; UTF-8 or GB18030) or Parquet file."""
    if not path.is_file():
        raise TrainingError(f"{path}: no such file")
    if path.suffix.lower() in (".parquet", ".pq"):
        return pd.read_parquet(path)
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise TrainingError(f"{path}: neither UTF-8 nor GB18030 text")
    try:
        dialect = csv.Sniffer().sniff(text[:20000], delimiters=",;\t|")
        separator = dialect.delimiter
    except csv.Error:
        separator = ","
    frame = pd.read_csv(io.StringIO(text), sep=separator)
    if frame.shape[1] < 2:
        raise TrainingError(f"{path}: fewer than two columns")
    return frame


def event_vector(column: pd.Series, event: str | None = None) -> np.ndarray:
    """The target as 0/1. ``event`` names the value that counts as the event; without
    it, a pair such as 1/0, yes/no, bad/good or 是/否 says which, and any other pair
    (German credit's 1/2, say) must be named."""
    values = column.dropna()
    if len(values) != len(column):
        raise TrainingError(f"target {column.name!r}: {len(column) - len(values)} rows empty")
    distinct = sorted({str(value).strip() for value in values.unique()})
    if len(distinct) != 2:
        raise TrainingError(f"target {column.name!r} must have two values, has {distinct[:10]}")
    if event is None:
        chosen = [value for value in distinct if value.lower() in EVENT_WORDS]
        others = [value for value in distinct if value.lower() in NON_EVENT_WORDS]
        if len(chosen) != 1 or len(others) != 1 or chosen == others:
            raise TrainingError(f"target {column.name!r}: name the event value ({distinct})")
        event = chosen[0]
    elif event not in distinct:
        raise TrainingError(f"target {column.name!r} has no value {event!r} ({distinct})")
    return (column.astype(str).str.strip() == event).to_numpy(dtype=np.int8)


def usable_columns(frame: pd.DataFrame) -> list[str]:
    """Columns that can be features: not constant, not an identifier (text unique in
    most rows)."""
    usable = []
    for name in frame.columns:
        column = frame[name]
        distinct = column.nunique(dropna=True)
        if distinct < 2:
            continue
        if not pd.api.types.is_numeric_dtype(column) and distinct > 0.5 * len(column):
            continue
        usable.append(str(name))
    return usable


# --- binning --------------------------------------------------------------------------


def _tree_cuts(values: np.ndarray, y: np.ndarray, options: TrainingOptions) -> list[float]:
    leaf = max(int(options.min_share * len(values)), 1)
    tree = DecisionTreeClassifier(
        max_leaf_nodes=options.max_bins, min_samples_leaf=leaf, random_state=0
    )
    tree.fit(values.reshape(-1, 1), y)
    internal = tree.tree_.children_left != tree.tree_.children_right
    return sorted(float(cut) for cut in tree.tree_.threshold[internal])


def _pair_p_value(first: tuple[float, float], second: tuple[float, float]) -> float:
    """How likely two bins' event rates differ only by chance (chi-squared, 2x2)."""
    table = np.array([[first[1], first[0] - first[1]], [second[1], second[0] - second[1]]])
    if (table.sum(axis=0) == 0).any() or (table.sum(axis=1) == 0).any():
        return 1.0
    return float(chi2_contingency(table)[1])


def _significant_cuts(
    cuts: list[float], bucket: np.ndarray, y: np.ndarray, alpha: float
) -> list[float]:
    """Merge neighbouring bins whose event rates do not differ significantly, the least
    different pair first (ChiMerge): a tree alone splits noise too, which would give a
    useless feature points and an inflated information value."""
    cuts = list(cuts)
    while cuts:
        counts = np.bincount(bucket, minlength=len(cuts) + 1).astype(float)
        events = np.bincount(bucket, weights=y, minlength=len(cuts) + 1)
        p_values = [
            _pair_p_value((counts[i], events[i]), (counts[i + 1], events[i + 1]))
            for i in range(len(cuts))
        ]
        weakest = int(np.argmax(p_values))
        if p_values[weakest] <= alpha:
            break
        del cuts[weakest]
        bucket = np.where(bucket > weakest, bucket - 1, bucket)
    return cuts


def _ordered_cuts(values: np.ndarray, y: np.ndarray, options: TrainingOptions) -> list[float]:
    cuts = _tree_cuts(values, y, options)
    bucket = np.searchsorted(np.asarray(cuts), values, side="right")
    return _significant_cuts(cuts, bucket, y, options.merge_alpha)


def fit_bins(column: pd.Series, y: np.ndarray, options: TrainingOptions) -> list[dict[str, Any]]:
    """Bins for one feature (registry bin shapes: ``{lo, hi}``, ``{values}``,
    ``{missing}``)."""
    missing = column.isna().to_numpy()
    present = column[~missing]
    bins: list[dict[str, Any]] = []
    if len(present):
        if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
            numbers = present.to_numpy(dtype=float)
            edges: list[float | None] = [None, *_ordered_cuts(numbers, y[~missing], options), None]
            bins = [{"lo": lo, "hi": hi} for lo, hi in pairwise(edges)]
        else:
            labels = present.astype(str)
            stats = pd.DataFrame({"c": labels.to_numpy(), "y": y[~missing]}).groupby("c")["y"]
            prior = float(y.mean())
            rate = (stats.sum() + 10 * prior) / (stats.count() + 10)
            order = list(rate.sort_values(kind="stable").index)
            rank = labels.map({label: i for i, label in enumerate(order)}).to_numpy(dtype=float)
            cuts = _ordered_cuts(rank, y[~missing], options)
            groups = np.searchsorted(np.asarray(cuts), np.arange(len(order)), side="left")
            bins = [
                {"values": [order[i] for i in range(len(order)) if groups[i] == group]}
                for group in range(len(cuts) + 1)
            ]
    if missing.any():
        bins.append({"missing": True})
    return bins


def bin_index(column: pd.Series, bins: Sequence[dict[str, Any]]) -> np.ndarray:
    """Which bin each value falls in; -1 where none does (an unseen category, or a
    missing value when training saw none): such a value scores neutral (0 points)."""
    index = np.full(len(column), -1, dtype=np.int64)
    missing = column.isna().to_numpy()
    texts: np.ndarray | None = None
    numbers: np.ndarray | None = None
    numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
    for i, shape in enumerate(bins):
        if shape.get("missing"):
            hit = missing
        elif "values" in shape:
            wanted = shape["values"]
            if numeric and all(isinstance(v, int | float) for v in wanted):
                # 1 and 1.0 are the same category; their texts are not.
                if numbers is None:
                    numbers = pd.to_numeric(column, errors="coerce").to_numpy(
                        dtype=float, na_value=np.nan
                    )
                hit = np.isin(numbers, np.asarray(wanted, dtype=float)) & ~missing
            else:
                if texts is None:
                    texts = column.astype(str).to_numpy()
                hit = np.isin(texts, [str(v) for v in wanted]) & ~missing
        else:
            if numbers is None:
                numbers = pd.to_numeric(column, errors="coerce").to_numpy(
                    dtype=float, na_value=np.nan
                )
            lo, hi = shape.get("lo"), shape.get("hi")
            hit = ~np.isnan(numbers)
            if lo is not None:
                hit &= numbers >= lo
            if hi is not None:
                hit &= numbers < hi
        index[hit & (index < 0)] = i
    return index


def _woe(counts: np.ndarray, events: np.ndarray) -> np.ndarray:
    non_events = counts - events
    event_share = (events + 0.5) / (events.sum() + 0.5)
    non_event_share = (non_events + 0.5) / (non_events.sum() + 0.5)
    return np.log(event_share / non_event_share)


# --- fitting --------------------------------------------------------------------------


@dataclass
class _Feature:
    name: str
    bins: list[dict[str, Any]]
    woe: np.ndarray
    counts: np.ndarray
    events: np.ndarray
    iv: float
    column: np.ndarray
    """The WOE value of each training row."""


def _prepare(name: str, column: pd.Series, y: np.ndarray, options: TrainingOptions) -> _Feature:
    bins = fit_bins(column, y, options)
    index = bin_index(column, bins)
    counts = np.bincount(index[index >= 0], minlength=len(bins)).astype(float)
    events = np.bincount(index[index >= 0], weights=y[index >= 0], minlength=len(bins))
    woe = _woe(counts, events)
    event_share = events / max(events.sum(), 1)
    non_event_share = (counts - events) / max((counts - events).sum(), 1)
    iv = float(np.sum((event_share - non_event_share) * woe))
    rows = np.where(index >= 0, woe[np.clip(index, 0, None)], 0.0)
    return _Feature(name, bins, woe, counts, events, iv, rows)


def check_events(y: np.ndarray, least: int = 10) -> None:
    events = int(y.sum())
    if events < least or len(y) - events < least:
        raise TrainingError(f"too few events ({events}) or non-events ({len(y) - events}) to train")


def fit_scorecard(
    frame: pd.DataFrame, y: np.ndarray, options: TrainingOptions | None = None
) -> Scorecard:
    """Train on ``frame`` (features only) and the 0/1 events ``y``."""
    options = options or TrainingOptions()
    if len(frame) != len(y):
        raise TrainingError("features and target differ in length")
    check_events(y)
    prepared = [_prepare(str(name), frame[name], y, options) for name in frame.columns]
    ranked = sorted((f for f in prepared if f.iv >= options.min_iv), key=lambda f: -f.iv)
    chosen = ranked[: options.max_features]
    if not chosen:
        raise TrainingError(
            f"no feature carries information about the target (IV >= {options.min_iv})"
        )
    while True:
        model = LogisticRegression(C=options.regularisation, max_iter=2000)
        model.fit(np.column_stack([f.column for f in chosen]), y)
        coefficients = model.coef_[0]
        negative = [f for f, c in zip(chosen, coefficients, strict=True) if c <= 0]
        if not negative or len(chosen) == 1:
            break
        chosen = [f for f in chosen if f not in negative]
    intercept = float(model.intercept_[0])
    points: list[dict[str, Any]] = []
    for feature, coefficient in zip(chosen, coefficients, strict=True):
        for shape, woe, count, event in zip(
            feature.bins, feature.woe, feature.counts, feature.events, strict=True
        ):
            points.append({
                "feature": feature.name, "bin": shape,
                "points": round(-FACTOR * float(coefficient) * float(woe)),
                "woe": round(float(woe), 4), "count": int(count), "events": int(event),
            })  # fmt: skip
    card = Scorecard(
        base_points=round(OFFSET - FACTOR * intercept),
        points=points,
        features=[f.name for f in chosen],
        information_value={f.name: round(f.iv, 4) for f in chosen},
        event_rate=round(float(y.mean()), 6),
    )
    card.score_distribution = score_distribution(score_frame(card, frame, reasons=0).score)
    return card


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index of two distributions over the same bins (counts or
    shares; an empty bin counts as half a case so the logarithm stays finite)."""
    e = (expected + 0.5) / (expected.sum() + 0.5 * len(expected))
    a = (actual + 0.5) / (actual.sum() + 0.5 * len(actual))
    return float(np.sum((a - e) * np.log(a / e)))


def score_distribution(scores: np.ndarray, bands: int = 10) -> dict[str, list[float]]:
    """Decile edges of a set of scores and the share in each: the baseline a later run's
    scores are compared with."""
    edges = sorted(set(np.quantile(scores, np.linspace(0, 1, bands + 1)[1:-1]).round(6)))
    counts = np.bincount(np.searchsorted(edges, scores, side="right"), minlength=len(edges) + 1)
    return {"edges": [float(e) for e in edges], "shares": (counts / counts.sum()).tolist()}


# --- scoring --------------------------------------------------------------------------


@dataclass(frozen=True)
class Scored:
    score: np.ndarray
    probability: np.ndarray
    reasons: list[list[str]]


def describe_bin(shape: dict[str, Any]) -> str:
    """A bin in words a credit officer reads: ``25 – 30``, ``< 25``, ``a, b``, ``缺失``."""
    if shape.get("missing"):
        return "缺失"
    if "values" in shape:
        return "、".join(str(v) for v in shape["values"])
    lo, hi = shape.get("lo"), shape.get("hi")
    if lo is None:
        return "全部" if hi is None else f"< {hi:g}"
    return f"≥ {lo:g}" if hi is None else f"{lo:g} – {hi:g}"


def score_frame(
    card: Scorecard, frame: pd.DataFrame, *, reasons: int = 3, labels: dict[str, str] | None = None
) -> Scored:
    """Score every row: points, event probability and the top ``reasons`` factors that
    pull the score down (the features whose points fall furthest below their best bin),
    in words."""
    labels = labels or {}
    total = np.full(len(frame), float(card.base_points))
    lost_columns: list[np.ndarray] = []
    bins: list[np.ndarray] = []
    texts: list[list[str]] = []
    for feature in card.features:
        entries = [entry for entry in card.points if entry["feature"] == feature]
        values = np.array([float(entry["points"]) for entry in entries])
        if feature in frame.columns:
            index = bin_index(frame[feature], [entry["bin"] for entry in entries])
        else:
            index = np.full(len(frame), -1)
        bins.append(index)
        earned = np.where(index >= 0, values[np.clip(index, 0, None)], 0.0)
        total += earned
        lost_columns.append(max(values.max(), 0.0) - earned)
        name = labels.get(feature, feature)
        texts.append(
            [f"{name}：{describe_bin(entry['bin'])}" for entry in entries] + [f"{name}：未知"]
        )
    probability = 1.0 / (1.0 + np.exp(-(OFFSET - total) / FACTOR))
    explained: list[list[str]] = []
    if lost_columns and reasons:
        lost = np.column_stack(lost_columns)
        top = np.argsort(-lost, axis=1, kind="stable")[:, :reasons]
        for row in range(len(frame)):
            explained.append([
                texts[j][bins[j][row]] for j in top[row] if lost[row, j] > 0
            ])  # fmt: skip
    else:
        explained = [[] for _ in range(len(frame))]
    return Scored(total, probability, explained)


# --- evaluation -----------------------------------------------------------------------


def metrics(
    y: np.ndarray, probability: np.ndarray, cost: CostMatrix | None = None
) -> dict[str, Any]:
    """ROC AUC, KS, Brier score, event rate, a ten-bin calibration table and, given a
    cost matrix, the expected cost per case at the cost-minimising threshold."""
    out: dict[str, Any] = {"cases": len(y), "events": int(y.sum())}
    if 0 < y.sum() < len(y):
        fpr, tpr, _ = roc_curve(y, probability)
        out["roc_auc"] = round(float(roc_auc_score(y, probability)), 4)
        out["gini"] = round(2 * out["roc_auc"] - 1, 4)
        out["ks"] = round(float(np.max(tpr - fpr)), 4)
    out["brier"] = round(float(brier_score_loss(y, probability)), 4)
    order = np.argsort(probability, kind="stable")
    calibration = []
    for part in np.array_split(order, 10):
        if len(part):
            calibration.append({
                "predicted": round(float(probability[part].mean()), 4),
                "observed": round(float(y[part].mean()), 4), "cases": len(part),
            })  # fmt: skip
    out["calibration"] = calibration
    if cost is not None:
        flagged = probability >= cost.threshold
        missed = int(np.sum(~flagged & (y == 1)))
        false_alarms = int(np.sum(flagged & (y == 0)))
        out["threshold"] = round(cost.threshold, 4)
        out["expected_cost"] = round(
            (cost.missed_event * missed + cost.false_alarm * false_alarms) / len(y), 4
        )
        out["missed_events"] = missed
        out["false_alarms"] = false_alarms
    return out


def top_reasons(scored: Scored, limit: int = 10) -> list[dict[str, Any]]:
    """The reason codes given most often, with how many cases got each."""
    counts: dict[str, int] = {}
    for reasons in scored.reasons:
        for reason in reasons:
            counts[reason] = counts.get(reason, 0) + 1
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return [{"reason": reason, "cases": cases} for reason, cases in ranked]


def points_table(card: Scorecard) -> list[dict[str, Any]]:
    """The points table as rows a credit officer reads."""
    return [
        {"feature": entry["feature"], "bin": describe_bin(entry["bin"]), "points": entry["points"],
         "woe": entry["woe"], "cases": entry["count"], "events": entry["events"]}
        for entry in card.points
    ]  # fmt: skip


@dataclass(frozen=True)
class Prepared:
    features: pd.DataFrame
    y: np.ndarray
    order: np.ndarray | None
    """Row positions in time order when a time column was given."""


def prepare(
    frame: pd.DataFrame,
    target: str,
    *,
    event: str | None = None,
    time_column: str | None = None,
    drop: Iterable[str] = (),
) -> Prepared:
    """Split a table into features and the 0/1 target, naming any missing column."""
    for name in (target, time_column, *drop):
        if name is not None and name not in frame.columns:
            raise TrainingError(
                f"no column {name!r} (columns: {', '.join(map(str, frame.columns))})"
            )
    y = event_vector(frame[target], event)
    order = None
    if time_column is not None:
        moments = pd.to_datetime(frame[time_column], errors="coerce")
        if moments.isna().all():
            moments = pd.to_numeric(frame[time_column], errors="coerce")
        if moments.isna().any():
            raise TrainingError(
                f"time column {time_column!r}: {int(moments.isna().sum())} rows unreadable"
            )
        order = np.argsort(moments.to_numpy(), kind="stable")
    excluded = {target, *(c for c in (time_column,) if c), *drop}
    features = frame[[c for c in usable_columns(frame) if c not in excluded]]
    if features.empty:
        raise TrainingError("no usable feature columns")
    return Prepared(features, y, order)


def evaluate(
    data: Prepared,
    *,
    task: Task,
    cost: CostMatrix | None = None,
    options: TrainingOptions | None = None,
    test_share: float = 0.3,
    seed: int = 42,
) -> dict[str, Any]:
    """Train on one part and report on the rest: a stratified hold-out, and a
    time-ordered split (train on the earliest rows, test on the latest) when the data has
    a time order. The held-out figures, the points table and the most frequent reasons."""
    check_events(data.y, least=20)
    positions = np.arange(len(data.y))
    train, test = train_test_split(
        positions, test_size=test_share, stratify=data.y, random_state=seed
    )
    card = fit_scorecard(data.features.iloc[train], data.y[train], options)
    scored = score_frame(card, data.features.iloc[test])
    report: dict[str, Any] = {
        "task": task,
        "rows": len(data.y),
        "event_rate": round(float(data.y.mean()), 4),
        "features_offered": list(map(str, data.features.columns)),
        "features_used": card.features,
        "information_value": card.information_value,
        "holdout": metrics(data.y[test], scored.probability, cost),
        "base_points": card.base_points,
        "points_table": points_table(card),
        "top_reasons": top_reasons(scored),
    }
    if data.order is not None:
        cut = int(len(data.order) * (1 - test_share))
        early, late = data.order[:cut], data.order[cut:]
        timed = fit_scorecard(data.features.iloc[early], data.y[early], options)
        report["time_ordered"] = metrics(
            data.y[late], score_frame(timed, data.features.iloc[late], reasons=0).probability, cost
        )
    return report


def cross_validate(
    data: Prepared,
    *,
    folds: int = 10,
    cost: CostMatrix | None = None,
    options: TrainingOptions | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """``folds``-fold stratified cross-validation: the pooled out-of-fold metrics (as
    StatLog reported German credit's expected cost)."""
    probability = np.zeros(len(data.y))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(np.zeros(len(data.y)), data.y):
        card = fit_scorecard(data.features.iloc[train], data.y[train], options)
        probability[test] = score_frame(card, data.features.iloc[test], reasons=0).probability
    return metrics(data.y, probability, cost)
