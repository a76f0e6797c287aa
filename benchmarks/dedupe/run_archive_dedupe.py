"""The scheduled whole-archive duplicate run on a real database: wall time and memory.

    BANKCRM_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bankcrm_bench_1m \
        uv run python benchmarks/dedupe/run_archive_dedupe.py

``run_dedupe.py`` measures quality on a labelled corpus held in memory; this one measures
what the nightly job costs in production: ``detection.run`` exactly as the actor calls it,
as the application role under row-level security with a head-office scope, reading every
customer from PostgreSQL (COPY into Arrow), building the features, blocking and scoring on
DuckDB, and upserting the candidates, in one transaction. The transaction is rolled back at
the end so that repeated runs start from the same state (pass ``--keep`` to commit).
Results go to ``benchmarks/results/<date>-dedupe-archive-<n>.md`` and ``.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from run_dedupe import _machine

from bankcrm import db
from bankcrm.branches import snapshot
from bankcrm.cli import system_scope
from bankcrm.context import bind_scope
from bankcrm.runtime import boot
from bankcrm_customer_archive.dedupe import detection

RESULTS = Path(__file__).resolve().parent.parent / "results"


class _Rollback(Exception):
    """Raised inside the outer transaction to undo the run's upserts."""


def _peak_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


async def measure(keep: bool) -> dict[str, Any]:
    kernel = await boot(migrate=False, connect=True)
    try:
        tree = await snapshot()
        with bind_scope(system_scope(frozenset(tree.nodes), "benchmark")):
            customers = await db.fetchval(
                "SELECT count(*) FROM customer_archive_customer WHERE deleted_at IS NULL"
            )
            memory_before = _peak_mb()
            started = time.perf_counter()
            try:
                async with db.transaction():
                    result = await detection.run("benchmark")
                    if not keep:
                        raise _Rollback
            except _Rollback:
                pass
            seconds = time.perf_counter() - started
    finally:
        await kernel.disconnect()
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": _machine(),
        "customers": customers,
        "seconds_total": round(seconds, 1),
        "run": {k: (round(v, 1) if isinstance(v, float) else v) for k, v in vars(result).items()},
        "peak_rss_mb": {"before": memory_before, "end": _peak_mb()},
        "committed": keep,
    }


def markdown(r: dict[str, Any]) -> str:
    return "\n".join(
        [
            f"# Whole-archive duplicate run: {r['customers']:,} customers in PostgreSQL",
            "",
            f"- date: {r['date']}; machine: {r['machine']}",
            "- `detection.run` as the nightly actor calls it: application role under RLS,"
            " head-office scope, read (COPY to Arrow), features, splink blocking and scoring"
            " on DuckDB, candidate upsert; one transaction"
            + (" (committed)" if r["committed"] else " (rolled back afterwards)"),
            "",
            f"Wall time: **{r['seconds_total']} s**; peak RSS {r['peak_rss_mb']['end']} MB"
            f" (before the run: {r['peak_rss_mb']['before']} MB).",
            "",
            "| counter | value |",
            "|---|---|",
            *(f"| {k} | {v} |" for k, v in r["run"].items()),
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="commit the candidates")
    args = parser.parse_args()
    result = asyncio.run(measure(args.keep))
    RESULTS.mkdir(exist_ok=True)
    stem = f"{datetime.now(UTC):%Y-%m-%d}-dedupe-archive-{result['customers']}"
    (RESULTS / f"{stem}.json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    (RESULTS / f"{stem}.md").write_text(markdown(result))
    print(json.dumps(result, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
