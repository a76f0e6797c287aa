"""A commit killed with SIGKILL mid-way leaves nothing, and simply runs again."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import signal
import subprocess
import sys
from pathlib import Path

import asyncpg
import httpx

from bankcrm_customer_archive.demo_data import generate_customers
from bankcrm_sdk.world import World

IMPORTS = "/api/v1/customer_archive/imports"
ROWS = 6000


def generated_csv(count: int) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["客户名称", "证件号码", "手机号", "出生日期", "性别", "标签"])
    for customer in generate_customers(count, seed=7):
        writer.writerow([
            customer.name, customer.id_number, customer.phone,
            customer.birth_date.isoformat() if customer.birth_date else "",
            {"M": "男", "F": "女"}.get(customer.gender or "", ""), ",".join(customer.tags),
        ])  # fmt: skip
    return buffer.getvalue().encode()


def start_worker(world: World, log_file: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "BANKCRM_BROKER_URL"}
    env.update(
        {
            "BANKCRM_DATABASE_URL": world.kernel.owner_url,
            "BANKCRM_IMPORT_COMMIT_CHUNK": "100",
            "BANKCRM_JOBS_HEARTBEAT_SECONDS": "0.3",
            "BANKCRM_JOBS_HEARTBEAT_TTL_SECONDS": "2",
            "BANKCRM_JOBS_MAINTENANCE_SECONDS": "0.3",
            "BANKCRM_JOBS_POLL_SECONDS": "0.2",
            "BANKCRM_JOBS_RELAY_POLL_SECONDS": "0.2",
        }
    )
    with log_file.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "bankcrm", "worker", "--threads", "2"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


async def state(owner: asyncpg.Connection, batch_id: int) -> tuple[str, int, int]:
    row = await owner.fetchrow(
        "SELECT status, progress_done, (SELECT count(*) FROM customer_archive_customer"
        " WHERE import_batch_id = $1) AS customers FROM customer_archive_import_batch"
        " WHERE id = $1",
        batch_id,
    )
    assert row is not None
    return row["status"], row["progress_done"], row["customers"]


async def test_sigkill_mid_commit_leaves_nothing_and_the_commit_runs_again(
    world: World, bj: httpx.AsyncClient, tmp_path: Path
) -> None:
    response = await bj.post(IMPORTS, files={"file": ("many.csv", generated_csv(ROWS))})
    assert response.status_code == 201, response.text
    batch = response.json()
    valid = batch["valid_rows"]
    assert valid > ROWS * 0.9, batch
    log_file = tmp_path / "worker.log"
    owner = await asyncpg.connect(world.kernel.owner_url)
    first = start_worker(world, log_file)
    second: subprocess.Popen[bytes] | None = None
    try:
        assert (await bj.post(f"{IMPORTS}/{batch['id']}/commit")).status_code == 202
        for _ in range(1200):
            status, done, _ = await state(owner, batch["id"])
            if status == "committing" and 0 < done < valid:
                break
            assert status != "committed", "the commit finished before it could be killed"
            await asyncio.sleep(0.02)
        else:
            raise AssertionError("commit never started:\n" + log_file.read_text()[-3000:])
        first.send_signal(signal.SIGKILL)
        await asyncio.to_thread(first.wait, 10)

        for _ in range(100):  # the server notices the dead connection and rolls back
            status, done, customers = await state(owner, batch["id"])
            locks = await owner.fetchval(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = $1",
                batch["id"],
            )
            if locks == 0:
                break
            await asyncio.sleep(0.05)
        assert customers == 0
        assert status == "committing"
        assert done > 0

        second = start_worker(world, log_file)
        again = await bj.post(f"{IMPORTS}/{batch['id']}/commit")
        assert again.status_code == 202
        for _ in range(1200):
            status, _, customers = await state(owner, batch["id"])
            if status == "committed":
                break
            await asyncio.sleep(0.05)
        assert status == "committed", log_file.read_text()[-3000:]
        assert customers == valid
        keys = await owner.fetchval(
            "SELECT count(DISTINCT customer) FROM customer_archive_search_key k"
            " JOIN customer_archive_customer c ON c.id = k.customer WHERE c.import_batch_id = $1",
            batch["id"],
        )
        assert keys == valid
        second.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(second.wait, 30) == 0
    finally:
        await owner.close()
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
