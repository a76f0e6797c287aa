"""Import benchmark: end-to-end import of generated customers beside a raw COPY.

    uv run python benchmarks/import/bench_import.py --customers 20000 --xlsx 2000 \
        --existing 20000

Against ``--database-url`` (default ``BENCH_DATABASE_URL`` or
``postgresql://postgres@127.0.0.1:5432/bankcrm_bench_import``), migrated and given the
demo branches if new. Steps, each import in a child process of its own so that its peak
resident memory (``ru_maxrss``) is the import's alone:

1. ``--existing`` customers are imported into branch BJ first (setup, timed apart), so the
   measured imports check their identities against that many existing customers;
2. N generated customers (the demo generator, another seed) are written to a CSV, M to an
   ``.xlsx``;
3. each file is imported end to end as the CLI does it: upload (checks, parse, validate,
   encrypt, search keys, COPY to staging, duplicate flags in SQL) then commit (one
   transaction of INSERT ... SELECT), timed per phase;
4. two raw asyncpg ``COPY`` baselines in the same run: the same CSV into a plain table of
   its columns (no index, no constraint, no RLS), and, fairer, the rows the CSV import
   wrote (customers, addresses, search keys, tag links of its batch) COPYed back as the
   owner into the real tables, with their indexes and foreign keys, in a transaction that
   first deletes them and is rolled back (so the archive is left as the import left it);
5. the cost of per-customer audit rows: K appends in one transaction (rolled back).

Writes ``benchmarks/results/<date>-import.md`` (and ``.json``) with the machine and date.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg

RESULTS = Path(__file__).resolve().parents[1] / "results"
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/bankcrm_bench_import"
HEADER = ["客户名称", "证件号码", "客户类型", "手机号", "出生日期", "性别", "职业", "工作单位",
          "行业", "省", "市", "区", "详细地址", "邮编", "标签"]  # fmt: skip


def customer_rows(count: int, seed: int) -> Any:
    from bankcrm_customer_archive.demo_data import generate_customers

    for c in generate_customers(count, seed=seed):
        address = c.addresses[0] if c.addresses else None
        yield [
            c.name, c.id_number, "个人" if c.kind == "individual" else "企业", c.phone,
            c.birth_date.isoformat() if c.birth_date else "",
            {"M": "男", "F": "女"}.get(c.gender or "", ""), c.occupation or "",
            c.employer or "", c.industry or "", address.province if address else "",
            address.city if address else "", address.district if address else "",
            address.street if address else "", address.postcode if address else "",
            ",".join(c.tags),
        ]  # fmt: skip


def write_csv(path: Path, count: int, seed: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(customer_rows(count, seed))


def write_xlsx(path: Path, count: int, seed: int) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("客户")
    sheet.write_row(0, 0, HEADER)
    for line, row in enumerate(customer_rows(count, seed), start=1):
        for column, value in enumerate(row):
            sheet.write_string(line, column, value)
    book.close()


def child(args: list[str]) -> dict[str, Any]:
    """Run a phase of this script in a child process; its JSON answer."""
    done = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"child {args} failed:\n{done.stderr[-4000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _file_facts(path: Path) -> tuple[int, str]:
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return path.stat().st_size, digest.hexdigest()


async def _import(path: Path, branch_code: str) -> dict[str, Any]:
    from bankcrm import branches
    from bankcrm.context import Scope, bind_scope
    from bankcrm.runtime import boot
    from bankcrm_customer_archive.importing import commit, service
    from bankcrm_customer_archive.importing.upload import StoredUpload

    kernel = await boot(connect=True)
    try:
        tree = await branches.snapshot()
        branch_id = tree.by_code[branch_code]
        scope = Scope(actor="system:bench", branch_ids=tree.subtree(branch_id), is_superuser=True)
        with bind_scope(scope):
            started = time.perf_counter()
            size, digest = _file_facts(path)
            stored = StoredUpload(path, path.name, size, digest, {"branch_id": str(branch_id)})
            batch = await service.upload(stored)
            staged = time.perf_counter()
            await service.request_commit(batch.id)
            status = await commit.commit_batch(batch.id)
            committed = time.perf_counter()
            final = await service.get_batch(batch.id)
    finally:
        await kernel.disconnect()
    return {
        "file": path.name, "bytes": size, "status": status, "batch_id": batch.id,
        "rows": final.total_rows, "valid": final.valid_rows, "invalid": final.invalid_rows,
        "duplicates": final.duplicate_rows, "existing": final.existing_rows,
        "committed": final.committed_rows,
        "upload_seconds": round(staged - started, 2),
        "commit_seconds": round(committed - staged, 2),
        "total_seconds": round(committed - started, 2),
        "rows_per_second": round(final.total_rows / (committed - started)),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }  # fmt: skip


async def _raw_copy(path: Path, owner_url: str) -> dict[str, Any]:
    connection = await asyncpg.connect(owner_url)
    try:
        columns = ", ".join(f"c{i} {'date' if i == 4 else 'text'}" for i in range(len(HEADER)))
        await connection.execute("DROP TABLE IF EXISTS bench_raw_customer")
        await connection.execute(f"CREATE TABLE bench_raw_customer ({columns})")
        started = time.perf_counter()
        await connection.copy_to_table(
            "bench_raw_customer", source=str(path), format="csv", header=True, null=""
        )
        seconds = time.perf_counter() - started
        rows = await connection.fetchval("SELECT count(*) FROM bench_raw_customer")
        await connection.execute("DROP TABLE bench_raw_customer")
    finally:
        await connection.close()
    return {"rows": rows, "seconds": round(seconds, 2), "rows_per_second": round(rows / seconds)}


# The tables a customer import writes, children first (the order rows are deleted in;
# COPY goes in the reverse order).
_IMPORT_TABLES = (
    ("customer_archive_search_key", "customer"),
    ("customer_archive_customer_tag", "customer"),
    ("customer_archive_customer_address", "customer"),
    ("customer_archive_customer", "id"),
)


async def _table_copy(batch_id: int, owner_url: str, folder: Path) -> dict[str, Any]:
    """Raw COPY of the rows an import committed, as the owner, into the real tables."""
    connection = await asyncpg.connect(owner_url)
    try:
        batch = f"SELECT id FROM customer_archive_customer WHERE import_batch_id = {batch_id}"
        files: dict[str, Path] = {}
        rows: dict[str, int] = {}
        for table, column in _IMPORT_TABLES:
            files[table] = folder / f"{table}.copy"
            status = await connection.copy_from_query(
                f"SELECT * FROM {table} WHERE {column} IN ({batch})",
                output=str(files[table]),
                format="binary",
            )
            rows[table] = int(status.split()[-1])
        transaction = connection.transaction()
        await transaction.start()
        try:
            for table, column in _IMPORT_TABLES:
                await connection.execute(f"DELETE FROM {table} WHERE {column} IN ({batch})")
            per_table: dict[str, float] = {}
            started = time.perf_counter()
            for table, _ in reversed(_IMPORT_TABLES):
                begun = time.perf_counter()
                await connection.copy_to_table(table, source=str(files[table]), format="binary")
                per_table[table] = round(time.perf_counter() - begun, 2)
            seconds = time.perf_counter() - started
        finally:
            await transaction.rollback()
        for path in files.values():
            path.unlink()
    finally:
        await connection.close()
    customers = rows["customer_archive_customer"]
    return {"customers": customers, "rows": rows, "seconds": round(seconds, 2),
            "per_table_seconds": per_table,
            "customers_per_second": round(customers / seconds)}  # fmt: skip


async def _audit_probe(count: int, owner_url: str, app_url: str) -> dict[str, Any]:
    """Append ``count`` audit rows in one transaction as the app would, then roll back."""
    owner = await asyncpg.connect(owner_url)
    branch = await owner.fetchval("SELECT id FROM bankcrm_branch WHERE code = 'BJ'")
    await owner.close()
    connection = await asyncpg.connect(app_url)
    try:
        transaction = connection.transaction()
        await transaction.start()
        await connection.execute(
            "SELECT set_config('bankcrm.branch_ids', $1, true),"
            " set_config('bankcrm.actor', 'system:bench', true)",
            str(branch),
        )
        started = time.perf_counter()
        await connection.execute(
            "SELECT bankcrm_audit_append($1, 'create', 'bench.customer', g::text, NULL,"
            " '{}'::jsonb, '', '') FROM generate_series(1, $2) AS g",
            branch,
            count,
        )
        seconds = time.perf_counter() - started
        await transaction.rollback()
    finally:
        await connection.close()
    return {"rows": count, "seconds": round(seconds, 2), "rows_per_second": round(count / seconds)}


async def _prepare(database_url: str) -> dict[str, Any]:
    from bankcrm import branches
    from bankcrm.demo import seed_kernel_world
    from bankcrm.runtime import boot

    kernel = await boot(migrate=True, connect=True)
    try:
        if not (await branches.snapshot()).nodes:
            await seed_kernel_world(kernel)
        owner = await asyncpg.connect(kernel.owner_url)
        try:
            existing = await owner.fetchval(
                "SELECT count(*) FROM customer_archive_customer c JOIN bankcrm_branch b"
                " ON b.id = c.branch_id WHERE b.code = 'BJ'"
            )
            version = await owner.fetchval("SHOW server_version")
        finally:
            await owner.close()
    finally:
        await kernel.disconnect()
    return {"existing": existing, "postgres": version, "app_url": kernel.app_url,
            "owner_url": kernel.owner_url}  # fmt: skip


def machine() -> dict[str, Any]:
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = line.split(":", 1)[1].strip()
        model = next(
            (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text()
             .splitlines() if line.startswith("model name")), platform.processor(),
        )  # fmt: skip
    except OSError:
        model = platform.processor()
    return {"cpu": model, "cores": os.cpu_count(), "memory": memory,
            "python": platform.python_version(), "system": platform.platform()}  # fmt: skip


def _short(table: str) -> str:
    return table.removeprefix("customer_archive_")


def markdown(result: dict[str, Any]) -> str:
    lines = [
        f"# Import benchmark, {result['date']}", "",
        f"Machine: {result['machine']['cpu']}, {result['machine']['cores']} cores,"
        f" {result['machine']['memory']}; Python {result['machine']['python']};"
        f" PostgreSQL {result['postgres']}.", "",
        f"Existing customers in the target branch before the measured imports:"
        f" {result['existing_before']:,}.", "",
        "| file | rows | valid | existing | committed | upload s | commit s | total s |"
        " rows/s | peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]  # fmt: skip
    for run in result["imports"]:
        lines.append(
            f"| {run['file']} | {run['rows']:,} | {run['valid']:,} | {run['existing']:,} |"
            f" {run['committed']:,} | {run['upload_seconds']} | {run['commit_seconds']} |"
            f" {run['total_seconds']} | {run['rows_per_second']:,} | {run['peak_rss_mb']} |"
        )
    raw = result["raw_copy"]
    table = result["table_copy"]
    rows = ", ".join(f"{_short(t)} {n:,}" for t, n in table["rows"].items())
    per_table = ", ".join(f"{_short(t)} {s} s" for t, s in table["per_table_seconds"].items())
    csv_run = result["imports"][0]
    lines += [
        "", f"Raw asyncpg COPY of the same CSV into a plain table of its columns (no indexes,"
        f" no RLS): {raw['rows']:,} rows in {raw['seconds']} s = {raw['rows_per_second']:,}"
        f" rows/s. Import / raw COPY = {csv_run['rows_per_second'] / raw['rows_per_second']:.3f}.",
        "", f"Raw asyncpg COPY, as the owner (no RLS), of the rows the CSV import wrote into the"
        f" real tables with their indexes and foreign keys: {table['customers']:,} customers"
        f" ({rows}) in {table['seconds']} s = {table['customers_per_second']:,} customers/s"
        f" ({per_table}). Import / table COPY ="
        f" {csv_run['rows_per_second'] / table['customers_per_second']:.2f}.",
        "", "Per-customer audit rows (bankcrm_audit_append, one transaction, rolled back):",
    ]  # fmt: skip
    for probe in result["audit_probe"]:
        lines.append(
            f"- {probe['rows']:,} rows: {probe['seconds']} s ({probe['rows_per_second']:,}/s)"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--xlsx", type=int, default=2_000)
    parser.add_argument("--existing", type=int, default=0)
    parser.add_argument("--audit-probe", type=int, nargs="*", default=[2_000, 8_000])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--phase", choices=["import", "prepare"], help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ["BANKCRM_DATABASE_URL"] = args.database_url
    os.environ.setdefault("BANKCRM_SECRET_KEY", "bankcrm-bench-secret-key")
    if args.phase == "import":
        print(json.dumps(asyncio.run(_import(args.file, "BJ"))))
        return
    if args.phase == "prepare":
        print(json.dumps(asyncio.run(_prepare(args.database_url))))
        return
    from bankcrm.db import database_name, ensure_database, with_database

    asyncio.run(ensure_database(with_database(args.database_url, "postgres"),
                                database_name(args.database_url)))  # fmt: skip
    prepared = child(["--phase", "prepare", "--database-url", args.database_url])
    folder = Path(tempfile.mkdtemp(prefix="bankcrm-bench-import-"))
    setup: dict[str, Any] | None = None
    if args.existing > prepared["existing"]:
        existing_file = folder / f"existing-{args.existing}.csv"
        write_csv(
            existing_file, args.existing - prepared["existing"], seed=1000 + prepared["existing"]
        )
        setup = child(["--phase", "import", "--file", str(existing_file), "--database-url",
                       args.database_url])  # fmt: skip
    seed = int(time.time())  # new identities each run: nothing is "already existing"
    csv_file = folder / f"customers-{args.customers}.csv"
    write_csv(csv_file, args.customers, seed)
    runs = [child(["--phase", "import", "--file", str(csv_file), "--database-url",
                   args.database_url])]  # fmt: skip
    if args.xlsx:
        xlsx_file = folder / f"customers-{args.xlsx}.xlsx"
        write_xlsx(xlsx_file, args.xlsx, seed + 1)
        runs.append(child(["--phase", "import", "--file", str(xlsx_file), "--database-url",
                           args.database_url]))  # fmt: skip
    raw = asyncio.run(_raw_copy(csv_file, prepared["owner_url"]))
    table_copy = asyncio.run(_table_copy(runs[0]["batch_id"], prepared["owner_url"], folder))
    probes = [asyncio.run(_audit_probe(n, prepared["owner_url"], prepared["app_url"]))
              for n in args.audit_probe]  # fmt: skip
    now = dt.datetime.now()
    result = {
        "date": now.strftime("%Y-%m-%d %H:%M"), "machine": machine(),
        "postgres": prepared["postgres"],
        "existing_before": max(prepared["existing"], args.existing),
        "setup": setup, "imports": runs, "raw_copy": raw, "table_copy": table_copy,
        "audit_probe": probes,
    }  # fmt: skip
    RESULTS.mkdir(exist_ok=True)
    stem = RESULTS / f"{now:%Y-%m-%d-%H%M}-import"
    stem.with_suffix(".json").write_text(json.dumps(result, ensure_ascii=False, indent=2))
    stem.with_suffix(".md").write_text(markdown(result))
    print(markdown(result))
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()


if __name__ == "__main__":
    main()
