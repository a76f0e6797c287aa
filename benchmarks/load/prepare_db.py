"""Prepare the benchmark database: migrate, seed the demo world at scale, vacuum.

Seeding goes through the kernel's ``bankcrm.demo.seed`` exactly as ``bankcrm demo
--customers N`` does (branches, roles, the demo users, then every plugin's
``seed_demo_data`` with ``DemoContext(scale=N)``), but without starting a web server, so
it can run once and be reused by many load runs. A database that already has branches is
left as it is (pass ``--reset`` to drop and rebuild it).

    BANKCRM_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bankcrm_bench \
        uv run python benchmarks/load/prepare_db.py --customers 100000

Prints one JSON object: what was done, how long it took and the row counts of the largest
tables. Every call ends with ``VACUUM (ANALYZE)``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

import asyncpg

from bankcrm import demo
from bankcrm.db import database_name, drop_database, with_database
from bankcrm.runtime import boot
from bankcrm.settings import get_settings


async def table_rows(owner_url: str) -> dict[str, int]:
    connection = await asyncpg.connect(owner_url)
    try:
        # Earlier runs leave dead rows (every audited view updates the audit chain's head
        # row): vacuum so that each run starts from the same state.
        await connection.execute("VACUUM (ANALYZE)")
        rows = await connection.fetch(
            "SELECT relname, n_live_tup FROM pg_stat_user_tables"
            " WHERE n_live_tup > 0 ORDER BY n_live_tup DESC LIMIT 12"
        )
    finally:
        await connection.close()
    return {r["relname"]: r["n_live_tup"] for r in rows}


BULK_TABLES = ("customer_archive_search_key",)
"""Tables whose secondary indexes and foreign keys ``--bulk`` builds after the load: the
search keys are ~30 rows per customer, and maintaining their indexes and checking their
foreign keys row by row is most of the seeding time at a million customers."""


async def without_secondary_structures(owner_url: str) -> list[str]:
    """Drop the secondary indexes and foreign keys of :data:`BULK_TABLES`; answer the
    statements that recreate them."""
    connection = await asyncpg.connect(owner_url)
    try:
        recreate: list[str] = []
        for table in BULK_TABLES:
            for row in await connection.fetch(
                "SELECT conname, pg_get_constraintdef(oid) AS definition FROM pg_constraint"
                " WHERE conrelid = $1::regclass AND contype = 'f'",
                table,
            ):
                recreate.append(
                    f"ALTER TABLE {table} ADD CONSTRAINT {row['conname']} {row['definition']}"
                )
                await connection.execute(f"ALTER TABLE {table} DROP CONSTRAINT {row['conname']}")
            for row in await connection.fetch(
                "SELECT indexrelid::regclass::text AS name, pg_get_indexdef(indexrelid) AS ddl"
                " FROM pg_index WHERE indrelid = $1::regclass AND NOT indisprimary",
                table,
            ):
                recreate.append(row["ddl"])
                await connection.execute(f"DROP INDEX {row['name']}")
        return recreate
    finally:
        await connection.close()


async def run_statements(owner_url: str, statements: list[str]) -> None:
    connection = await asyncpg.connect(owner_url)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


async def prepare(customers: int, reset: bool, bulk: bool = False) -> dict[str, Any]:
    settings = get_settings()
    if settings.database_url is None:
        raise SystemExit("set BANKCRM_DATABASE_URL to the benchmark database's owner URL")
    if reset:
        if not database_name(settings.database_url).startswith("bankcrm_bench"):
            raise SystemExit("--reset drops the database: only for one named bankcrm_bench*")
        await drop_database(
            with_database(settings.database_url, "postgres"),
            database_name(settings.database_url),
        )
    started = time.perf_counter()
    kernel = await boot(migrate=True, connect=True)
    migrated = time.perf_counter()
    recreate = await without_secondary_structures(kernel.owner_url) if bulk else []
    try:
        context = await demo.seed(kernel, scale=customers)
    finally:
        await kernel.disconnect()
        await run_statements(kernel.owner_url, recreate)
    seeded = time.perf_counter()
    return {
        "database": database_name(settings.database_url),
        "plugins": list(kernel.registry.order),
        "seeded": context is not None,
        "requested_customers": customers,
        "migrate_seconds": round(migrated - started, 2),
        "seed_seconds": round(seeded - migrated, 2) if context is not None else 0.0,
        "table_rows": await table_rows(kernel.owner_url),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--reset", action="store_true", help="drop the database first")
    parser.add_argument(
        "--bulk",
        action="store_true",
        help="build the search keys' secondary indexes and foreign keys after the load",
    )
    args = parser.parse_args()
    result = asyncio.run(prepare(args.customers, args.reset, args.bulk))
    json.dump(result, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
