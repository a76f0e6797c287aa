"""Regenerate the shipped duplicate-detection model (run by developers, never in production).

``uv run python -m bankcrm_customer_archive.dedupe.train [--records 30000] [--seed 11]``

Parameters are estimated from a generated, labelled corpus (:mod:`.corpus`): the u
probabilities (how often unrelated customers agree by chance) by random sampling, the m
probabilities (how often duplicates agree) from the known duplicate pairs, which is
exact where expectation maximisation would only approximate. λ, the share of matching
pairs, is the corpus's own and is rescaled to each run's size (:func:`.linkage.prior_for`).
The model is then measured on a held-out corpus of another seed; both files in
``model/`` are rewritten. Bump :data:`.linkage.MODEL_VERSION` (and the file names) when
comparisons or blocking change, so candidates record which model found them.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from dataclasses import dataclass
from datetime import date
from typing import Any

import pyarrow as pa

from bankcrm_customer_archive.dedupe import linkage
from bankcrm_customer_archive.dedupe.corpus import Corpus, generate_corpus
from bankcrm_customer_archive.dedupe.features import feature_table

M_FLOOR = 1e-3
"""m of a level no duplicate of the corpus reached (a completely different name, another
birth year): strong evidence against, but never a veto on its own."""
U_FLOOR = 1e-7
"""u of a level no random pair reached (the same ID hash): strong evidence for, finite."""


@dataclass(frozen=True)
class Quality:
    threshold: float
    true_pairs: int
    found_pairs: int
    correct_pairs: int

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.found_pairs if self.found_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold, "true_pairs": self.true_pairs,
            "found_pairs": self.found_pairs, "correct_pairs": self.correct_pairs,
            "precision": round(self.precision, 4), "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
        }  # fmt: skip


def quality(corpus: Corpus, pairs: list[linkage.ScoredPair], threshold: float) -> Quality:
    truth = corpus.true_pairs()
    found = {(p.left_id, p.right_id) for p in pairs if p.probability >= threshold}
    return Quality(threshold, len(truth), len(found), len(found & truth))


def _floored(settings: dict[str, Any]) -> dict[str, Any]:
    for comparison in settings["comparisons"]:
        for level in comparison["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            level["m_probability"] = max(float(level.get("m_probability") or 0.0), M_FLOOR)
            level["u_probability"] = max(float(level.get("u_probability") or 0.0), U_FLOOR)
    return settings


def train(records: int, seed: int) -> tuple[dict[str, Any], dict[str, Any]]:
    from splink import DuckDBAPI, Linker

    corpus = generate_corpus(records, seed=seed)
    table = feature_table(corpus.columns).append_column("cluster", pa.array(corpus.cluster))
    connection = linkage.connect_duckdb()
    try:
        linker = Linker(
            DuckDBAPI(connection).register(table), linkage.untrained_settings(), log_level=None
        )
        linker.training.estimate_u_using_random_sampling(max_pairs=5e6, seed=seed)
        linker.training.estimate_m_from_label_column("cluster")
        model = linker.misc.save_model_to_json()
    finally:
        connection.close()
    n = len(corpus)
    model = _floored(model)
    model["probability_two_random_records_match"] = len(corpus.true_pairs()) / (n * (n - 1) / 2)
    model["linker_uid"] = linkage.MODEL_VERSION
    meta = {
        "version": linkage.MODEL_VERSION,
        "trained_on": date.today().isoformat(),
        "records": n,
        "originals": records,
        "seed": seed,
        "prior": model["probability_two_random_records_match"],
    }
    return model, meta


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=30_000, help="original customers")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--holdout", type=int, default=30_000, help="held-out originals")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    started = time.perf_counter()
    model, meta = train(args.records, args.seed)
    linkage.MODEL_DIR.mkdir(exist_ok=True)
    linkage.MODEL_PATH.write_text(json.dumps(model, indent=1, ensure_ascii=False) + "\n")
    linkage.reload_trained_model()
    holdout = generate_corpus(args.holdout, seed=args.seed + 1000)
    settings = dict(model)
    settings["probability_two_random_records_match"] = linkage.prior_for(len(holdout), meta)
    settings["blocking_rules_to_generate_predictions"] = linkage.blocking_rules(only_new=False)
    pairs = linkage.score(feature_table(holdout.columns), threshold=0.05, settings=settings)
    meta["holdout"] = {
        "records": len(holdout),
        "seed": args.seed + 1000,
        "quality": [quality(holdout, pairs, t).as_dict() for t in (0.5, 0.8, 0.9, 0.95, 0.99)],
    }
    linkage.MODEL_META_PATH.write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n")
    linkage.reload_trained_model()
    print(json.dumps(meta, indent=1))
    print(f"trained and measured in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
