"""Show the SQL each app sends for one request of each endpoint, to keep bare_app.py honest.

The bare baseline is only meaningful while it sends the statements the platform sends.
This turns on ``log_statement = 'all'`` for the application role in the benchmark
database only, starts both servers as the load run does, requests one path per endpoint
from each (the second of two identical requests, so asyncpg's one-off type introspection
is left out), reads the new lines of PostgreSQL's log, and prints the statements side by
side with their counts. The setting is reset at the end.

    uv run python benchmarks/load/capture_sql.py [--endpoints detail,360] \
        [--pg-log /var/log/postgresql/postgresql-15-main.log]

Exit status 1 when the two apps send different sets of statements (ignoring the scope
``set_config`` and the pool's reset on release, which the platform sends once per
statement and the bare app once per request: that difference is overhead being measured).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg
from run_http_load import (
    APP_ROLE,
    CUSTOMER_ENDPOINTS,
    DEFAULT_DATABASE_URL,
    Server,
    acting_branch_ids,
    build_endpoints,
    customer_table_exists,
    http_get,
    login,
    prepare_database,
    running_servers,
)

ENTRY = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? \S+ \[\d+\] (?P<who>\S*) (?P<kind>[A-Z]+):  "
    r"(?P<text>.*)$"
)
STATEMENT = re.compile(r"^(?:execute [^:]+|statement): (?P<sql>.*)$", re.DOTALL)
SCOPE = "set_config('bankcrm.branch_ids'"
RELEASE = "pg_advisory_unlock_all()"


async def set_logging(owner_url: str, database: str, on: bool) -> None:
    connection = await asyncpg.connect(owner_url)
    try:
        action = "SET log_statement = 'all'" if on else "RESET log_statement"
        await connection.execute(f'ALTER ROLE "{APP_ROLE}" IN DATABASE "{database}" {action}')
    finally:
        await connection.close()


async def default_log_file(owner_url: str) -> Path:
    connection = await asyncpg.connect(owner_url)
    try:
        current = await connection.fetchval("SELECT pg_current_logfile()")
        data_directory = await connection.fetchval("SHOW data_directory")
        major = (await connection.fetchval("SHOW server_version")).split(".")[0]
    finally:
        await connection.close()
    if current:
        path = Path(current)
        return path if path.is_absolute() else Path(data_directory) / path
    # Debian's pg_ctlcluster sends stderr here when the logging collector is off.
    return Path(f"/var/log/postgresql/postgresql-{major}-main.log")


def statements(log_text: str, who: str) -> list[str]:
    entries: list[tuple[str, str, str]] = []
    for line in log_text.splitlines():
        match = ENTRY.match(line)
        if match:
            entries.append((match["who"], match["kind"], match["text"]))
        elif entries and line.startswith("\t"):
            last = entries[-1]
            entries[-1] = (last[0], last[1], last[2] + "\n" + line[1:])
    found = []
    for entry_who, kind, text in entries:
        sql = STATEMENT.match(text) if kind == "LOG" and entry_who == who else None
        if sql:
            found.append(" ".join(sql["sql"].split()))
    return found


def request_sql(server: Server, path: str, cookie: str, log_file: Path, who: str) -> list[str]:
    http_get(server.base + path, cookie)
    time.sleep(0.3)
    offset = log_file.stat().st_size
    status, _, _ = http_get(server.base + path, cookie)
    if status != 200:
        raise RuntimeError(f"{server.name} {path}: HTTP {status}")
    time.sleep(0.5)
    with log_file.open("rb") as log:
        log.seek(offset)
        return statements(log.read().decode("utf-8", "replace"), who)


def domain(sql: list[str]) -> Counter[str]:
    return Counter(s for s in sql if SCOPE not in s and RELEASE not in s)


def compare(
    platform: Server, bare: Server, path: str, cookie: str, log_file: Path, who: str
) -> tuple[bool, dict[str, int]]:
    print(f"\n=== GET {path}")
    captured = {}
    for server in (platform, bare):
        sql = request_sql(server, path, cookie, log_file, who)
        captured[server.name] = sql
        print(f"--- {server.name}: {len(sql)} statements")
        for number, text in enumerate(sql, 1):
            print(f"  {number:>2}. {text[:220]}")
    only_platform = domain(captured["platform"]) - domain(captured["bare"])
    only_bare = domain(captured["bare"]) - domain(captured["platform"])
    for text in only_platform.elements():
        print(f"  !!! platform only: {text[:220]}")
    for text in only_bare.elements():
        print(f"  !!! bare only:     {text[:220]}")
    same = not only_platform and not only_bare
    print("same statements (besides scope setting and release)" if same else "!!! DIFFERENT")
    return same, {name: len(sql) for name, sql in captured.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--endpoints", default="auto")
    parser.add_argument("--user", default="demo.bj.manager")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--pg-log", type=Path, default=None)
    args = parser.parse_args()
    prepared = prepare_database(args.database_url, args.customers, reset=False)
    database = prepared["database"]
    log_file = args.pg_log or asyncio.run(default_log_file(args.database_url))
    names = args.endpoints.split(",")
    if args.endpoints == "auto":
        names = ["me", "badge"]
        if asyncio.run(customer_table_exists(args.database_url)):
            names.extend(CUSTOMER_ENDPOINTS)
    branch_ids = asyncio.run(acting_branch_ids(args.database_url, args.user))
    endpoints = asyncio.run(build_endpoints(names, args.database_url, branch_ids, 10))
    who = f"{APP_ROLE}@{database}"
    same = True
    summary: dict[str, dict[str, Any]] = {}
    asyncio.run(set_logging(args.database_url, database, True))
    try:
        with (
            tempfile.TemporaryDirectory(prefix="bankcrm-sql-") as tmp,
            running_servers(args.database_url, Path(tmp)) as (platform, bare),
        ):
            cookie = login(platform.base, args.user)
            for endpoint in endpoints:
                # Search: the first path is a Chinese name, the second a pinyin query.
                for path in endpoint.paths[: 2 if endpoint.name == "search" else 1]:
                    ok, counts = compare(platform, bare, path, cookie, log_file, who)
                    if not ok:
                        # A request may also carry a cache refresh (the branch tree every
                        # five seconds): only a difference that repeats counts.
                        print("(capturing once more)")
                        ok, counts = compare(platform, bare, path, cookie, log_file, who)
                    same = same and ok
                    earlier = summary.get(endpoint.name, {}).get("same", True)
                    summary[endpoint.name] = {**counts, "same": ok and earlier}
    finally:
        asyncio.run(set_logging(args.database_url, database, False))
    print("CAPTURE_JSON " + json.dumps(summary))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
