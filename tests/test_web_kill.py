"""The web process killed with SIGKILL in the middle of a burst of writes: every write it
acknowledged is there with its audit row, no write is there without one, and a new
process serves at once (issue 17, item 3: the web side; the worker's and the import's
kills are tested beside the jobs and the import)."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import asyncpg
import httpx

from bankcrm_sdk.web_process import free_port, start_web, stop, wait_ready
from bankcrm_sdk.world import PASSWORD, World

WRITES = 60


async def test_sigkill_mid_writes_loses_no_acknowledged_write(world: World, tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_file = tmp_path / "web.log"
    web = start_web(world.kernel.owner_url, port, log_file)
    acknowledged: list[int] = []
    try:
        await wait_ready(base, web, log_file)
        async with httpx.AsyncClient(base_url=base, timeout=10) as staff:
            login = await staff.post(
                "/api/v1/auth/login", json={"username": "demo.bj.manager", "password": PASSWORD}
            )
            assert login.status_code == 200, login.text

            async def create(number: int) -> None:
                try:
                    answer = await staff.post(
                        "/api/v1/api-clients",
                        json={
                            "name": f"burst-{number}",
                            "branch_id": world.branch("BJ"),
                            "permissions": [],
                        },
                    )
                except httpx.HTTPError:
                    return  # cut off by the kill: not acknowledged
                if answer.status_code == 201:
                    acknowledged.append(answer.json()["id"])

            writes = [asyncio.create_task(create(n)) for n in range(WRITES)]
            for _ in range(6000):
                if len(acknowledged) >= 5 or all(w.done() for w in writes):
                    break
                await asyncio.sleep(0.005)
            web.send_signal(signal.SIGKILL)
            web.wait(10)
            await asyncio.gather(*writes)
    finally:
        if web.poll() is None:
            web.kill()
            web.wait()

    assert 5 <= len(acknowledged) < WRITES, "the kill must land in the middle of the burst"
    owner = await asyncpg.connect(world.kernel.owner_url)
    try:
        stored = await owner.fetch(
            "SELECT c.id, (SELECT count(*) FROM bankcrm_audit a WHERE a.entity ="
            " 'bankcrm.api_client' AND a.entity_id = c.id::text AND a.action = 'create')"
            " AS audited FROM bankcrm_api_client c WHERE c.name LIKE 'burst-%'"
        )
    finally:
        await owner.close()
    stored_ids = {row["id"] for row in stored}
    assert set(acknowledged) <= stored_ids, "an acknowledged write was lost"
    assert all(row["audited"] == 1 for row in stored), "a write without its audit row"

    # A new process serves at once: nothing to repair, no lock left behind.
    again = start_web(world.kernel.owner_url, port, log_file)
    try:
        recovery = await wait_ready(base, again, log_file)
        async with httpx.AsyncClient(base_url=base, timeout=10) as staff:
            login = await staff.post(
                "/api/v1/auth/login", json={"username": "demo.bj.manager", "password": PASSWORD}
            )
            assert login.status_code == 200
            after = await staff.post(
                "/api/v1/api-clients",
                json={"name": "after-restart", "branch_id": world.branch("BJ"), "permissions": []},
            )
            assert after.status_code == 201, after.text
        print(f"acknowledged {len(acknowledged)}/{WRITES}, stored {len(stored_ids)},"
              f" ready again in {recovery:.1f} s")  # fmt: skip
    finally:
        stop(again)
