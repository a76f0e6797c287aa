"""HTTP load benchmark: the platform beside a bare Litestar + asyncpg baseline, one run.

For each endpoint and each concurrency (closed loop: N keep-alive connections, each sends
its next request when the previous answer arrived) this runs ``wrk`` against the platform
(``bankcrm serve --no-worker``) and then against ``bare_app.py``, which serves the same
path with the same SQL; both are single uvicorn processes with the same flags, on
127.0.0.1, over the same PostgreSQL database, as the same application role. It records
requests/s, p50/p90/p99 latency, the CPU each party used (server, PostgreSQL, wrk, the rest
of the machine) and the servers' resident memory, and writes JSON and Markdown to
``benchmarks/results/<date>-<topic>.{json,md}`` with the ratios platform/bare.

    apt-get install -y wrk      # once: the load generator (Debian package)
    uv run python benchmarks/load/run_http_load.py                  # full run, ~6 min
    uv run python benchmarks/load/run_http_load.py --endpoints me --duration 3 --no-save

See benchmarks/README.md for what the numbers mean.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import hashlib
import http.client
import json
import os
import platform as host_platform
import random
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import psutil

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
RESULTS = REPO / "benchmarks" / "results"
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/bankcrm_bench"
# Fixed so that PII encrypted while seeding stays readable by every later server run.
BENCH_SECRET_KEY = "bankcrm-benchmark-only-secret-key-not-for-production"
PASSWORD = "Demo-Passw0rd!"
APP_ROLE = "bankcrm_app"


# --- servers ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def with_user(url: str, user: str) -> str:
    parts = urllib.parse.urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urllib.parse.urlunsplit((parts.scheme, f"{user}@{host}", parts.path, parts.query, ""))


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def tree(self) -> list[psutil.Process]:
        root = psutil.Process(self.process.pid)
        return [root, *root.children(recursive=True)]

    def memory(self) -> dict[str, float]:
        rss = uss = 0
        for proc in self.tree():
            with contextlib.suppress(psutil.NoSuchProcess):
                info = proc.memory_full_info()
                rss += info.rss
                uss += info.uss
        return {"rss_mb": round(rss / 2**20, 1), "uss_mb": round(uss / 2**20, 1)}

    def cpu_seconds(self) -> float:
        total = 0.0
        for proc in self.tree():
            with contextlib.suppress(psutil.NoSuchProcess):
                times = proc.cpu_times()
                total += times.user + times.system
        return total

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(
    name: str,
    argv: list[str],
    env: dict[str, str],
    port: int,
    workdir: Path,
    ready_path: str,
    timeout: float = 120.0,
) -> Server:
    log_path = workdir / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            argv, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=REPO
        )
    server = Server(name, port, process, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"{name} exited with {process.returncode}; see {log_path}:\n"
                + log_path.read_text(errors="replace")[-3000:]
            )
        with contextlib.suppress(OSError):
            status, _, _ = http_get(server.base + ready_path)
            if status == 200:
                return server
        time.sleep(0.25)
    server.stop()
    raise RuntimeError(f"{name} did not answer {ready_path} within {timeout:.0f} s; see {log_path}")


def http_get(url: str, cookie: str = "") -> tuple[int, bytes, dict[str, str]]:
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = connection.getresponse()
        return response.status, response.read(), dict(response.getheaders())
    finally:
        connection.close()


def login(base: str, username: str) -> str:
    """The session cookie (``id=...``) for ``username``; the bare app reads the same table."""
    parts = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)
    try:
        body = json.dumps({"username": username, "password": PASSWORD})
        connection.request(
            "POST", "/api/v1/auth/login", body=body, headers={"Content-Type": "application/json"}
        )
        response = connection.getresponse()
        payload = response.read()
        if response.status != 200:
            raise RuntimeError(f"login as {username} failed: {response.status} {payload[:300]!r}")
        for header, value in response.getheaders():
            if header.lower() == "set-cookie" and value.startswith("id="):
                return value.split(";", 1)[0]
    finally:
        connection.close()
    raise RuntimeError("login answered 200 without an id cookie")


# --- CPU accounting --------------------------------------------------------------------------


def postgres_cpu() -> dict[int, float]:
    """CPU seconds per PostgreSQL process (all databases: other work on the server counts)."""
    seconds = {}
    for proc in psutil.process_iter(["name", "cpu_times"]):
        if proc.info["name"] == "postgres" and proc.info["cpu_times"] is not None:
            times = proc.info["cpu_times"]
            seconds[proc.pid] = times.user + times.system
    return seconds


def background_load(seconds: float = 3.0) -> float:
    """Cores busy with other work (other sessions, test suites) before the run starts."""
    before = busy_cpu()
    time.sleep(seconds)
    return round((busy_cpu() - before) / seconds, 2)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def busy_cpu() -> float:
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


@dataclass
class CpuSample:
    wall: float
    server: float
    postgres: dict[int, float]
    load_generator: float
    machine: float

    @classmethod
    def take(cls, server: Server) -> CpuSample:
        return cls(
            time.perf_counter(), server.cpu_seconds(), postgres_cpu(), children_cpu(), busy_cpu()
        )

    def cores_used_until(self, later: CpuSample) -> dict[str, float]:
        """Average cores busy per party between two samples (2.0 = both cores)."""
        wall = later.wall - self.wall
        pg = sum(v - self.postgres.get(pid, 0.0) for pid, v in later.postgres.items())
        server = later.server - self.server
        generator = later.load_generator - self.load_generator
        machine = later.machine - self.machine
        other = max(0.0, machine - server - pg - generator)
        return {
            "server": round(server / wall, 2),
            "postgres": round(pg / wall, 2),
            "wrk": round(generator / wall, 2),
            "other": round(other / wall, 2),
            "machine": round(machine / wall, 2),
        }


# --- load ------------------------------------------------------------------------------------


@dataclass
class Measurement:
    endpoint: str
    app: str
    concurrency: int
    requests: int
    errors: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    cores: dict[str, float] = field(default_factory=dict)
    rounds: list[dict[str, float]] = field(default_factory=list)
    """Per round: req/s, p50 and p99 (the fields above are the medians of the rounds)."""


def combine(rounds: Sequence[Measurement]) -> Measurement:
    """One cell from its rounds: medians of rates and percentiles, mean cores, sums."""
    first = rounds[0]

    def median(values: Iterable[float]) -> float:
        return round(statistics.median(values), 2)

    return Measurement(
        endpoint=first.endpoint,
        app=first.app,
        concurrency=first.concurrency,
        requests=sum(r.requests for r in rounds),
        errors=sum(r.errors for r in rounds),
        seconds=round(sum(r.seconds for r in rounds), 2),
        rps=median(r.rps for r in rounds),
        p50_ms=median(r.p50_ms for r in rounds),
        p90_ms=median(r.p90_ms for r in rounds),
        p99_ms=median(r.p99_ms for r in rounds),
        max_ms=max(r.max_ms for r in rounds),
        cores={k: round(statistics.fmean(r.cores[k] for r in rounds), 2) for k in first.cores},
        rounds=[{"rps": r.rps, "p50_ms": r.p50_ms, "p99_ms": r.p99_ms} for r in rounds],
    )


WRK_JSON = re.compile(r"^BENCH_JSON (\{.*\})$", re.MULTILINE)


def run_wrk(
    url: str, paths_file: Path, cookie: str, concurrency: int, seconds: float
) -> dict[str, Any]:
    # One wrk thread: it is enough for these rates and leaves the most CPU to the server.
    argv = [
        "wrk",
        "-t1",
        f"-c{concurrency}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(HERE / "paths.lua"),
        url,
        "--",
        str(paths_file),
        cookie,
    ]
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=seconds + 60)
    match = WRK_JSON.search(done.stdout)
    if done.returncode != 0 or match is None:
        raise RuntimeError(
            f"wrk failed ({done.returncode}): {done.stdout[-2000:]} {done.stderr[-2000:]}"
        )
    result: dict[str, Any] = json.loads(match.group(1))
    return result


def measure(
    server: Server,
    endpoint: str,
    paths_file: Path,
    cookie: str,
    concurrency: int,
    warmup: float,
    duration: float,
) -> Measurement:
    if warmup > 0:
        run_wrk(server.base, paths_file, cookie, concurrency, warmup)
    before = CpuSample.take(server)
    raw = run_wrk(server.base, paths_file, cookie, concurrency, duration)
    cores = before.cores_used_until(CpuSample.take(server))
    errors = sum(raw["errors"].values())
    seconds = raw["duration_us"] / 1e6
    latency = raw["latency_us"]
    return Measurement(
        endpoint=endpoint,
        app=server.name,
        concurrency=concurrency,
        requests=raw["requests"],
        errors=errors,
        seconds=round(seconds, 2),
        rps=round((raw["requests"] - raw["errors"]["status"]) / seconds, 1),
        p50_ms=latency["p50"] / 1000,
        p90_ms=latency["p90"] / 1000,
        p99_ms=latency["p99"] / 1000,
        max_ms=latency["max"] / 1000,
        cores=cores,
    )


# --- endpoints -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    name: str
    label: str
    paths: list[str]


async def acting_branch_ids(owner_url: str, username: str) -> list[int]:
    connection = await asyncpg.connect(owner_url)
    try:
        rows = await connection.fetch(
            "SELECT DISTINCT b.id FROM bankcrm_membership m"
            " JOIN piccolo_user u ON u.id = m.user"
            " JOIN bankcrm_branch root ON root.id = m.branch"
            " JOIN bankcrm_branch b ON b.path LIKE root.path || '%'"
            " WHERE u.username = $1 ORDER BY b.id",
            username,
        )
    finally:
        await connection.close()
    return [r["id"] for r in rows]


CUSTOMER_BASE = "/api/v1/customer_archive/customers"
BADGE_PATH = "/api/v1/notifications/badge"
CUSTOMER_ENDPOINTS = ("detail", "360", "search")


async def customer_table_exists(owner_url: str) -> bool:
    connection = await asyncpg.connect(owner_url)
    try:
        return bool(
            await connection.fetchval(
                "SELECT to_regclass('public.customer_archive_customer') IS NOT NULL"
            )
        )
    finally:
        await connection.close()


async def sample_customers(owner_url: str, branch_ids: list[int], sample: int) -> list[Any]:
    """Random live customers of the acting user's branches (read as the owner, no RLS)."""
    connection = await asyncpg.connect(owner_url)
    try:
        return list(
            await connection.fetch(
                "SELECT id, name, name_pinyin FROM customer_archive_customer"
                " WHERE branch_id = ANY($1::bigint[]) AND deleted_at IS NULL"
                " ORDER BY random() LIMIT $2",
                branch_ids,
                sample,
            )
        )
    finally:
        await connection.close()


