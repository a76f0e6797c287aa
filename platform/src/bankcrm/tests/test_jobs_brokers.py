"""The job system on real brokers: PostgreSQL (default), Redis, RabbitMQ, and a real
worker process killed mid-job."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bankcrm import audit, branches, db, jobs
from bankcrm.context import Scope, bind_scope
from bankcrm.plugins import PluginCandidate
from bankcrm.runtime import Kernel
from bankcrm_sdk.jobs import StartJobWorker, enable_plugin

pytestmark = pytest.mark.usefixtures("clean_database")


async def branch_with(plugin: str) -> int:
    async with db.transaction():
        branch = await branches.create_branch(f"B-{plugin}", plugin)
    await enable_plugin(plugin, branch.id)
    return branch.id


async def effects(owner_url: str, token: str) -> int:
    # As the owner: the count must include rows no scope of the test could see.
    connection = await asyncpg.connect(owner_url)
    try:
        return int(
            await connection.fetchval(
                "SELECT count(*) FROM bankcrm_audit WHERE entity = 'jobtest.effect'"
                " AND entity_id = $1",
                token,
            )
        )
    finally:
        await connection.close()


async def done(message_id: str) -> bool:
    return bool(
        await db.fetchval(
            "SELECT count(*) FROM bankcrm_job_execution WHERE message_id = $1", message_id
        )
    )


async def round_trip(
    plugin: str,
    broker_url: str | None,
    kernel: Kernel,
    make_plugin: Callable[..., PluginCandidate],
    kernel_with: Callable[..., Kernel],
    job_worker: StartJobWorker,
) -> None:
    branch = await branch_with(plugin)

    @jobs.actor(f"{plugin}.write")
    async def write(token: str) -> None:
        await audit.record("create", "jobtest.effect", token, branch_id=branch)

    temporary = make_plugin(plugin, hooks={"register_actors": lambda: [write]})
    tuning = jobs.PostgresTuning(poll=0.2)
    broker = jobs.make_broker(broker_url, kernel.app_url, tuning)
    worker = await job_worker(kernel_with([temporary]), broker=broker)
    token = uuid.uuid4().hex
    with bind_scope(Scope(actor="user:1", branch_ids=frozenset({branch}))):
        async with db.transaction():
            message_id = await write.enqueue(token)

    await worker.wait_for(lambda: done(message_id))

    assert await effects(kernel.owner_url, token) == 1


async def test_postgres_broker_round_trip_as_the_application_role(
    kernel: Kernel,
    make_plugin: Callable[..., PluginCandidate],
    kernel_with: Callable[..., Kernel],
    job_worker: StartJobWorker,
) -> None:
    await round_trip("jobpg", None, kernel, make_plugin, kernel_with, job_worker)


async def test_redis_broker_round_trip(
    redis_url: str,
    kernel: Kernel,
    make_plugin: Callable[..., PluginCandidate],
    kernel_with: Callable[..., Kernel],
    job_worker: StartJobWorker,
) -> None:
    await round_trip("jobredis", redis_url, kernel, make_plugin, kernel_with, job_worker)


async def test_rabbitmq_broker_round_trip(
    rabbitmq_url: str,
    kernel: Kernel,
    make_plugin: Callable[..., PluginCandidate],
    kernel_with: Callable[..., Kernel],
    job_worker: StartJobWorker,
) -> None:
    await round_trip("jobrabbit", rabbitmq_url, kernel, make_plugin, kernel_with, job_worker)


def test_an_unknown_broker_url_is_refused() -> None:
    with pytest.raises(ValueError, match="BANKCRM_BROKER_URL"):
        jobs.make_broker("kafka://somewhere", "postgresql://app@localhost/db")


KILLTEST_PLUGIN = '''
import asyncio
import os
from pathlib import Path

from bankcrm import audit, jobs
from bankcrm.plugin_api import PluginManifest, hookimpl

MANIFEST = PluginManifest(name="killtest", version="0.0.1", title="killtest",
                          title_en="killtest")


@jobs.actor("killtest.slow_effect", max_retries=0, time_limit=60_000)
async def slow_effect(token: str, branch_id: int, folder: str) -> None:
    """Write the effect, then hold the transaction open until the test opens the gate."""
    await audit.record("create", "jobtest.effect", token, branch_id=branch_id)
    Path(folder, f"started-{os.getpid()}").touch()
    while not Path(folder, "gate").exists():
        await asyncio.sleep(0.05)


@hookimpl
def register_actors():
    return [slow_effect]
'''


@pytest.fixture
def killtest_plugin(tmp_path: Path) -> Iterator[Path]:
    """An installed plugin ``killtest``: a module plus dist-info with its entry point."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "bankcrm_killtest.py").write_text(KILLTEST_PLUGIN)
    dist_info = site / "bankcrm_killtest-0.0.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: bankcrm-killtest\nVersion: 0.0.1\n"
    )
    (dist_info / "entry_points.txt").write_text("[bankcrm.plugins]\nkilltest = bankcrm_killtest\n")
    sys.path.insert(0, str(site))
    try:
        yield site
    finally:
        sys.path.remove(str(site))
        sys.modules.pop("bankcrm_killtest", None)


