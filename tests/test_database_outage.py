"""PostgreSQL unreachable under a running web process, then back: the outage shows in
/readyz and /metrics, requests fail with problems (never a hang), and the process serves
again by itself without a restart (issue 17, item 3).

The outage is a TCP proxy of the test's own between the web process and PostgreSQL that
drops every connection and refuses new ones: the machine's PostgreSQL is shared, and this
kernel has no `tc netem`.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bankcrm_sdk.web_process import free_port, start_web, stop, wait_ready
from bankcrm_sdk.world import PASSWORD, World


class CuttableProxy:
    """Pipes TCP to ``target``; :meth:`cut` drops every connection and refuses new ones."""

    def __init__(self, database_url: str) -> None:
        parts = urlsplit(database_url)
        socket_dir = parse_qs(parts.query).get("host", [""])[0]
        port = parts.port or 5432
        # The embedded server listens on a Unix socket; an external one on TCP.
        self.unix_path = f"{socket_dir}/.s.PGSQL.{port}" if socket_dir.startswith("/") else ""
        self.target = (parts.hostname or "127.0.0.1", port)
        self.refusing = False
        self.writers: set[asyncio.StreamWriter] = set()
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.refusing:
            writer.close()
            return
        try:
            if self.unix_path:
                upstream = await asyncio.open_unix_connection(self.unix_path)
            else:
                upstream = await asyncio.open_connection(*self.target)
            upstream_reader, upstream_writer = upstream
        except OSError:
            writer.close()
            return
        self.writers |= {writer, upstream_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))
        self.writers -= {writer, upstream_writer}

    def cut(self) -> None:
        self.refusing = True
        for writer in list(self.writers):
            writer.transport.abort()
        self.writers.clear()

    def restore(self) -> None:
        self.refusing = False

    async def close(self) -> None:
        self.cut()
        if self.server is not None:
            self.server.close()


def via(url: str, port: int) -> str:
    parts = urlsplit(url)
    credentials = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k not in ("host", "port")])
    return urlunsplit(parts._replace(netloc=f"{credentials}127.0.0.1:{port}", query=query))


def database_up(metrics: str) -> float:
    for family in text_string_to_metric_families(metrics):
        for sample in family.samples:
            if sample.name == "bankcrm_database_up":
                return float(sample.value)
    raise AssertionError("no bankcrm_database_up")


async def test_the_web_process_rides_out_a_database_outage(world: World, tmp_path: Path) -> None:
    proxy = CuttableProxy(world.kernel.owner_url)
    await proxy.start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_file = tmp_path / "web.log"
    web = start_web(via(world.kernel.owner_url, proxy.port), port, log_file)
    try:
        await wait_ready(base, web, log_file)
        async with httpx.AsyncClient(base_url=base, timeout=15) as staff:
            login = await staff.post(
                "/api/v1/auth/login", json={"username": "demo.bj.manager", "password": PASSWORD}
            )
            assert login.status_code == 200, login.text

            proxy.cut()
            ready = await staff.get("/readyz")
            assert ready.status_code == 503
            assert ready.headers["content-type"].startswith("application/problem+json")
            assert database_up((await staff.get("/metrics")).text) == 0
            during = await staff.get("/api/v1/auth/me")
            assert 500 <= during.status_code < 600
            assert during.headers["content-type"].startswith("application/problem+json")

            proxy.restore()
            loop = asyncio.get_running_loop()
            cut_over = loop.time()
            for _ in range(300):
                if (await staff.get("/readyz")).status_code == 200:
                    break
                await asyncio.sleep(0.1)
            recovered = loop.time() - cut_over
            assert (await staff.get("/readyz")).status_code == 200, "no recovery in 30 s"
            assert database_up((await staff.get("/metrics")).text) == 1
            # The session survived (it lives in the database), and writes work again.
            me = await staff.get("/api/v1/auth/me")
            assert me.status_code == 200, me.text
            print(f"database back: ready again in {recovered:.2f} s, no restart")
    finally:
        stop(web)
        await proxy.close()