def search_paths(customers: Sequence[Any]) -> list[str]:
    """Half the queries by Chinese name, half by pinyin (its first 12 letters, as staff
    type a long company name's start)."""
    paths = []
    for i, customer in enumerate(customers):
        by_name = i % 2 == 0 or not customer["name_pinyin"]
        term = customer["name"] if by_name else customer["name_pinyin"][:12]
        paths.append(f"{CUSTOMER_BASE}?q={urllib.parse.quote(term)}&limit=20")
    return paths


async def build_endpoints(
    names: Sequence[str], owner_url: str, branch_ids: list[int], sample: int
) -> list[Endpoint]:
    customers: list[Any] = []
    if any(name in CUSTOMER_ENDPOINTS for name in names):
        customers = await sample_customers(owner_url, branch_ids, sample)
        if not customers:
            raise SystemExit("no customers in the acting user's branches: seed the database")
    endpoints = []
    for name in names:
        if name == "me":
            endpoints.append(Endpoint("me", "GET /api/v1/auth/me", ["/api/v1/auth/me"]))
        elif name == "badge":
            endpoints.append(Endpoint("badge", f"GET {BADGE_PATH}", [BADGE_PATH]))
        elif name == "detail":
            endpoints.append(
                Endpoint(
                    "detail",
                    f"GET {CUSTOMER_BASE}/{{id}}",
                    [f"{CUSTOMER_BASE}/{c['id']}" for c in customers],
                )
            )
        elif name == "360":
            endpoints.append(
                Endpoint(
                    "360",
                    f"GET {CUSTOMER_BASE}/{{id}}/360",
                    [f"{CUSTOMER_BASE}/{c['id']}/360" for c in customers],
                )
            )
        elif name == "search":
            endpoints.append(
                Endpoint(
                    "search",
                    f"GET {CUSTOMER_BASE}?q=<name or pinyin>&limit=20",
                    search_paths(customers),
                )
            )
        else:
            raise SystemExit(
                f"unknown endpoint {name!r}; choose from me, badge, "
                + ", ".join(CUSTOMER_ENDPOINTS)
            )
    return endpoints


