"""Triage classifier quality and latency on the shipped data sets (one short run).

    uv run python benchmarks/service/bench_triage.py

Runs the same code path as ``bankcrm service evaluate-triage`` (75/25 stratified split,
seed 42) and, as a same-run baseline, always answering the most frequent class.
"""

from __future__ import annotations

import json
from collections import Counter

from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split

from bankcrm_service import triage

SETS = [
    ("cfpb_complaints_4class.csv", "Consumer complaint narrative", "Product"),
    ("cn_bank_reviews.csv", "text", "class"),
]


def main() -> None:
    for name, text, label in SETS:
        texts, labels = triage.read_rows(triage.DATA / name, text, label)
        result = triage.evaluate(texts, labels)
        _, _, y_train, y_test = train_test_split(
            texts, labels, test_size=0.25, random_state=42, stratify=labels
        )
        majority = Counter(y_train).most_common(1)[0][0]
        baseline = {
            "accuracy": round(sum(y == majority for y in y_test) / len(y_test), 4),
            "macro_f1": round(
                float(f1_score(y_test, [majority] * len(y_test), average="macro")), 4
            ),
        }
        print(json.dumps({"set": name, **result, "majority_baseline": baseline}))


if __name__ == "__main__":
    main()
