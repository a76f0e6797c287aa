"""Matching a question to FAQ articles by text similarity, Chinese and English.

The articles' questions and keywords (and, weighted lower, their answers) are vectorised
with the triage's tokenisation (:func:`bankcrm_service.triage.text_features`: word and
character n-gram TF-IDF, no segmentation, nothing downloaded); a question's confidence in
an article is the cosine similarity of the two, from 0 to 1. Traditional Chinese is read
as Simplified, full-width forms as half-width.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.pipeline import FeatureUnion

from bankcrm_service.triage import text_features

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
