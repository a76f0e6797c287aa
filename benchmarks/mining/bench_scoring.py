# ruff: noqa: E501  (the report lines are Markdown table rows)
"""Batch scoring at volume: one scoring run (``mining.score``'s body) over N customers.

    BANKCRM_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bankcrm_bench_mining \\
        uv run python benchmarks/mining/bench_scoring.py --customers 1000000

The database is prepared with ``benchmarks/load/prepare_db.py`` (demo world, small). The
owner writes one feature run of N synthetic customers in one sub-branch (BJ-HD) and an
approved scorecard trained on a sample of them (so population stability has training
bins to compare with). Measured: the wall time and the process's peak RSS of
``scoring.run_scoring`` (read the run's features, score, reasons, write N score rows,
PSI), beside two baselines of the same run: reading the same feature rows with a bare
query, and scoring the frame in memory only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg
import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
RESULTS = HERE.parent / "results"
FEATURES = ["tenure_days", "product_count", "monetary_90d", "frequency_90d", "balance_last"]


def prepare(reset: bool) -> None:
    argv = [sys.executable, str(REPO / "benchmarks/load/prepare_db.py"), "--customers", "200"]
    done = subprocess.run(
        argv + (["--reset"] if reset else []), capture_output=True, text=True, check=False,
        cwd=REPO, env=dict(os.environ),
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"preparing failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")


def population(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "tenure_days": rng.integers(0, 6000, n).astype(float),
        "product_count": rng.integers(0, 6, n).astype(float),
        "monetary_90d": rng.lognormal(8, 1.5, n),
        "frequency_90d": rng.poisson(12, n).astype(float),
        "balance_last": np.where(rng.uniform(size=n) < 0.05, np.nan, rng.lognormal(10, 1.2, n)),
    })  # fmt: skip
    logit = -1.0 - frame["tenure_days"] / 3000 - 0.3 * frame["product_count"]
    logit += np.where(frame["balance_last"].isna(), 0.8, 0.0)
    events = rng.uniform(size=n) < 1 / (1 + np.exp(-logit))
    return frame, events.astype(np.int8)


async def seed(owner: asyncpg.Connection, branch: int, n: int) -> tuple[int, int]:
    from bankcrm_mining import training

    run = await owner.fetchval(
        "SELECT id FROM mining_feature_run WHERE fingerprint = $1", f"bench-{n}-".ljust(64, "x")
    )
    if run is None:
        frame, _ = population(n, seed=1)
        run = await owner.fetchval(
            "INSERT INTO mining_feature_run (branch_id, as_of, version, definition, customers,"
            " fingerprint, created_by, created_at) VALUES ($1, $2, $4, $3, $4, $5, 'system:bench',"
            " now()) RETURNING id",
            branch, date(2026, 12, 1), json.dumps({"bench": {"version": 1, "features": FEATURES}}),
            n, f"bench-{n}-".ljust(64, "x"),
        )  # fmt: skip
        records = frame.to_dict("records")
        for start in range(0, n, 100_000):
            part = records[start : start + 100_000]
            await owner.execute(
                "INSERT INTO mining_feature_value (branch_id, run, customer, as_of, values)"
                " SELECT $1, $2, c, '2026-12-01', v::jsonb FROM unnest($3::int[], $4::text[]) u(c, v)",
                branch, run, list(range(start + 1, start + 1 + len(part))),
                [json.dumps({k: (None if v != v else v) for k, v in r.items()}) for r in part],
            )  # fmt: skip
        await owner.execute("ANALYZE mining_feature_value")
    sample, events = population(50_000, seed=2)
    card = training.fit_scorecard(sample, events)
    model = await owner.fetchval(
        "INSERT INTO mining_model (name, task, version, status, kind, spec, features, metrics,"
        " data_fingerprint, description, created_by, approved_by, approved_at, created_at,"
        " updated_at) VALUES ($1::varchar, 'churn', (SELECT coalesce(max(version), 0) + 1 FROM mining_model"
        " WHERE name = $1::varchar), 'approved', 'scorecard', $2, $3, '{}', $4, 'bench', 'system:bench',"
        " 'system:checker', now(), now(), now()) RETURNING id",
        "bench_churn", json.dumps(card.spec()), json.dumps(card.features), "0" * 64,
    )  # fmt: skip
    return int(run), int(model)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from bankcrm.context import Scope, bind_scope
    from bankcrm.plugin_api import kernel_session
    from bankcrm_mining import features, registry, scoring, training

    owner = await asyncpg.connect(os.environ["BANKCRM_DATABASE_URL"])
    branches = {
        r["code"]: r["id"] for r in await owner.fetch("SELECT code, id FROM bankcrm_branch")
    }
    started = time.perf_counter()
    feature_run, model_id = await seed(owner, branches["BJ-HD"], args.customers)
    out: dict[str, Any] = {
        "customers": args.customers,
        "seed_seconds": time.perf_counter() - started,
    }
    await owner.execute("DELETE FROM mining_score WHERE run IN (SELECT id FROM mining_scoring_run"
                        " WHERE feature_run = $1)", feature_run)  # fmt: skip
    await owner.execute("DELETE FROM mining_scoring_run WHERE feature_run = $1", feature_run)
    started = time.perf_counter()
    rows = await owner.fetch(
        "SELECT customer, values FROM mining_feature_value WHERE run = $1", feature_run
    )
    out["baseline_bare_read_seconds"] = time.perf_counter() - started
    del rows
    out["rss_before_mb"] = peak_rss_mb()
    async with kernel_session():
        everything = Scope(actor="system:bench", branch_ids=frozenset(branches.values()),
                           is_superuser=True)  # fmt: skip
        with bind_scope(everything):
            frame = await features.feature_frame(feature_run)
            card = training.Scorecard.from_spec(
                (await registry.get_model(model_id)).spec,
                (await registry.get_model(model_id)).features,
            )
            started = time.perf_counter()
            training.score_frame(card, frame, labels=scoring.FEATURE_LABELS)
            out["baseline_in_memory_score_seconds"] = time.perf_counter() - started
            del frame
            from bankcrm import db, jobs

            started = time.perf_counter()
            async with db.transaction():
                scoring_run = await db.fetchval(
                    "INSERT INTO mining_scoring_run (branch_id, model, feature_run, status,"
                    " customers, stability, alerted, created_by, created_at) VALUES ($1, $2, $3,"
                    " 'queued', 0, '{}', false, 'system:bench', now()) RETURNING id",
                    branches["BJ-HD"], model_id, feature_run,
                )  # fmt: skip
            _ = jobs
            done = await scoring.run_scoring(scoring_run)
            out["run_scoring_seconds"] = time.perf_counter() - started
            out["stability"] = {
                "score": done.stability.get("score"),
                "features": done.stability.get("features"),
            }
            out["scored"] = done.customers
    out["peak_rss_mb"] = peak_rss_mb()
    out["rows_written"] = await owner.fetchval(
        "SELECT count(*) FROM mining_score WHERE run = $1", scoring_run
    )
    await owner.close()
    return out


def report(out: dict[str, Any]) -> Path:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d-%H%M")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{stamp}-mining-scoring.json").write_text(json.dumps(out, indent=2, default=str))
    lines = [
        f"# Mining: batch scoring of {out['customers']:,} customers ({stamp} UTC)",
        "",
        f"Machine: {os.cpu_count()} cores, 24 GiB, PostgreSQL 15 default settings; load average"
        f" before the run {out['load']}. Script: `benchmarks/mining/bench_scoring.py`.",
        "",
        "| step | seconds |",
        "|---|---|",
        f"| `run_scoring`: read features, score, reasons, write {out['rows_written']:,} rows, PSI | **{out['run_scoring_seconds']:.1f}** |",
        f"| baseline: bare read of the same feature rows (asyncpg, owner) | {out['baseline_bare_read_seconds']:.1f} |",
        f"| baseline: scoring the frame in memory (points, probability, reasons) | {out['baseline_in_memory_score_seconds']:.1f} |",
        "",
        f"Peak RSS of the process: {out['peak_rss_mb']:.0f} MB (before scoring: {out['rss_before_mb']:.0f} MB).",
        f"Population stability of this run: score {out['stability']['score']}, features {out['stability']['features']}.",
        "Aim of the issue: under 60 s at 1,000,000.",
    ]  # fmt: skip
    path = RESULTS / f"{stamp}-mining-scoring.md"
    path.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--reset", action="store_true", help="Rebuild the database first.")
    parser.add_argument("--skip-prepare", action="store_true")
    args = parser.parse_args()
    if not args.skip_prepare:
        prepare(args.reset)
    load = os.getloadavg()
    out = asyncio.run(run(args))
    out["load"] = [round(x, 2) for x in load]
    report(out)


if __name__ == "__main__":
    main()
