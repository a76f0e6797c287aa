"""Search at scale: p50/p95 of typical combined queries, their plans, and a streamed export.

    uv run python benchmarks/search/bench_search.py \
        --database-url postgresql://postgres@127.0.0.1:5432/bankcrm_bench --customers 1000000

- **Database**: ``--database-url`` is the *owner* URL (the application role is derived from
  it, as the kernel does). A database that already has branches is used as it is (no
  seeding); an empty one is migrated and seeded with the demo seeding code
  (``bankcrm.demo.seed``, i.e. ``bankcrm demo --customers N``) at ``--customers``.
  Every run starts with ``VACUUM (ANALYZE)``.
- **Queries**: each one goes through ``search.search_customers`` (the service the API
  calls: planning, the statement, DTOs) on the application role's pool, so row-level
  security is live, as a head-office user whose scope is every branch (the worst case for
  RLS, which then filters nothing). Values (a name, a district, tags, products, a
  manager) are taken from the data. ``--runs`` timed runs after ``--warmup`` untimed ones;
  p50/p95/max per query.
- **Plans**: ``EXPLAIN (ANALYZE, BUFFERS)`` of each query's statement under the application
  role; the report flags any sequential scan of the customer or search-key table.
- **Export**: ``--export-rows`` customers streamed to CSV and to xlsx through
  ``export.stream_export`` in a child process each, reporting wall time, rows/s and the
  child's peak RSS (``ru_maxrss``), so memory is measured apart from seeding.

Writes ``benchmarks/results/<date>-search.md`` (and ``.json``) with the machine and date.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import psutil

RESULTS = Path(__file__).resolve().parents[1] / "results"
BIG_TABLES = ("customer_archive_customer", "customer_archive_search_key")


def _set_database(url: str) -> None:
    os.environ["BANKCRM_DATABASE_URL"] = url


async def _boot(seed_customers: int) -> tuple[Any, dict[str, Any]]:
    from bankcrm import demo
    from bankcrm.runtime import boot

    started = time.perf_counter()
    kernel = await boot(migrate=True, connect=True)
    context = await demo.seed(kernel, scale=seed_customers)
    info = {
        "seeded": context is not None,
        "seed_seconds": round(time.perf_counter() - started, 1) if context else 0.0,
    }
    return kernel, info


async def _owner_facts(owner_url: str) -> dict[str, Any]:
    connection = await asyncpg.connect(owner_url)
    try:
        await connection.execute("VACUUM (ANALYZE)")
        rows = await connection.fetch(
            "SELECT relname, n_live_tup FROM pg_stat_user_tables"
            " WHERE relname LIKE 'customer_archive_%' ORDER BY n_live_tup DESC LIMIT 8"
        )
        return {
            "postgres": await connection.fetchval("SHOW server_version"),
            "collation": await connection.fetchval("SHOW lc_collate"),
            "tables": {r["relname"]: r["n_live_tup"] for r in rows},
        }
    finally:
        await connection.close()


async def _head_office_scope() -> Any:
    from bankcrm import db
    from bankcrm.context import Scope

    branch_ids = [r["id"] for r in await db.fetch("SELECT id FROM bankcrm_branch")]
    user_id = await db.fetchval("SELECT id FROM piccolo_user WHERE username = 'demo.admin'")
    return Scope(
        actor=f"user:{user_id}", branch_ids=frozenset(branch_ids), user_id=user_id,
        home_branch_id=min(branch_ids), username="demo.admin", is_superuser=True,
    )  # fmt: skip


async def _sample_values() -> dict[str, Any]:
    """Realistic criteria from the data (read under the bound scope)."""
    from bankcrm import db

    name = await db.fetchval(
        "SELECT name FROM customer_archive_customer WHERE kind = 'individual'"
        " AND length(name) >= 3 ORDER BY id DESC LIMIT 1 OFFSET 1000"
    )
    company = await db.fetchval(
        "SELECT name FROM customer_archive_customer WHERE kind = 'corporate'"
        " ORDER BY id DESC LIMIT 1 OFFSET 200"
    )
    street = await db.fetchval(
        "SELECT street FROM customer_archive_customer_address ORDER BY id DESC LIMIT 1 OFFSET 500"
    )
    manager = await db.fetchval(
        "SELECT relationship_manager FROM customer_archive_customer"
        " WHERE relationship_manager IS NOT NULL LIMIT 1"
    )
    tags = [
        r["name"]
        for r in await db.fetch(
            "SELECT t.name FROM customer_archive_tag t GROUP BY t.name ORDER BY t.name LIMIT 3"
        )
    ]
    branch = await db.fetchval("SELECT id FROM bankcrm_branch WHERE code = 'BJ-HD'")
    return {
        "name_fragment": (name or "王秀英")[1:3],
        "company_fragment": (company or "恒信科技有限公司")[2:6],
        "street_fragment": (street or "中关村大街")[:4],
        "manager": manager,
        "tags": tags or ["贵宾客户"],
        "branch": branch,
    }


def _queries(v: dict[str, Any]) -> dict[str, Any]:
    from datetime import date
    from decimal import Decimal

    from bankcrm_customer_archive.search.services import CustomerFilter as F

    return {
        "branch + status": F(branch_id=v["branch"], statuses=["active"]),
        "name fragment (2 chars)": F(q=v["name_fragment"]),
        "pinyin prefix": F(q="wangxiu"),
        "company fragment": F(company=v["company_fragment"]),
        "address fragment + kind": F(address=v["street_fragment"], kind="individual"),
        "text over name/company/address": F(text=v["street_fragment"]),
        "tag any + branch": F(tags=v["tags"][:1], branch_id=v["branch"]),
        "tags all": F(tags=v["tags"][:2], tag_match="all"),
        "manager + AUM >= 50k": F(relationship_manager_id=v["manager"], aum_min=Decimal(50000)),
        "AUM 1m..5m": F(aum_min=Decimal(1_000_000), aum_max=Decimal(5_000_000)),
        "wealth product + AUM >= 600k": F(product_categories=["wealth"], aum_min=Decimal(600_000)),
        "product code + opened 2024": F(
            product_codes=["DEP-LCD"],
            holding_opened_from=date(2024, 1, 1),
            holding_opened_to=date(2024, 12, 31),
        ),
        "birth 1980s + individual + branch": F(
            birth_from=date(1980, 1, 1),
            birth_to=date(1989, 12, 31),
            kind="individual",
            branch_id=v["branch"],
        ),
        "created last year": F(created_from=date(2025, 1, 1), created_to=date(2025, 12, 31)),
        "tier + risk + grade": F(
            value_tiers=["private", "wealth"],
            risk_tolerances=["C4", "C5"],
            credit_grades=["AAA", "AA"],
        ),
        "corporate + deposit + address": F(
            kind="corporate", product_categories=["deposit"], address=v["street_fragment"][:2]
        ),
    }


async def _time_queries(queries: dict[str, Any], runs: int, warmup: int) -> list[dict[str, Any]]:
    from bankcrm import db
    from bankcrm_customer_archive.search import services as search

    results = []
    for label, criteria in queries.items():
        for _ in range(warmup):
            await search.search_customers(criteria, 50)
        timings = []
        found = 0
        for _ in range(runs):
            started = time.perf_counter()
            page = await search.search_customers(criteria, 50)
            timings.append((time.perf_counter() - started) * 1000)
            found = len(page.items)
        statement = await search.search_statement(criteria, 51)
        plan_text = ""
        if statement is not None:
            async with db.transaction():
                plan = await db.fetch("EXPLAIN (ANALYZE, BUFFERS) " + statement[0], *statement[1])
            plan_text = "\n".join(r[0] for r in plan)
        seq = [t for t in BIG_TABLES if f"Seq Scan on {t} " in plan_text]
        timings.sort()
        results.append({
            "query": label,
            "filter": search.filter_to_json(criteria),
            "rows": found,
            "p50_ms": round(statistics.median(timings), 2),
            "p95_ms": round(timings[max(0, int(len(timings) * 0.95) - 1)], 2),
            "max_ms": round(timings[-1], 2),
            "seq_scans": seq,
            "plan": plan_text,
        })  # fmt: skip
        last = results[-1]
        flags = "SEQ " + ",".join(seq) if seq else ""
        print(f"{label:40} p50 {last['p50_ms']:8.2f} ms  p95 {last['p95_ms']:8.2f} ms"
              f"  rows {found:3}  {flags}", flush=True)  # fmt: skip
    return results


async def _export_child(fmt: str, rows: int) -> dict[str, Any]:
    from bankcrm.context import bind_scope
    from bankcrm_customer_archive.search import export
    from bankcrm_customer_archive.search.services import CustomerFilter

    kernel, _ = await _boot(0)
    try:
        with bind_scope(await _scope_bound(kernel)):
            plan = await export.plan_export(CustomerFilter(), fmt, limit=rows)  # type: ignore[arg-type]
            started = time.perf_counter()
            size = 0
            sampled = 0
            process = psutil.Process()
            before = process.memory_info().rss
            async for chunk in export.stream_export(plan):
                size += len(chunk)
                sampled = max(sampled, process.memory_info().rss)
            elapsed = time.perf_counter() - started
    finally:
        await kernel.disconnect()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "format": fmt, "rows": plan.matching, "seconds": round(elapsed, 1),
        "rows_per_second": round(plan.matching / elapsed) if elapsed else 0,
        "bytes": size, "peak_rss_mib": round(peak_kib / 1024),
        "rss_before_streaming_mib": round(before / 2**20),
        "rss_while_streaming_mib": round(sampled / 2**20),
    }  # fmt: skip


async def _scope_bound(kernel: Any) -> Any:
    return await _head_office_scope()


def _machine() -> str:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu}, {psutil.cpu_count()} logical cores, "
        f"{psutil.virtual_memory().total / 2**30:.1f} GiB RAM, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}"
    )


def _markdown(result: dict[str, Any]) -> str:
    lines = [
        f"# Search at {result['customers']:,} customers ({result['date'][:10]})",
        "",
        f"- Machine: {result['machine']}",
        f"- PostgreSQL {result['facts']['postgres']} ({result['facts']['collation']}),"
        f" database `{result['database']}`"
        + (f", seeded in this run ({result['seed_seconds']} s)" if result["seeded"] else ""),
        f"- Scope: head office (every branch), application role (RLS live);"
        f" {result['runs']} timed runs per query after {result['warmup']} warm-up runs, page 50",
        "- Run: `uv run python benchmarks/search/bench_search.py " + result["argv"] + "`",
        "- Tables: " + ", ".join(f"{k} {v:,}" for k, v in result["facts"]["tables"].items()),
        "",
        "| query | rows | p50 ms | p95 ms | max ms | seq scan of a big table |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for q in result["queries"]:
        lines.append(
            f"| {q['query']} | {q['rows']} | {q['p50_ms']} | {q['p95_ms']} | {q['max_ms']}"
            f" | {', '.join(q['seq_scans']) or 'none'} |"
        )
    p95 = [q["p95_ms"] for q in result["queries"]]
    if p95:
        worst = max(p95)
        lines += ["", f"Worst p95: {worst} ms (aim: under 100 ms) -"
                  f" {'met' if worst < 100 else 'not met'}."]  # fmt: skip
    if result["exports"]:
        lines += ["", "## Streamed export", "",
                  "| format | rows | seconds | rows/s | MiB written | RSS before MiB"
                  " | max RSS while streaming MiB | process peak RSS MiB |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
        for e in result["exports"]:
            lines.append(
                f"| {e['format']} | {e['rows']:,} | {e['seconds']} | {e['rows_per_second']:,}"
                f" | {e['bytes'] / 2**20:.1f} | {e['rss_before_streaming_mib']}"
                f" | {e['rss_while_streaming_mib']} | {e['peak_rss_mib']} |"
            )
    lines += ["", "## Plans (EXPLAIN ANALYZE, application role)", ""]
    for q in result["queries"]:
        lines += [f"### {q['query']}", "", f"`{json.dumps(q['filter'], ensure_ascii=False)}`",
                  "", "```", q["plan"], "```", ""]  # fmt: skip
    return "\n".join(lines) + "\n"


async def _main(args: argparse.Namespace) -> dict[str, Any]:
    from bankcrm.context import bind_scope

    kernel, info = await _boot(args.customers)
    try:
        facts = await _owner_facts(kernel.owner_url)
        scope = await _head_office_scope()
        with bind_scope(scope):
            values = await _sample_values()
            queries = _queries(values)
            if args.only:
                queries = {k: v for k, v in queries.items() if args.only in k}
            timed = await _time_queries(queries, args.runs, args.warmup)
    finally:
        await kernel.disconnect()
    return {
        "date": datetime.now(UTC).isoformat(), "machine": _machine(),
        "database": args.database_url.rsplit("/", 1)[-1], "customers": sum(
            v for k, v in facts["tables"].items() if k == "customer_archive_customer"),
        "facts": facts, "runs": args.runs, "warmup": args.warmup, "queries": timed,
        "exports": [], "argv": " ".join(sys.argv[1:]), **info,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/bankcrm_bench_search"
        ),
        help="owner URL of the benchmark database (created and seeded when empty)",
    )
    parser.add_argument("--customers", type=int, default=20_000, help="seed scale if empty")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--only", default="", help="only queries whose label contains this")
    parser.add_argument("--export-rows", type=int, default=0, help="stream this many (0: skip)")
    parser.add_argument("--topic", default="search")
    parser.add_argument("--no-save", action="store_true")
    parser.add_argument(
        "--export-child", nargs=2, metavar=("FORMAT", "ROWS"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    _set_database(args.database_url)
    if args.export_child:
        fmt, rows = args.export_child
        print(json.dumps(asyncio.run(_export_child(fmt, int(rows)))))
        return
    result = asyncio.run(_main(args))
    for fmt in ("csv", "xlsx") if args.export_rows else ():
        child = subprocess.run(
            [sys.executable, __file__, "--database-url", args.database_url,
             "--export-child", fmt, str(args.export_rows)],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        result["exports"].append(json.loads(child.stdout.strip().splitlines()[-1]))
        print(f"export {fmt}: {result['exports'][-1]}", flush=True)
    if args.no_save:
        return
    RESULTS.mkdir(exist_ok=True)
    stem = RESULTS / f"{result['date'][:10]}-{args.topic}"
    stem.with_suffix(".json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    stem.with_suffix(".md").write_text(_markdown(result))
    print(f"written: {stem.with_suffix('.md')}")


if __name__ == "__main__":
    main()
