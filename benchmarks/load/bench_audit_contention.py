# ruff: noqa: E501  (the report lines are Markdown table rows)
"""Audited customer reads under concurrency, straight at PostgreSQL: what the audit
trail's design costs when every view appends a row.

    uv run python benchmarks/load/bench_audit_contention.py \\
        --database before=postgresql://postgres@127.0.0.1:5432/bankcrm_bench_audit_before \\
        --database after=postgresql://postgres@127.0.0.1:5432/bankcrm_bench_audit_after

Each named database holds the same customers (one is a copy of the other) but a different
``bankcrm_audit_append``. N client tasks, each with its own connection as the application
role, send the platform's own statements for a customer detail view and a 360° view (each
one statement that reads and appends its audit row, autocommitted, as the platform sends
it) for random customers, for ``--duration`` seconds per cell; the databases alternate
cell by cell for ``--rounds`` rounds so both see the same machine. Reported per database
and view: statements per second, p50 and p99 latency.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import time
import urllib.parse
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from bankcrm import db
from bankcrm_customer_archive.records import VIEW_DETAIL_SQL
from bankcrm_customer_archive.view_360 import services as view_360

APP_ROLE = "bankcrm_app"
RESULTS = Path(__file__).resolve().parent.parent / "results"


def as_app(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urllib.parse.urlunsplit((parts.scheme, f"{APP_ROLE}@{host}", parts.path, "", ""))


async def cell(
    url: str, view: str, clients: int, seconds: float, ids: list[int], branches: str
) -> dict[str, float]:
    latencies: list[float] = []
    stop = time.perf_counter() + seconds

    async def client() -> None:
        connection = await asyncpg.connect(as_app(url))
        try:
            await connection.execute(db.SCOPE_SQL, branches, "user:1")
            while time.perf_counter() < stop:
                customer = random.choice(ids)
                started = time.perf_counter()
                if view == "detail":
                    await connection.fetchrow(
                        VIEW_DETAIL_SQL, customer, '{"screen": "detail"}', uuid.uuid4().hex
                    )
                else:
                    await connection.fetchrow(
                        view_360.VIEW_360_SQL,
                        *view_360.view_360_arguments(
                            customer, uuid.uuid4().hex, reads_contracts=True, reads_holdings=True
                        ),
                    )
                latencies.append(time.perf_counter() - started)
        finally:
            await connection.close()

    begun = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - begun
    latencies.sort()
    return {
        "per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": round(1000 * latencies[len(latencies) // 2], 2),
        "p99_ms": round(1000 * latencies[int(len(latencies) * 0.99)], 2),
        "statements": len(latencies),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    databases = dict(item.split("=", 1) for item in args.database)
    first = next(iter(databases.values()))
    owner = await asyncpg.connect(first)
    ids = [
        r["id"]
        for r in await owner.fetch(
            "SELECT id FROM customer_archive_customer ORDER BY random() LIMIT $1", args.sample
        )
    ]
    branches = ",".join(str(r["id"]) for r in await owner.fetch("SELECT id FROM bankcrm_branch"))
    await owner.close()
    cells: dict[str, dict[str, list[dict[str, float]]]] = {
        name: {"detail": [], "360": []} for name in databases
    }
    for _ in range(args.rounds):
        for view in ("detail", "360"):
            for name, url in databases.items():
                cells[name][view].append(
                    await cell(url, view, args.clients, args.duration, ids, branches)
                )
    summary: dict[str, Any] = {}
    for name, views in cells.items():
        summary[name] = {
            view: {
                "per_second": round(statistics.median(c["per_second"] for c in runs), 1),
                "p50_ms": round(statistics.median(c["p50_ms"] for c in runs), 2),
                "p99_ms": round(statistics.median(c["p99_ms"] for c in runs), 2),
                "rounds": runs,
            }
            for view, runs in views.items()
        }
    return summary


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", action="append", required=True, metavar="NAME=URL")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sample", type=int, default=10_000)
    parser.add_argument("--topic", default="audit-contention")
    args = parser.parse_args()
    load = os.getloadavg()
    summary = asyncio.run(run(args))
    stamp = datetime.now(UTC).strftime("%Y-%m-%d-%H%M")
    out = {
        "date": stamp,
        "machine": f"{os.cpu_count()} cores, 24 GiB",
        "load_before": load,
        "clients": args.clients,
        "duration": args.duration,
        "rounds": args.rounds,
        "summary": summary,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{stamp}-{args.topic}.json").write_text(json.dumps(out, indent=2))
    lines = [
        f"# Audited reads under concurrency ({stamp} UTC)",
        "",
        f"Machine: {out['machine']}, PostgreSQL 15 (default settings, synchronous commit on);"
        f" load average before {tuple(round(x, 2) for x in load)}. {args.clients} clients, each its own"
        f" connection as the application role; {args.rounds} rounds of {args.duration:.0f} s per"
        " cell, databases alternating; medians of the rounds. Script: `benchmarks/load/bench_audit_contention.py`.",
        "",
        "| database | view | statements/s | p50 ms | p99 ms |",
        "|---|---|---:|---:|---:|",
    ]
    for name, views in summary.items():
        for view, figures in views.items():
            lines.append(
                f"| {name} | {view} | {figures['per_second']} | {figures['p50_ms']} | {figures['p99_ms']} |"
            )
    (RESULTS / f"{stamp}-{args.topic}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
