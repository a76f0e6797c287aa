"""Detection after an import and on schedule: run by the worker, idempotent."""

from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx

from bankcrm import db
from bankcrm.jobs import enqueue
from bankcrm_sdk.world import World

BASE = "/api/v1/customer_archive"


async def test_import_batch_then_nightly_run(
    world: World, kit: Any, bj: httpx.AsyncClient, job_worker: Any
) -> None:
    hd = world.branch("BJ-HD")
    old = await kit.create(bj, name="陈国华", branch_id=hd, id_number=kit.resident_id(order="301"))
    new = await kit.create(bj, name="陳國華", branch_id=hd, phone="13700001111",
                           id_number=kit.resident_id(order="301", region="110105"))  # fmt: skip
    owner = await asyncpg.connect(world.kernel.owner_url)
    try:
        await owner.execute(
            "UPDATE customer_archive_customer SET import_batch_id = 77 WHERE id = $1", new["id"]
        )
    finally:
        await owner.close()
    jobs = await job_worker()
    with world.bind(await world.scope_of("BJ")):
        async with db.transaction():
            await enqueue("customer_archive.dedupe_import_batch", batch_id=77)
    await jobs.drain(120)
    (candidate,) = (await bj.get(f"{BASE}/duplicates")).json()["items"]
    assert candidate["customer_ids"] == [old["id"], new["id"]]
    assert candidate["detected_by"] == "import_batch:77"

    at = datetime(2026, 11, 26, 0, 0, 5, tzinfo=UTC)
    assert "customer_archive.dedupe_nightly" in await jobs.tick(at)
    assert "customer_archive.dedupe_nightly" not in await jobs.tick(at)  # one run per tick
    await jobs.drain(120)
    (again,) = (await bj.get(f"{BASE}/duplicates")).json()["items"]
    assert again["id"] == candidate["id"]
    assert again["detected_by"].startswith("run:")

    started = await bj.post(f"{BASE}/duplicates/runs")
    assert started.status_code == 202, started.text
    await jobs.drain(120)
    assert len((await bj.get(f"{BASE}/duplicates")).json()["items"]) == 1
