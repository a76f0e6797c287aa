"""Text classification for triage, Chinese and English: character n-gram TF-IDF and
logistic regression
(with word 1-2 grams beside them for English).

Character n-grams need no word segmentation, so one pipeline reads Chinese and English
(and mixed) text. Nothing is downloaded: a model is trained from rows the caller passes,
such as the data sets shipped in ``bankcrm_service/data`` (see ``data/SOURCES.md``).

:func:`evaluate` is the one code path of ``bankcrm service evaluate-triage`` and of the
benchmarks: train on one part, report accuracy, macro-F1, the confusion matrix and the
per-text latency on the rest.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import FeatureUnion, Pipeline

DATA = Path(__file__).parent / "data"
"""The shipped data sets (attribution in ``data/SOURCES.md``)."""
MAX_CHARS = 2000
"""Only a text's first characters are read: long narratives add little and cost time."""
MIN_ROWS = 10


class TriageDataError(ValueError):
    """The rows cannot train or test a model (missing column, too few rows or classes)."""


@dataclass(frozen=True)
class Prediction:
    label: str
    confidence: float
    """The model's probability of ``label``."""


def _clip(text: str) -> str:
    return text[:MAX_CHARS]


def build_pipeline() -> Pipeline:
    """Word 1-2 grams and character 2-4 grams within word boundaries (sublinear tf),
    balanced logistic regression: the character grams carry Chinese (no segmentation
    needed) and misspelt English, the word grams English phrases; classes are skewed in
    complaint data, and macro-F1 counts each class."""
    return Pipeline(
        [
            ("tfidf", text_features()),
            ("clf", LogisticRegression(C=10.0, max_iter=2000, class_weight="balanced")),
        ]
    )


def text_features(min_df: int = 2) -> FeatureUnion:
    """The tokenisation of triage, shared with the FAQ's matching (:mod:`.faq`): word 1-2
    grams and character 2-4 grams within word boundaries, sublinear tf, each block
    L2-normalised. ``min_df=1`` for a small knowledge base, where a phrase found once
    still counts."""
    return FeatureUnion(
        [
            ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=min_df)),
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(2, 4),
                    sublinear_tf=True,
                    min_df=min_df,
                    max_features=300_000,
                ),
            ),
        ]
    )


class TextClassifier:
    """A trained pipeline with its class labels."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.labels: list[str] = [str(c) for c in pipeline.classes_]

    @classmethod
    def train(cls, texts: Sequence[str], labels: Sequence[str]) -> TextClassifier:
        _check(texts, labels)
        pipeline = build_pipeline()
        pipeline.fit([_clip(t) for t in texts], list(labels))
        return cls(pipeline)

    def predict(self, text: str) -> Prediction:
        probabilities = self.pipeline.predict_proba([_clip(text)])[0]
        best = int(probabilities.argmax())
        return Prediction(self.labels[best], float(probabilities[best]))

    def predict_many(self, texts: Sequence[str]) -> list[str]:
        return [str(label) for label in self.pipeline.predict([_clip(t) for t in texts])]


def _check(texts: Sequence[str], labels: Sequence[str]) -> None:
    if len(texts) != len(labels):
        raise TriageDataError("texts and labels differ in length")
    if len(texts) < MIN_ROWS:
        raise TriageDataError(f"at least {MIN_ROWS} labelled rows are needed, got {len(texts)}")
    if len(set(labels)) < 2:
        raise TriageDataError("at least two different labels are needed")


def read_records(path: Path) -> list[dict[str, Any]]:
    """The rows of a CSV file (UTF-8 or GB18030, any usual delimiter), a JSON array of
    objects or JSON lines, as dictionaries."""
    raw = path.read_bytes()
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        content = raw.decode("gb18030")
    records: list[dict[str, Any]]
    stripped = content.lstrip()
    if path.suffix.lower() in {".json", ".jsonl", ".ndjson"} or stripped[:1] in {"[", "{"}:
        try:
            loaded = json.loads(content)
            records = loaded if isinstance(loaded, list) else [loaded]
        except json.JSONDecodeError:
            records = [json.loads(line) for line in content.splitlines() if line.strip()]
    else:
        header = stripped.split("\n", 1)[0]
        delimiter = max(",;\t|", key=header.count)
        records = list(csv.DictReader(io.StringIO(content), delimiter=delimiter))
    if not records or not isinstance(records[0], dict):
        raise TriageDataError("the file holds no rows")
    return records


def read_rows(path: Path, text: str, label: str) -> tuple[list[str], list[str]]:
    """The (text, label) pairs of a CSV file (UTF-8 or GB18030, any usual delimiter), a
    JSON array of objects or JSON lines; rows with an empty text or label are skipped."""
    records = read_records(path)
    for column in (text, label):
        if column not in records[0]:
            found = ", ".join(str(c) for c in records[0])
            raise TriageDataError(f"no column {column!r}; the file has: {found}")
    texts: list[str] = []
    labels: list[str] = []
    for record in records:
        t, y = record.get(text), record.get(label)
        if t is None or y is None or not str(t).strip() or not str(y).strip():
            continue
        texts.append(str(t))
        labels.append(str(y).strip())
    return texts, labels


def evaluate(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    test_size: float = 0.25,
    seed: int = 42,
) -> dict[str, Any]:
    """Train on a stratified part, test on the rest: accuracy, macro-F1, the confusion
    matrix (rows: true label, columns: predicted, in ``labels`` order) and the latency of
    classifying one text (p50/p99 in ms, in-process)."""
    _check(texts, labels)
    counts: dict[str, int] = {}
    for y in labels:
        counts[y] = counts.get(y, 0) + 1
    stratify = list(labels) if min(counts.values()) >= 2 else None
    x_train, x_test, y_train, y_test = train_test_split(
        list(texts), list(labels), test_size=test_size, random_state=seed, stratify=stratify
    )
    started = time.perf_counter()
    model = TextClassifier.train(x_train, y_train)
    training_seconds = time.perf_counter() - started
    predicted = model.predict_many(x_test)
    timings = []
    for text in x_test[:500]:
        t0 = time.perf_counter()
        model.predict(text)
        timings.append((time.perf_counter() - t0) * 1000)
    timings.sort()
    order = sorted(counts)
    return {
        "rows": len(texts),
        "train_rows": len(x_train),
        "test_rows": len(x_test),
        "labels": order,
        "accuracy": round(float(accuracy_score(y_test, predicted)), 4),
        "macro_f1": round(float(f1_score(y_test, predicted, average="macro")), 4),
        "confusion_matrix": confusion_matrix(y_test, predicted, labels=order).tolist(),
        "training_seconds": round(training_seconds, 2),
        "latency_ms": {
            "p50": round(timings[len(timings) // 2], 3),
            "p99": round(timings[min(len(timings) - 1, int(len(timings) * 0.99))], 3),
        },
        "model": "word 1-2 and char 2-4 gram TF-IDF + logistic regression",
    }
