"""Matching a question to FAQ articles by text similarity, Chinese and English.

The articles' questions and keywords (and, weighted lower, their answers) are vectorised
with the triage's tokenisation (:func:`bankcrm_service.triage.text_features`: word and
character n-gram TF-IDF, no segmentation, nothing downloaded); a question's confidence in
an article is the cosine similarity of the two, from 0 to 1. Traditional Chinese is read
as Simplified, full-width forms as half-width.
"""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.pipeline import FeatureUnion

from bankcrm_service.triage import read_records, text_features

MAX_CHARS = 1000
ANSWER_WEIGHT = 0.3
"""How much an article's answer counts beside its question and keywords."""


def normalise(text: str) -> str:
    """NFKC (full-width to half-width), lower case, Traditional to Simplified Chinese."""
    folded = unicodedata.normalize("NFKC", text[:MAX_CHARS]).lower()
    try:
        import zhconv
    except ImportError:  # pragma: no cover - zhconv comes with the customer archive
        return folded
    return str(zhconv.convert(folded, "zh-cn"))


@dataclass(frozen=True)
class Entry:
    id: int
    question: str
    keywords: str
    answer: str


@dataclass(frozen=True)
class Match:
    id: int
    confidence: float


class FaqIndex:
    """The vectorised articles of one knowledge base (immutable once built)."""

    def __init__(self, entries: Sequence[Entry]) -> None:
        self.ids = [e.id for e in entries]
        self.features: FeatureUnion | None = None
        self.matrix: csr_matrix | None = None
        if not entries:
            return
        heads = [normalise(f"{e.question} {e.keywords}") for e in entries]
        answers = [normalise(e.answer) for e in entries]
        self.features = text_features(min_df=1)
        self.features.fit(heads + answers)
        head_rows = self.features.transform(heads)
        answer_rows = self.features.transform(answers)
        combined = head_rows + ANSWER_WEIGHT * answer_rows
        norms = np.sqrt(np.asarray(combined.multiply(combined).sum(axis=1))).ravel()
        norms[norms == 0] = 1.0
        scale = csr_matrix((1.0 / norms, (range(len(norms)), range(len(norms)))))
        self.matrix = csr_matrix(scale @ combined)

    def __len__(self) -> int:
        return len(self.ids)

    def search(self, question: str, limit: int = 3) -> list[Match]:
        """The ``limit`` best articles for ``question``, best first."""
        if self.features is None or self.matrix is None or not question.strip():
            return []
        query = self.features.transform([normalise(question)])
        norm = float(np.sqrt(query.multiply(query).sum()))
        if norm == 0:
            return []
        scores = np.asarray((self.matrix @ query.T).todense()).ravel() / norm
        if len(scores) > limit:
            best = np.argpartition(-scores, limit)[:limit]
        else:
            best = np.arange(len(scores))
        ordered = sorted(best, key=lambda i: (-scores[i], self.ids[i]))
        return [Match(self.ids[i], round(float(scores[i]), 4)) for i in ordered if scores[i] > 0]


class FaqDataError(ValueError):
    """A knowledge base or query file that cannot be evaluated (missing column, no rows)."""


def read_knowledge_base(
    path: Path, *, question: str = "question", answer: str = "answer", key: str = "id"
) -> tuple[list[Entry], list[str]]:
    """The articles of a CSV/JSON file and each one's key (several articles may share a
    key, e.g. wordings of one topic). Rows: ``question``, ``answer`` (optional) and
    ``key`` (default: the row's number). Also reads a JSON object of topics, each a list
    of ``{"question", "answers": [...]}`` (the E.SUN FAQ's shape), keyed by topic."""
    records = read_records(path)
    entries: list[Entry] = []
    keys: list[str] = []
    if len(records) == 1 and all(isinstance(v, list) for v in records[0].values()):
        for topic, pairs in records[0].items():
            for pair in pairs:
                answers = pair.get("answers") or [pair.get("answer", "")]
                entries.append(
                    Entry(len(entries), str(pair.get("question", "")), "", " ".join(answers))
                )
                keys.append(str(topic))
        return entries, keys
    if question not in records[0]:
        found = ", ".join(str(c) for c in records[0])
        raise FaqDataError(f"no column {question!r}; the file has: {found}")
    for number, record in enumerate(records, start=1):
        text = str(record.get(question) or "").strip()
        if not text:
            continue
        entries.append(Entry(len(entries), text, "", str(record.get(answer) or "")))
        keys.append(str(record.get(key) or number).strip())
    if not entries:
        raise FaqDataError("the knowledge base holds no questions")
    return entries, keys


def evaluate(
    entries: Sequence[Entry], keys: Sequence[str], queries: Sequence[str], expected: Sequence[str]
) -> dict[str, Any]:
    """Top-1 and top-3 accuracy of ``queries`` against the articles (a hit is an article
    with the expected key), and the latency of one question (p50/p99 ms, in-process)."""
    if not queries:
        raise FaqDataError("no queries")
    started = time.perf_counter()
    index = FaqIndex(entries)
    build = time.perf_counter() - started
    top1 = top3 = 0
    timings = []
    for text, want in zip(queries, expected, strict=True):
        t0 = time.perf_counter()
        found: list[str] = []
        for match in index.search(text, 10):
            if keys[match.id] not in found:
                found.append(keys[match.id])
        timings.append((time.perf_counter() - t0) * 1000)
        top1 += bool(found[:1] == [want])
        top3 += want in found[:3]
    timings.sort()
    return {
        "articles": len(entries),
        "queries": len(queries),
        "top1": round(top1 / len(queries), 4),
        "top3": round(top3 / len(queries), 4),
        "build_seconds": round(build, 2),
        "latency_ms": {
            "p50": round(timings[len(timings) // 2], 3),
            "p99": round(timings[min(len(timings) - 1, int(len(timings) * 0.99))], 3),
        },
        "model": "word 1-2 and char 2-4 gram TF-IDF, cosine similarity",
    }
