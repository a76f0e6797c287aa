"""Customer segmentation: k-means clusters of a feature run, described in words.

Money features are taken as ``log(1 + x)`` (a few rich customers would otherwise be
clusters of their own), missing values as the median, every feature standardised. The
number of segments (3 to 6) is the one with the best silhouette on a sample. Each
segment is described by the features where its customers stand furthest from the bank's
average (“最新余额高、近90天交易笔数低”), so staff read what a segment is rather
than a number.

A model is the centres and the preprocessing as data (``kind`` ``kmeans``, task
``segmentation``); a scoring run assigns every customer the nearest centre (stored as the
band A–F, with the segment's description as the reasons).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score

LETTERS = "ABCDEF"
K_RANGE = range(3, 7)
SAMPLE = 10_000
LOG_PREFIXES = ("monetary", "inflow", "outflow", "balance_last")


def _logged(name: str) -> bool:
    return name.startswith(LOG_PREFIXES)


def _transform(frame: pd.DataFrame, spec: Mapping[str, Any]) -> np.ndarray:
    columns = []
    for feature in spec["features"]:
        values = (
            pd.to_numeric(frame[feature], errors="coerce")
            if feature in frame.columns
            else pd.Series(np.nan, index=frame.index)
        )
        values = values.fillna(spec["fill"][feature]).to_numpy(dtype=float)
        if feature in spec["logged"]:
            values = np.sign(values) * np.log1p(np.abs(values))
        columns.append((values - spec["center"][feature]) / spec["scale"][feature])
    return np.column_stack(columns)


def fit(frame: pd.DataFrame, labels: Mapping[str, str], seed: int = 0) -> dict[str, Any]:
    """A segmentation spec from a feature frame (one row per customer)."""
    usable = [c for c in frame.columns if frame[c].notna().any() and frame[c].nunique() > 1]
    if len(usable) < 2 or len(frame) < 50:
        raise ValueError("segmentation needs at least 50 customers and two varying features")
    spec: dict[str, Any] = {"features": usable, "fill": {}, "logged": [], "center": {}, "scale": {}}
    for feature in usable:
        values = frame[feature].astype(float)
        spec["fill"][feature] = float(values.median())
        filled = values.fillna(spec["fill"][feature]).to_numpy()
        if _logged(feature):
            spec["logged"].append(feature)
            filled = np.sign(filled) * np.log1p(np.abs(filled))
        spec["center"][feature] = float(filled.mean())
        spec["scale"][feature] = float(filled.std()) or 1.0
    matrix = _transform(frame, spec)
    rng = np.random.default_rng(seed)
    sample = matrix[rng.choice(len(matrix), min(SAMPLE, len(matrix)), replace=False)]
    best: tuple[float, KMeans] | None = None
    for k in K_RANGE:
        if k >= len(sample):
            break
        model = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(sample)
        quality = float(silhouette_score(sample, model.labels_))
        if best is None or quality > best[0]:
            best = (quality, model)
    assert best is not None
    quality, model = best
    assigned = model.predict(matrix)
    spec["centroids"] = model.cluster_centers_.round(6).tolist()
    spec["silhouette"] = round(quality, 4)
    spec["segments"] = _describe(matrix, usable, assigned, len(spec["centroids"]), labels)
    return spec


def _describe(
    matrix: np.ndarray,
    features: list[str],
    assigned: np.ndarray,
    k: int,
    labels: Mapping[str, str],
) -> list[dict[str, Any]]:
    """Each segment by the (standardised, money logged) features where its customers
    stand furthest from the bank's average, half a standard deviation at least."""
    described = []
    for segment in range(k):
        members = matrix[assigned == segment]
        distance = members.mean(axis=0) if len(members) else np.zeros(len(features))
        top = [
            i for i in np.argsort(-np.abs(distance), kind="stable")[:3] if abs(distance[i]) >= 0.5
        ]
        words_zh = [f"{labels.get(features[i], features[i])}{'高' if distance[i] > 0 else '低'}"
                    for i in top]  # fmt: skip
        words_en = [f"{'high' if distance[i] > 0 else 'low'} {features[i]}" for i in top]
        described.append({
            "letter": LETTERS[segment],
            "zh": "、".join(words_zh) or "接近全行平均",
            "en": ", ".join(words_en) or "close to the bank's average",
            "customers": len(members),
        })  # fmt: skip
    return described


def assign(spec: Mapping[str, Any], frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each row's segment index and its distance to the segment's centre."""
    matrix = _transform(frame, spec)
    centroids = np.asarray(spec["centroids"], dtype=float)
    distances = ((matrix[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2) ** 0.5
    nearest = distances.argmin(axis=1)
    return nearest, distances[np.arange(len(matrix)), nearest]


def check_spec(spec: Mapping[str, Any]) -> str | None:
    """What is wrong with a segmentation spec (the JSON pointer's tail), or None."""
    features = spec.get("features")
    if not isinstance(features, list) or not features:
        return "features"
    for key in ("fill", "center", "scale"):
        table = spec.get(key)
        if not isinstance(table, dict) or any(
            not isinstance(table.get(f), int | float) for f in features
        ):
            return key
    centroids = spec.get("centroids")
    if (
        not isinstance(centroids, list) or not 1 <= len(centroids) <= len(LETTERS)
        or any(not isinstance(c, list) or len(c) != len(features) for c in centroids)
    ):  # fmt: skip
        return "centroids"
    segments = spec.get("segments")
    if not isinstance(segments, list) or len(segments) != len(centroids):
        return "segments"
    return None