def start_worker(kernel: Kernel, site: Path, log_file: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "BANKCRM_BROKER_URL"}
    env.update(
        {
            "BANKCRM_DATABASE_URL": kernel.owner_url,
            "BANKCRM_PLUGINS": "killtest",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")])),
            # A dead worker's messages are requeued after 2 s instead of a minute.
            "BANKCRM_JOBS_HEARTBEAT_SECONDS": "0.3",
            "BANKCRM_JOBS_HEARTBEAT_TTL_SECONDS": "2",
            "BANKCRM_JOBS_MAINTENANCE_SECONDS": "0.3",
            "BANKCRM_JOBS_POLL_SECONDS": "0.2",
        }
    )
    with log_file.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "bankcrm", "worker", "--threads", "2"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


async def eventually(
    condition: Callable[[], Awaitable[bool] | bool],
    what: str,
    log_file: Path,
    seconds: float = 30.0,
) -> None:
    for _ in range(int(seconds / 0.05)):
        result = condition()
        if await result if inspect.isawaitable(result) else result:
            return
        await asyncio.sleep(0.05)
    log = await asyncio.to_thread(log_file.read_text)
    raise AssertionError(f"{what} did not happen; worker log:\n{log[-4000:]}")


async def test_a_job_killed_mid_run_is_delivered_again_and_its_effect_happens_once(
    kernel: Kernel,
    killtest_plugin: Path,
    tmp_path: Path,
) -> None:
    branch = await branch_with("killtest")
    plugin: Any = importlib.import_module("bankcrm_killtest")
    folder = tmp_path / "gate"
    folder.mkdir()
    log_file = tmp_path / "worker.log"
    token = uuid.uuid4().hex
    first = start_worker(kernel, killtest_plugin, log_file)
    second: subprocess.Popen[bytes] | None = None
    try:
        with bind_scope(Scope(actor="user:1", branch_ids=frozenset({branch}))):
            async with db.transaction():
                message_id = await plugin.slow_effect.enqueue(token, branch, str(folder))
        await eventually((folder / f"started-{first.pid}").exists, "first delivery", log_file)
        first.send_signal(signal.SIGKILL)
        await asyncio.to_thread(first.wait, 10)

        second = start_worker(kernel, killtest_plugin, log_file)
        await eventually((folder / f"started-{second.pid}").exists, "redelivery", log_file)
        assert not await done(message_id)
        (folder / "gate").touch()
        await eventually(lambda: done(message_id), "completion", log_file)

        second.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(second.wait, 20) == 0, log_file.read_text()[-4000:]
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()

    assert await effects(kernel.owner_url, token) == 1
    assert sorted(p.name for p in folder.glob("started-*")) == sorted(
        [f"started-{first.pid}", f"started-{second.pid}"]
    )


def test_the_postgres_broker_pool_has_room_for_every_queue() -> None:
    url = "postgresql://app:secret@localhost:5432/db?sslmode=disable"
    assert jobs.brokers.with_pool_size(url, 64) == (
        "postgresql://app:secret@localhost:5432/db?sslmode=disable&maxconn=64"
    )
    assert jobs.brokers.with_pool_size(f"{url}&maxconn=8", 64).endswith("maxconn=8")
    assert jobs.PostgresTuning().pool_size >= 64
