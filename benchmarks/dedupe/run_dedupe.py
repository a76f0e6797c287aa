"""Duplicate detection at scale: wall time, peak memory, precision/recall/F1.

    uv run python benchmarks/dedupe/run_dedupe.py --customers 50000
    uv run python benchmarks/dedupe/run_dedupe.py --customers 1000000   # the lead's run

A labelled corpus (``bankcrm_customer_archive.dedupe.corpus``: demo customers, ~10% with
1-2 duplicates carrying typos, pinyin-vs-characters, traditional characters, swapped
birth day/month, changed phones and ID typos, plus relatives sharing address and phone)
is scored with the shipped model exactly as the detection job scores the rows it reads
from PostgreSQL: normalised features (columnar Python), then splink's blocking and
prediction on DuckDB (2 threads, memory limit). Generating the corpus is not timed.
Results go to ``benchmarks/results/<date>-dedupe-<n>.md`` and ``.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from bankcrm_customer_archive.dedupe import linkage
from bankcrm_customer_archive.dedupe.corpus import generate_corpus
from bankcrm_customer_archive.dedupe.features import feature_table
from bankcrm_customer_archive.dedupe.train import quality

RESULTS = Path(__file__).resolve().parent.parent / "results"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=50_000, help="original customers")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--threshold", type=float, default=linkage.DEFAULT_THRESHOLD)
    parser.add_argument("--memory-limit", default=linkage.DEFAULT_MEMORY_LIMIT)
    parser.add_argument("--threads", type=int, default=linkage.DEFAULT_THREADS)
    args = parser.parse_args()

    started = time.perf_counter()
    corpus = generate_corpus(args.customers, seed=args.seed)
    generated = time.perf_counter() - started
    memory_before = _peak_mb()

    t0 = time.perf_counter()
    features = feature_table(corpus.columns)
    t1 = time.perf_counter()
    pairs = linkage.score(
        features, threshold=min(args.threshold, 0.5), memory_limit=args.memory_limit,
        threads=args.threads,
    )  # fmt: skip
    t2 = time.perf_counter()

    truth = corpus.true_pairs()
    by_threshold = [quality(corpus, pairs, t).as_dict() for t in (0.5, args.threshold, 0.95)]
    found = {(p.left_id, p.right_id) for p in pairs if p.probability >= args.threshold}
    errors_of = dict(zip(corpus.columns["id"], corpus.errors, strict=True))
    missed = Counter(errors_of[right] for left, right in truth - found)
    false_kinds = Counter(
        errors_of[right] or errors_of[left] or "unrelated" for left, right in found - truth
    )
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": _machine(),
        "model": linkage.MODEL_VERSION,
        "records": len(corpus),
        "originals": args.customers,
        "true_pairs": len(truth),
        "threads": args.threads,
        "memory_limit": args.memory_limit,
        "seconds": {
            "generate_corpus (not timed in total)": round(generated, 1),
            "features": round(t1 - t0, 2),
            "blocking_and_scoring": round(t2 - t1, 2),
            "total": round(t2 - t0, 2),
        },
        "peak_rss_mb": {"after_generation": round(memory_before), "end": round(_peak_mb())},
        "quality": by_threshold,
        "missed_by_error": dict(missed.most_common()),
        "false_positives_by_kind": dict(false_kinds.most_common()),
    }
    RESULTS.mkdir(exist_ok=True)
    stem = f"{datetime.now(UTC):%Y-%m-%d}-dedupe-{len(corpus)}"
    (RESULTS / f"{stem}.json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    (RESULTS / f"{stem}.md").write_text(_markdown(result))
    print(json.dumps(result, indent=1, ensure_ascii=False))


def _markdown(r: dict) -> str:  # type: ignore[type-arg]
    lines = [
        f"# Duplicate detection: {r['records']:,} customer records",
        "",
        f"- date: {r['date']}; machine: {r['machine']}",
        f"- model `{r['model']}`, DuckDB threads={r['threads']}, memory_limit={r['memory_limit']}",
        f"- {r['originals']:,} generated customers plus their planted duplicates and relatives;"
        f" {r['true_pairs']:,} true duplicate pairs",
        "",
        "| step | seconds |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in r["seconds"].items()),
        "",
        f"Peak RSS: {r['peak_rss_mb']['end']} MB (of which the generated corpus in Python"
        f" objects: ~{r['peak_rss_mb']['after_generation']} MB).",
        "",
        "| threshold | found | correct | precision | recall | F1 |",
        "|---|---|---|---|---|---|",
        *(
            f"| {q['threshold']} | {q['found_pairs']:,} | {q['correct_pairs']:,} |"
            f" {q['precision']} | {q['recall']} | {q['f1']} |"
            for q in r["quality"]
        ),
        "",
        f"Missed duplicates by planted error: {r['missed_by_error'] or 'none'}",
        "",
        f"False positives by kind: {r['false_positives_by_kind'] or 'none'}",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