def write_paths(workdir: Path, endpoint: Endpoint) -> Path:
    path = workdir / f"paths-{endpoint.name}.txt"
    path.write_text("\n".join(endpoint.paths) + "\n")
    return path


def check_endpoint(servers: Sequence[Server], endpoint: Endpoint, cookie: str) -> dict[str, Any]:
    """Both apps answer the same sample paths with 200 and, for lists, as many items."""
    paths = random.sample(endpoint.paths, min(20, len(endpoint.paths)))
    sizes = dict.fromkeys((server.name for server in servers), 0)
    items = dict.fromkeys((server.name for server in servers), 0)
    for path in paths:
        for server in servers:
            status, body, _ = http_get(server.base + path, cookie)
            if status != 200:
                raise RuntimeError(f"{server.name} {path}: {status} {body[:300]!r}")
            sizes[server.name] += len(body)
            answer = json.loads(body)
            if isinstance(answer, dict) and isinstance(answer.get("items"), list):
                items[server.name] += len(answer["items"])
    return {
        "sample_paths": len(paths),
        "mean_body_bytes": {name: total // len(paths) for name, total in sizes.items()},
        "list_items": items,
    }


# --- machine ---------------------------------------------------------------------------------


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return host_platform.processor() or "unknown"


def git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)
    return done.stdout.strip()


