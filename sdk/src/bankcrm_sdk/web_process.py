"""A real ``bankcrm serve`` process for fault tests: killed, cut off from its database,
restarted — what an in-process server cannot show."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_web(
    database_url: str, port: int, log_file: Path, env: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """``bankcrm serve --no-worker`` on ``port`` against ``database_url`` (the owner's)."""
    environment = {k: v for k, v in os.environ.items() if k != "BANKCRM_BROKER_URL"}
    environment.update({"BANKCRM_DATABASE_URL": database_url, "BANKCRM_LOG_LEVEL": "WARNING"})
    environment.update(env or {})
    with log_file.open("ab") as output:
        return subprocess.Popen(  # noqa: S603 - our own interpreter and module, fixed arguments
            [sys.executable, "-m", "bankcrm", "serve", "--no-worker", "--port", str(port)],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


async def wait_ready(base: str, process: subprocess.Popen[bytes], log_file: Path) -> float:
    """Seconds until ``/readyz`` answers 200 (at most 60)."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with httpx.AsyncClient(base_url=base, timeout=2) as client:
        for _ in range(600):
            if process.poll() is not None:
                raise AssertionError(f"the web process exited; see {log_file}")
            try:
                if (await client.get("/readyz")).status_code == 200:
                    return loop.time() - started
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("the web process did not become ready in 60 s")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
