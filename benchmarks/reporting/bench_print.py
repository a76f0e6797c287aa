"""Print (PDF) and export (CSV, xlsx) of one report run: wall time, peak memory, pages.

Each format is made in a fresh Python process from the same synthetic run (branch, month
and value-tier dimensions, a count and a sum), exactly as the export route makes it
(``bankcrm_reporting.reports.export``), without a database: the run is what the inbox
keeps. Peak memory is the process's maximum resident set after importing everything,
minus before making the file. The CSV is the baseline: the same rows with no layout.

    uv run python benchmarks/reporting/bench_print.py --rows 1200
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent.parent / "results"


def make(fmt: str, rows: int) -> dict[str, float | int]:
    from bankcrm_reporting.reports import export
    from bankcrm_reporting.reports.services import Column, RunOut

    tiers = ["private", "wealth", "affluent", "mass"]
    columns = [
        Column("branch", "所属机构", "Branch", "dimension", "branch"),
        Column("created_month", "建档月份", "Month created", "dimension", "month"),
        Column("value_tier", "价值分层", "Value tier", "dimension", "code",
               labels={"private": ["私行客户", "Private"], "wealth": ["财富客户", "Wealth"],
                       "affluent": ["富裕客户", "Affluent"], "mass": ["大众客户", "Mass"]}),
        Column("customers_count", "客户数（计数）", "Customers (count)", "measure", "number"),
        Column("aum_sum", "资产规模（合计）", "AUM (sum)", "measure", "number", "元"),
    ]  # fmt: skip
    data = [
        {"branch": 10 + i % 12, "created_month": f"20{20 + i // 48 % 7}-{i % 12 + 1:02d}",
         "value_tier": tiers[i % 4], "customers_count": 1000 + i, "aum_sum": f"{i * 12345.67:.2f}"}
        for i in range(rows)
    ]  # fmt: skip
    now = datetime.now(UTC)
    run = RunOut(
        1, 10, 1, 1, "分行客户分层月报", "customer_archive.customers", "schedule", "done",
        rows, False, date(2026, 11, 1), date(2026, 12, 1), "", now, columns, data, [10, 11],
    )  # fmt: skip
    names = {10 + i: f"BJ-{i:02d} 北京第{i}支行" for i in range(12)}
    terms = export.Terms("zh", names, {})
    heading = export.Heading("分行客户分层月报", "客户档案：客户", "BJ 北京分行（含下辖机构）",
                             "2026-11-01 ~ 2026-11-30", "李海", "2026-12-05 08:00",
                             "2026-12-05 08:00", rows, False)  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    pages = 0
    if fmt == "pdf":
        from weasyprint import HTML

        document = HTML(string=export.render_html(run, terms, heading),
                        base_url=str(export.PACKAGE)).render()  # fmt: skip
        pages = len(document.pages)
        size = len(document.write_pdf())
    elif fmt == "xlsx":
        file = export.write_xlsx(run, terms, heading)
        size = len(file.read())
    else:
        size = sum(len(chunk()) for chunk in export.csv_chunks(run, terms))
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"seconds": round(seconds, 3), "peak_mib": round(peak / 1024, 1),
            "added_mib": round((peak - before) / 1024, 1),
            "bytes": size, "pages": pages}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1200)
    parser.add_argument("--format")
    args = parser.parse_args()
    if args.format:
        print(json.dumps(make(args.format, args.rows)))
        return
    results = {}
    for fmt in ("csv", "xlsx", "pdf"):
        out = subprocess.run(
            [sys.executable, __file__, "--rows", str(args.rows), "--format", fmt],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        results[fmt] = json.loads(out.stdout.strip().splitlines()[-1])
        print(fmt, results[fmt], flush=True)
    stamp = datetime.now(UTC)
    machine = f"{platform.machine()}, Python {platform.python_version()}"
    RESULTS.mkdir(exist_ok=True)
    name = RESULTS / f"{stamp:%Y-%m-%d-%H%M}-reporting-print"
    name.with_suffix(".json").write_text(
        json.dumps({"rows": args.rows, "at": stamp.isoformat(), "machine": machine,
                    "results": results}, indent=2), encoding="utf-8")  # fmt: skip
    lines = [
        f"# Report print and export, {args.rows:,} rows ({stamp:%Y-%m-%d %H:%M} UTC)", "",
        f"Machine: {machine}; 2 cores, 24 GiB. Command: `uv run python "
        f"benchmarks/reporting/bench_print.py --rows {args.rows}`.", "",
        "| format | pages | wall time (s) | peak RSS (MiB) | added while making (MiB)"
        " | size (bytes) |",
        "|---|---|---|---|---|---|",
    ]  # fmt: skip
    for fmt, r in results.items():
        lines.append(f"| {fmt} | {r['pages'] or '-'} | {r['seconds']} | {r['peak_mib']} |"
                     f" {r['added_mib']} | {r['bytes']:,} |")  # fmt: skip
    name.with_suffix(".md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(name.with_suffix(".md"))


if __name__ == "__main__":
    main()