async def machine_info(owner_url: str) -> dict[str, Any]:
    from importlib.metadata import version

    connection = await asyncpg.connect(owner_url)
    try:
        pg_version = await connection.fetchval("SHOW server_version")
        pg_settings = {
            name: await connection.fetchval(f"SHOW {name}")
            for name in ("shared_buffers", "max_connections", "lc_ctype")
        }
    finally:
        await connection.close()
    wrk = await asyncio.to_thread(
        subprocess.run, ["wrk", "--version"], capture_output=True, text=True, check=False
    )
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpu_model": cpu_model(),
        "logical_cores": os.cpu_count(),
        "physical_cores": psutil.cpu_count(logical=False),
        "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "os": f"{host_platform.system()} {host_platform.release()}",
        "python": host_platform.python_version(),
        "postgresql": pg_version,
        "postgresql_settings": pg_settings,
        "wrk": (wrk.stdout or wrk.stderr).splitlines()[0] if (wrk.stdout or wrk.stderr) else "",
        "packages": {p: version(p) for p in ("litestar", "uvicorn", "asyncpg", "piccolo")},
        "git_commit": git("rev-parse", "--short", "HEAD"),
        # The customer archive changes often: which version of its SQL was measured.
        "customer_archive_services_sha256": hashlib.sha256(
            (
                REPO / "plugins/customer_archive/src/bankcrm_customer_archive/services.py"
            ).read_bytes()
        ).hexdigest()[:12],
        "git_dirty": bool(git("status", "--porcelain")),
    }


