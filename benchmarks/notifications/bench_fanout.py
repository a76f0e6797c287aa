"""Notification fan-out: one notify() to N recipients, through the outbox and a real worker,
to the in-app and e-mail (file mail) channels. Wall time from the call to the last delivery.

    uv run python benchmarks/notifications/bench_fanout.py --recipients 100000

What is timed:

1. ``notify`` inside one transaction (system scope), as a plugin sends a bank-wide notice:
   the notification rows, one in-app and one e-mail delivery per recipient and one outbox
   message per 500 deliveries, committed with the caller's change;
2. a ``bankcrm worker`` process (started and ready before the clock starts, PostgreSQL
   broker, ``--threads`` dramatiq threads) relays the outbox, records the in-app
   deliveries and writes one ``.eml`` file per recipient (atomically, fsynced) under a
   temporary mail directory; the clock stops when no delivery of the run is pending or
   being sent.

The database (default ``bankcrm_bench_notifications`` on the local PostgreSQL) is
migrated and seeded with the demo world by ``benchmarks/load/prepare_db.py``; N - 1 bench
users in branch BJ-HD are added once (plus ``demo.bj.manager``, so the badge load run
finds unread notifications). Every run adds N notifications: ``--reset`` starts afresh.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform as host_platform
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import psutil

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
RESULTS = HERE.parent / "results"
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/bankcrm_bench_notifications"
SECRET_KEY = "bankcrm-benchmark-only-secret-key-not-for-production"
TEMPLATE_KEY = "benchnotify.notice"


def prepare(database_url: str, customers: int, reset: bool) -> dict[str, Any]:
    env = dict(os.environ, BANKCRM_DATABASE_URL=database_url, BANKCRM_SECRET_KEY=SECRET_KEY)
    env.pop("BANKCRM_PLUGINS", None)
    argv = [sys.executable, str(REPO / "benchmarks/load/prepare_db.py"), "--customers",
            str(customers)] + (["--reset"] if reset else [])  # fmt: skip
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False, cwd=REPO)
    if done.returncode != 0:
        raise SystemExit(f"preparing failed:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


async def ensure_users(owner_url: str, count: int) -> list[int]:
    """``count`` bench users in BJ-HD (relationship managers) and demo.bj.manager: ids."""
    owner = await asyncpg.connect(owner_url)
    try:
        async with owner.transaction():
            password = await owner.fetchval(
                "SELECT password FROM piccolo_user WHERE username = 'demo.bj.rm'"
            )
            await owner.execute(
                "INSERT INTO piccolo_user (username, password, first_name, last_name, email,"
                " active, admin, superuser)"
                " SELECT 'bench.user.' || lpad(i::text, 6, '0'), $2, '', '',"
                " 'bench.user.' || i || '@bench.bankcrm.local', true, false, false"
                " FROM generate_series(1, $1) AS i ON CONFLICT (username) DO NOTHING",
                count,
                password,
            )
            await owner.execute(
                'INSERT INTO bankcrm_membership ("user", branch, role)'
                " SELECT u.id, b.id, r.id FROM piccolo_user u, bankcrm_branch b, bankcrm_role r"
                " WHERE u.username LIKE 'bench.user.%' AND b.code = 'BJ-HD'"
                " AND r.name = 'relationship_manager'"
                ' AND NOT EXISTS (SELECT 1 FROM bankcrm_membership m WHERE m."user" = u.id)'
            )
        rows = await owner.fetch(
            "SELECT id FROM piccolo_user WHERE username LIKE 'bench.user.%'"
            " OR username = 'demo.bj.manager' ORDER BY id LIMIT $1",
            count + 1,
        )
        await owner.execute("VACUUM (ANALYZE) piccolo_user")
        await owner.execute("VACUUM (ANALYZE) bankcrm_membership")
        return [r["id"] for r in rows]
    finally:
        await owner.close()


def start_worker(
    database_url: str, mail_dir: Path, threads: int, log: Path
) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        {
            "BANKCRM_DATABASE_URL": database_url,
            "BANKCRM_SECRET_KEY": SECRET_KEY,
            "BANKCRM_MAIL_DIR": str(mail_dir),
            "BANKCRM_DATA_DIR": str(mail_dir.parent / "data"),
        }
    )
    env.pop("BANKCRM_PLUGINS", None)
    env.pop("BANKCRM_SMTP_HOST", None)
    handle = log.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "bankcrm", "worker", "--threads", str(threads)],
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
        cwd=REPO,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if "worker running" in log.read_text(errors="replace"):
            return process
        if process.poll() is not None:
            raise SystemExit(f"the worker exited: {log.read_text()[-3000:]}")
        time.sleep(0.2)
    process.kill()
    raise SystemExit("the worker did not start within 60 s")


def postgres_cpu_seconds() -> float:
    total = 0.0
    for process in psutil.process_iter(["name"]):
        if (process.info["name"] or "").startswith("postgres"):
            try:
                times = process.cpu_times()
            except psutil.Error:
                continue
            total += times.user + times.system
    return total


def tree_cpu_seconds(process: psutil.Process) -> float:
    total = 0.0
    for member in [process, *process.children(recursive=True)]:
        try:
            times = member.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


async def run(args: argparse.Namespace, recipients: list[int], mail_dir: Path) -> dict[str, Any]:
    from bankcrm import db
    from bankcrm.context import Scope, bind_scope
    from bankcrm.notifications import NotificationSource, NotificationTemplate, notify, service
    from bankcrm.runtime import boot, load_registry
    from bankcrm_sdk.plugins import make_plugin

    os.environ["BANKCRM_DATABASE_URL"] = args.database_url
    os.environ.setdefault("BANKCRM_SECRET_KEY", SECRET_KEY)
    kernel = await boot(connect=True)
    notice = NotificationTemplate(
        key=TEMPLATE_KEY,
        category="benchnotify",
        title_zh="全行通知：$what",
        body_zh="请于本周内完成 $what。",
        title_en="Bank-wide notice: $what",
        body_en="Please complete $what this week.",
        channels=("in_app", "email"),
    )
    plugin = make_plugin("benchnotify", hooks={"register_notification_templates": lambda: [notice]})
    service.install(load_registry(kernel.settings, [plugin]), kernel.settings)
    branch = await db.fetchval("SELECT id FROM bankcrm_branch WHERE code = 'BJ-HD'")
    run_id = uuid.uuid4().hex
    owner = await asyncpg.connect(kernel.owner_url)
    # The run's deliveries are those with a higher id than any before it; counting only the
    # unfinished ones (status index) keeps the polling out of the measurement.
    progress_sql = (
        "SELECT status, count(*) AS n FROM bankcrm_notification_delivery"
        " WHERE id > $1 AND status IN ('pending', 'sending') GROUP BY status"
    )
    final_sql = (
        "SELECT status, count(*) AS n FROM bankcrm_notification_delivery"
        " WHERE id > $1 GROUP BY status"
    )
    before = await owner.fetchval("SELECT coalesce(max(id), 0) FROM bankcrm_notification_delivery")
    try:
        pg_before = postgres_cpu_seconds()
        started = time.perf_counter()
        all_branches = frozenset(
            r["id"] for r in await owner.fetch("SELECT id FROM bankcrm_branch")
        )
        with bind_scope(Scope(actor="system:bench", branch_ids=all_branches)):
            async with db.transaction():
                await notify(
                    recipients,
                    TEMPLATE_KEY,
                    {"what": "反洗钱培训"},
                    NotificationSource("bankcrm", "bench_fanout", run_id, branch),
                )
        committed = time.perf_counter()
        trace: list[tuple[float, dict[str, int]]] = []
        while True:
            counts = {r["status"]: r["n"] for r in await owner.fetch(progress_sql, before)}
            now = time.perf_counter()
            trace.append((round(now - started, 2), counts))
            if not counts.get("pending") and not counts.get("sending"):
                break
            if now - started > args.timeout:
                break
            await asyncio.sleep(0.5)
        finished = time.perf_counter()
        statuses = {r["status"]: r["n"] for r in await owner.fetch(final_sql, before)}
        outbox = await owner.fetchval("SELECT count(*) FROM bankcrm_outbox")
    finally:
        await owner.close()
        await kernel.disconnect()
    return {
        "run_id": run_id,
        "notify_seconds": round(committed - started, 2),
        "delivery_seconds_after_commit": round(finished - committed, 2),
        "wall_seconds": round(finished - started, 2),
        "statuses": statuses,
        "timed_out": finished - started > args.timeout,
        "trace": [*trace[:: max(1, len(trace) // 40)], trace[-1]],
        "postgres_cpu_seconds": round(postgres_cpu_seconds() - pg_before, 1),
        "outbox_rows_left": outbox,
    }


def machine() -> dict[str, Any]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": host_platform.python_version(),
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO
        ).stdout.strip(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_NOTIFY_DATABASE_URL", DEFAULT_DATABASE_URL)
    )
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=1000, help="demo scale when seeding")
    parser.add_argument("--threads", type=int, default=4, help="worker threads")
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--reset", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args()

    info = machine()
    print(f"preparing {args.database_url}...", flush=True)
    prepared = prepare(args.database_url, args.customers, args.reset)
    recipients = asyncio.run(ensure_users(args.database_url, args.recipients - 1))
    if len(recipients) != args.recipients:
        raise SystemExit(f"found {len(recipients)} recipients, wanted {args.recipients}")
    with tempfile.TemporaryDirectory(prefix="bankcrm-fanout-") as tmp:
        mail_dir = Path(tmp) / "mail"
        worker = start_worker(args.database_url, mail_dir, args.threads, Path(tmp) / "worker.log")
        watched = psutil.Process(worker.pid)
        worker_before = tree_cpu_seconds(watched)
        try:
            print(f"notifying {args.recipients:,} recipients...", flush=True)
            result = asyncio.run(run(args, recipients, mail_dir))
            result["worker_cpu_seconds"] = round(tree_cpu_seconds(watched) - worker_before, 1)
        finally:
            worker.terminate()
            worker.wait(30)
        result["eml_files"] = sum(1 for _ in mail_dir.glob("*.eml"))
        result["mail_bytes"] = sum(p.stat().st_size for p in mail_dir.glob("*.eml"))
    report = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": info,
        "database": prepared["database"],
        "recipients": args.recipients,
        "worker_threads": args.threads,
        **result,
    }
    text = json.dumps(report, indent=2, ensure_ascii=False)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
