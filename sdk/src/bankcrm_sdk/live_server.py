"""A real uvicorn server on a loopback port, and one keep-alive HTTP/1.1 connection to it.

Some failures only exist on a real server: a response sent before its transaction
commits, or context variables surviving from one request to the next on a keep-alive
connection after a large body (uvicorn's flow control resumes reading from inside the
request task, so the next request's task copies that task's context). An in-memory ASGI
transport reproduces neither, so these tests run uvicorn in this process, on the running
event loop (the kernel's connection pool belongs to that loop), with a client that speaks
HTTP/1.1 over one socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import h11
import uvicorn


@contextlib.asynccontextmanager
async def live_server(
    app: Any, *, reset_contextvars: bool = True, http: str = "auto"
) -> AsyncIterator[str]:
    """Serve ``app`` on a free loopback port; yields the base URL.

    The lifespan is off: the caller owns the app's startup and shutdown (the SDK's ``app``
    fixture already ran them).
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        lifespan="off",
        log_config=None,
        access_log=False,
        reset_contextvars=reset_contextvars,
        http=http,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("uvicorn stopped before it started")
            await asyncio.sleep(0.005)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class KeepAliveConnection:
    """One TCP connection; every request goes over it, one after another."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str):
        self.reader = reader
        self.writer = writer
        self.host = host
        self.connection = h11.Connection(h11.CLIENT)
        self.requests = 0

    @classmethod
    async def open(cls, base_url: str) -> KeepAliveConnection:
        parts = urlsplit(base_url)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        return cls(reader, writer, parts.netloc)

    async def request(
        self,
        method: str,
        path: str,
        *,
        headers: Iterable[tuple[str, str]] = (),
        body: bytes = b"",
        json_body: Any = None,
    ) -> RawResponse:
        if json_body is not None:
            body = json.dumps(json_body, ensure_ascii=False).encode()
            headers = [*headers, ("content-type", "application/json")]
        if self.connection.our_state is h11.DONE:
            self.connection.start_next_cycle()
        request = h11.Request(
            method=method,
            target=path,
            headers=[("host", self.host), ("content-length", str(len(body))), *headers],
        )
        self.writer.write(self.connection.send(request))
        if body:
            self.writer.write(self.connection.send(h11.Data(data=body)))
        self.writer.write(self.connection.send(h11.EndOfMessage()))
        await self.writer.drain()
        status = 0
        response_headers: dict[str, str] = {}
        chunks: list[bytes] = []
        while True:
            event = self.connection.next_event()
            if event is h11.NEED_DATA:
                data = await self.reader.read(65536)
                self.connection.receive_data(data)
                if not data and self.connection.their_state is not h11.DONE:
                    raise ConnectionError("the server closed the keep-alive connection")
                continue
            if isinstance(event, h11.Response):
                status = event.status_code
                response_headers = {k.decode(): v.decode() for k, v in event.headers}
            elif isinstance(event, h11.Data):
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                raise ConnectionError("the server closed the keep-alive connection")
        self.requests += 1
        return RawResponse(status, response_headers, b"".join(chunks))

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()