async def database_summary(owner_url: str) -> dict[str, int]:
    connection = await asyncpg.connect(owner_url)
    try:
        rows = await connection.fetch(
            "SELECT relname, n_live_tup FROM pg_stat_user_tables"
            " WHERE n_live_tup > 0 ORDER BY n_live_tup DESC LIMIT 8"
        )
    finally:
        await connection.close()
    return {r["relname"]: r["n_live_tup"] for r in rows}


# --- report ----------------------------------------------------------------------------------


def ratios(measurements: Sequence[Measurement]) -> list[dict[str, Any]]:
    by_key = {(m.endpoint, m.concurrency, m.app): m for m in measurements}
    rows = []
    for (endpoint, concurrency, app), platform in by_key.items():
        bare = by_key.get((endpoint, concurrency, "bare"))
        if app != "platform" or bare is None:
            continue
        rows.append(
            {
                "endpoint": endpoint,
                "concurrency": concurrency,
                "rps_ratio": round(platform.rps / bare.rps, 2) if bare.rps else None,
                "p50_ratio": round(platform.p50_ms / bare.p50_ms, 2) if bare.p50_ms else None,
                "p99_ratio": round(platform.p99_ms / bare.p99_ms, 2) if bare.p99_ms else None,
            }
        )
    return rows


def markdown(report: dict[str, Any]) -> str:
    machine = report["machine"]
    lines = [
        f"# HTTP load: platform vs bare Litestar + asyncpg ({machine['date'][:10]})",
        "",
        f"- Machine: {machine['cpu_model']}, {machine['logical_cores']} logical cores "
        f"({machine['physical_cores']} physical), {machine['ram_gib']} GiB RAM, "
        f"{machine['os']}",
        f"- Python {machine['python']}, PostgreSQL {machine['postgresql']} "
        f"(shared_buffers {machine['postgresql_settings']['shared_buffers']}), "
        f"{machine['wrk']}",
        "- Packages: " + ", ".join(f"{k} {v}" for k, v in machine["packages"].items()),
        f"- Commit {machine['git_commit']}"
        + (" (with uncommitted changes)" if machine["git_dirty"] else "")
        + f"; customer_archive services.py sha256 {machine['customer_archive_services_sha256']}",
        f"- Database: {report['database']['name']}, largest tables: "
        + ", ".join(f"{k} {v:,}" for k, v in report["database"]["rows"].items()),
        f"- Acting user: {report['user']} (branch ids {report['branch_ids']}), session cookie",
        f"- Each cell: {report['settings']['warmup_s']} s warm-up, then "
        f"{report['settings']['duration_s']} s measured by wrk (1 thread, closed loop, "
        f"keep-alive) in {report['settings']['rounds']} rounds alternating platform and "
        "bare; each figure is the median of the rounds.",
        f"- Other work on the machine before the run: {report['background_cores_busy']} "
        "cores busy (the *other* column below is the same during each cell; both should be "
        "near 0 for clean numbers)",
        f"- Whole run: {report['run_seconds']:.0f} s",
        "",
        "## Throughput and latency",
        "",
        "| endpoint | clients | app | req/s | req/s per round | p50 ms | p90 ms | p99 ms "
        "| errors | cores: server / postgres / wrk / other |",
        "|---|---:|---|---:|---|---:|---:|---:|---:|---|",
    ]
    for m in report["measurements"]:
        c = m["cores"]
        per_round = " / ".join(f"{r['rps']:,.0f}" for r in m["rounds"])
        lines.append(
            f"| {m['endpoint']} | {m['concurrency']} | {m['app']} | {m['rps']:,.0f} "
            f"| {per_round} "
            f"| {m['p50_ms']:.1f} | {m['p90_ms']:.1f} | {m['p99_ms']:.1f} | {m['errors']} "
            f"| {c['server']:.2f} / {c['postgres']:.2f} / {c['wrk']:.2f} / {c['other']:.2f} |"
        )
    lines += [
        "",
        "## Platform / bare (same run)",
        "",
        "req/s ratio: 1.0 means no overhead, 0.5 means half the bare throughput. Latency "
        "ratios: 2.0 means twice as slow.",
        "",
        "| endpoint | clients | req/s ratio | p50 ratio | p99 ratio |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in report["ratios"]:
        lines.append(
            f"| {r['endpoint']} | {r['concurrency']} | {r['rps_ratio']} "
            f"| {r['p50_ratio']} | {r['p99_ratio']} |"
        )
    lines += ["", "## Aims", ""]
    for aim in report["aims"]:
        lines.append(
            f"- {aim['aim']}: measured {aim['measured']} -> {'met' if aim['met'] else 'NOT met'}"
        )
    if not report["aims"]:
        lines.append("- (the aims concern the customer detail endpoint, not measured in this run)")
    lines += [
        "",
        "## Server memory (after the run)",
        "",
        "| app | RSS MB at start | RSS MB at end | USS MB at end |",
        "|---|---:|---:|---:|",
    ]
    for app, memory in report["memory"].items():
        lines.append(
            f"| {app} | {memory['start']['rss_mb']} | {memory['end']['rss_mb']} "
            f"| {memory['end']['uss_mb']} |"
        )
    lines += ["", "## SQL sent per request (capture_sql.py, before the load)", ""]
    check = report["sql_check"]
    if not check:
        lines.append("- not checked (--no-verify-sql)")
    elif "error" in check:
        lines.append(f"- check failed: `{check['error'][-300:]}`")
    else:
        lines += [
            "Statements include the scope `set_config` and the pool's reset on release; "
            "*same* compares the others.",
            "",
            "| endpoint | platform | bare | same statements |",
            "|---|---:|---:|---|",
        ]
        for name, row in check.items():
            lines.append(f"| {name} | {row['platform']} | {row['bare']} | {row['same']} |")
    lines += ["", "## Endpoints", ""]
    for endpoint in report["endpoints"]:
        lines.append(
            f"- **{endpoint['name']}**: {endpoint['label']} over "
            f"{endpoint['distinct_paths']:,} distinct paths; on the same "
            f"{endpoint['check']['sample_paths']} sample paths: mean body bytes "
            f"{endpoint['check']['mean_body_bytes']}, list items {endpoint['check']['list_items']}"
        )
    lines.append("")
    return "\n".join(lines)


def aims(
    measurements: Sequence[Measurement], ratio_rows: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    found = []
    detail = [
        m
        for m in measurements
        if m.endpoint == "detail" and m.app == "platform" and m.concurrency == 64
    ]
    if detail:
        found.append(
            {
                "aim": "p99 of customer detail at 64 clients < 50 ms",
                "measured": f"{detail[0].p99_ms:.1f} ms",
                "met": detail[0].p99_ms < 50,
            }
        )
    for row in ratio_rows:
        if row["endpoint"] == "detail" and row["concurrency"] == 64 and row["rps_ratio"]:
            found.append(
                {
                    "aim": "customer detail at 64 clients >= 0.5 x bare throughput",
                    "measured": f"{row['rps_ratio']:.2f}",
                    "met": row["rps_ratio"] >= 0.5,
                }
            )
    return found


def results_path(topic: str, when: dt.datetime) -> Path:
    stem = f"{when:%Y-%m-%d}-{topic}"
    if (RESULTS / f"{stem}.json").exists():
        stem = f"{when:%Y-%m-%d-%H%M}-{topic}"
    return RESULTS / stem


# --- main ------------------------------------------------------------------------------------


@contextlib.contextmanager
def running_servers(database_url: str, workdir: Path) -> Iterator[tuple[Server, Server]]:
    env = dict(os.environ)
    env.update(
        {
            "BANKCRM_DATABASE_URL": database_url,
            "BANKCRM_SECRET_KEY": BENCH_SECRET_KEY,
            "BANKCRM_DATA_DIR": str(workdir / "data"),
            "BENCH_APP_DSN": with_user(database_url, APP_ROLE),
        }
    )
    env.pop("BANKCRM_PLUGINS", None)
    started: list[Server] = []
    try:
        port = free_port()
        started.append(
            start_server(
                "platform",
                [sys.executable, "-m", "bankcrm", "serve", "--no-worker", "--port", str(port)],
                env,
                port,
                workdir,
                "/readyz",
            )
        )
        port = free_port()
        started.append(
            start_server(
                "bare",
                [sys.executable, str(HERE / "bare_app.py"), "--port", str(port)],
                env,
                port,
                workdir,
                "/healthz",
            )
        )
        yield started[0], started[1]
    finally:
        for server in started:
            server.stop()


def prepare_database(database_url: str, customers: int, reset: bool) -> dict[str, Any]:
    env = dict(os.environ, BANKCRM_DATABASE_URL=database_url, BANKCRM_SECRET_KEY=BENCH_SECRET_KEY)
    env.pop("BANKCRM_PLUGINS", None)
    argv = [sys.executable, str(HERE / "prepare_db.py"), "--customers", str(customers)]
    if reset:
        argv.append("--reset")
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False, cwd=REPO)
    if done.returncode != 0:
        raise RuntimeError(
            f"preparing the database failed:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
        )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def verify_sql(database_url: str, names: Sequence[str], username: str) -> dict[str, Any]:
    """Run capture_sql.py (its own servers: statement logging must not touch the measured
    ones) and return per endpoint the statements per request of each app and whether the
    apps send the same ones."""
    argv = [sys.executable, str(HERE / "capture_sql.py"), "--database-url", database_url,
            "--endpoints", ",".join(names), "--user", username]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=REPO)
    match = re.search(r"^CAPTURE_JSON (\{.*\})$", done.stdout, re.MULTILINE)
    if match is None:
        return {"error": (done.stdout + done.stderr)[-1500:]}
    result: dict[str, Any] = json.loads(match.group(1))
    return result


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="owner URL of the dedicated benchmark database",
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--reset", action="store_true", help="drop and re-seed the database")
    parser.add_argument(
        "--endpoints",
        default="auto",
        help="comma-separated from me, badge, detail, 360, search; auto: all that "
        "exist (the customer ones once customer_archive is migrated)",
    )
    parser.add_argument("--concurrency", default="1,16,64")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per cell")
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="split each cell's duration into this many alternating platform/bare rounds",
    )
    parser.add_argument("--user", default="demo.bj.manager")
    parser.add_argument(
        "--sample", type=int, default=5000, help="distinct customer ids / queries to draw from"
    )
    parser.add_argument("--topic", default="http-load")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=0.0,
        help="seconds to wait for other work on the machine to drop below --quiet-below",
    )
    parser.add_argument("--quiet-below", type=float, default=0.3, help="cores busy")
    parser.add_argument(
        "--no-verify-sql",
        action="store_true",
        help="skip capture_sql.py (it needs to read PostgreSQL's log file)",
    )
    parser.add_argument("--no-save", action="store_true", help="print, do not write results")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    started = time.perf_counter()
    levels = [int(c) for c in args.concurrency.split(",")]

    print(f"preparing {args.database_url} ({args.customers:,} customers)...", flush=True)
    prepared = prepare_database(args.database_url, args.customers, args.reset)
    print(f"  {json.dumps(prepared, ensure_ascii=False)}", flush=True)
    machine = asyncio.run(machine_info(args.database_url))
    branch_ids = asyncio.run(acting_branch_ids(args.database_url, args.user))
    names = args.endpoints.split(",")
    if args.endpoints == "auto":
        names = ["me", "badge"]
        if asyncio.run(customer_table_exists(args.database_url)):
            names.extend(CUSTOMER_ENDPOINTS)
    endpoints = asyncio.run(build_endpoints(names, args.database_url, branch_ids, args.sample))
    sql_check: dict[str, Any] = {}
    if not args.no_verify_sql:
        print("  checking that both apps send the same SQL (capture_sql.py)...", flush=True)
        sql_check = verify_sql(args.database_url, names, args.user)
        print(f"  {sql_check}", flush=True)
    background = background_load()
    deadline = time.monotonic() + args.quiet_wait
    while background > args.quiet_below and time.monotonic() < deadline:
        print(
            f"  {background} cores busy with other work; waiting for a quieter machine", flush=True
        )
        time.sleep(10)
        background = background_load()
    print(f"  background load before starting the servers: {background} cores busy", flush=True)

    measurements: list[Measurement] = []
    endpoint_info: list[dict[str, Any]] = []
    memory: dict[str, dict[str, Any]] = {}
    with (
        tempfile.TemporaryDirectory(prefix="bankcrm-bench-") as tmp,
        running_servers(args.database_url, Path(tmp)) as (platform, bare),
    ):
        workdir = Path(tmp)
        servers = (platform, bare)
        for server in servers:
            memory[server.name] = {"start": server.memory()}
        cookie = login(platform.base, args.user)
        for endpoint in endpoints:
            check = check_endpoint(servers, endpoint, cookie)
            endpoint_info.append(
                {
                    "name": endpoint.name,
                    "label": endpoint.label,
                    "distinct_paths": len(set(endpoint.paths)),
                    "check": check,
                }
            )
            paths_file = write_paths(workdir, endpoint)
            for cell, concurrency in enumerate(levels):
                rounds: dict[str, list[Measurement]] = {server.name: [] for server in servers}
                for number in range(args.rounds):
                    # Alternate who goes first, so neither side always inherits the other's
                    # warm caches or the tail of its load, and a burst of other work on the
                    # machine hits both.
                    order = servers if (cell + number) % 2 == 0 else servers[::-1]
                    for server in order:
                        warmup = args.warmup if number == 0 else 0.0
                        rounds[server.name].append(
                            measure(server, endpoint.name, paths_file, cookie, concurrency,
                                    warmup, args.duration / args.rounds)
                        )  # fmt: skip
                for server in servers:
                    m = combine(rounds[server.name])
                    measurements.append(m)
                    print(
                        f"  {m.endpoint:<8} c={m.concurrency:<3} {m.app:<8} "
                        f"{m.rps:>8,.0f} req/s  p50 {m.p50_ms:6.1f}  p99 {m.p99_ms:6.1f} ms"
                        f"  errors {m.errors}  cores {m.cores}",
                        flush=True,
                    )
        for server in servers:
            memory[server.name]["end"] = server.memory()

    ratio_rows = ratios(measurements)
    report = {
        "machine": machine,
        "database": {
            "name": prepared["database"],
            "rows": asyncio.run(database_summary(args.database_url)),
            "prepare": prepared,
        },
        "user": args.user,
        "branch_ids": branch_ids,
        "settings": {
            "warmup_s": args.warmup,
            "duration_s": args.duration,
            "concurrency": levels,
            "rounds": args.rounds,
            "load_generator": "wrk -t1 (paths.lua)",
        },
        "endpoints": endpoint_info,
        "measurements": [asdict(m) for m in measurements],
        "ratios": ratio_rows,
        "aims": aims(measurements, ratio_rows),
        "memory": memory,
        "sql_check": sql_check,
        "background_cores_busy": background,
        "run_seconds": round(time.perf_counter() - started, 1),
    }
    text = markdown(report)
    if args.no_save:
        print(text)
        return
    stem = results_path(args.topic, dt.datetime.now())
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem.with_suffix(".json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    stem.with_suffix(".md").write_text(text)
    print(text)
    print(f"written: {stem.with_suffix('.md').relative_to(REPO)} and .json")


if __name__ == "__main__":
    main()
