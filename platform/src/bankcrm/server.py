"""``bankcrm serve`` / ``bankcrm demo``: one process tree with everything in it.

This process owns the embedded PostgreSQL server (when no external URL is configured),
runs the web app under uvicorn on its event loop, and supervises one worker child process
(``bankcrm worker``). The worker is a separate process because asyncpg pools belong to
one event loop and a crashing job must not take the web server down; it connects to the
server this process owns through the exported ``BANKCRM_DATABASE_URL`` and never stops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import ssl
import subprocess
import sys
from collections.abc import Iterator

import uvicorn

from bankcrm.settings import Settings, SettingsError, TlsSettings, get_settings

log = logging.getLogger(__name__)

WORKER_STOP_SECONDS = 20


class OwningServer(uvicorn.Server):
    """Uvicorn re-raises SIGTERM/SIGINT after its shutdown, which kills the process before
    it can stop the worker and the embedded database it owns. Here the signal only stops
    the server; the caller then shuts the rest down in order."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        stop_signals = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in stop_signals}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


TLS_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:!aNULL:!MD5:!DSS"
"""TLS 1.2 suites with forward secrecy and authenticated encryption only (TLS 1.3's are
fixed by OpenSSL and all qualify)."""


class TlsConfig(uvicorn.Config):
    """Uvicorn's context with TLS 1.0 and 1.1 refused, whatever the system's OpenSSL
    configuration allows."""

    def load(self) -> None:
        super().load()
        if self.ssl is not None:
            self.ssl.minimum_version = ssl.TLSVersion.TLSv1_2


def check_tls(tls: TlsSettings) -> None:
    """Load the certificate once before anything starts, so a wrong path, a key that does
    not match or a wrong password stops ``serve`` with a message naming the setting."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    for variable, path in (("BANKCRM_TLS_CERT", tls.certfile), ("BANKCRM_TLS_KEY", tls.keyfile)):
        if not path.is_file():
            raise SettingsError(f"{variable}: no such file {path}")
    try:
        context.load_cert_chain(tls.certfile, tls.keyfile, tls.key_password)
    except (ssl.SSLError, OSError) as exc:
        raise SettingsError(
            f"BANKCRM_TLS_CERT/BANKCRM_TLS_KEY: cannot load the certificate and key ({exc})"
        ) from exc


def server_config(app: object, settings: Settings, *, host: str, port: int) -> uvicorn.Config:
    """How ``serve`` runs the app under uvicorn: HTTPS when the settings carry a certificate."""
    tls = settings.tls
    return TlsConfig(
        app,  # type: ignore[arg-type]
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        reset_contextvars=True,
        lifespan="on",
        proxy_headers=False,
        ssl_certfile=str(tls.certfile) if tls else None,
        ssl_keyfile=str(tls.keyfile) if tls else None,
        ssl_keyfile_password=tls.key_password if tls else None,
        ssl_ciphers=TLS_CIPHERS,
    )


class WorkerSupervisor:
    """Starts ``bankcrm worker`` and restarts it if it dies (with back-off)."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.stopping = False
        self.restarts = 0

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bankcrm", "worker"], env=dict(os.environ)
        )

    async def watch(self) -> None:
        while not self.stopping:
            await asyncio.sleep(1)
            if self.process is not None and self.process.poll() is not None and not self.stopping:
                self.restarts += 1
                delay = min(30, 2 ** min(self.restarts, 5))
                log.error(
                    "worker exited; restarting",
                    extra={"code": self.process.returncode, "delay_s": delay},
                )
                await asyncio.sleep(delay)
                if not self.stopping:
                    self.start()

    def stop(self) -> None:
        self.stopping = True
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(WORKER_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            log.warning("worker did not stop in time; killing it")
            self.process.kill()
            self.process.wait()


def _banner(url: str, seeded: bool) -> str:
    from bankcrm.demo import DEMO_PASSWORD, USERS

    lines = [
        "",
        "bankcrm is running",
        f"  API:     {url}/api/v1   (OpenAPI: {url}/schema)",
        f"  Admin:   {url}/admin/",
        f"  Health:  {url}/readyz   Metrics: {url}/metrics",
    ]
    if seeded:
        lines.append(f"  Demo logins (password {DEMO_PASSWORD}):")
        lines.extend(f"    {username:<18} {role} @ {branch}" for username, role, branch, _ in USERS)
    lines.append("  Stop with Ctrl+C.")
    return "\n".join(lines)


async def _serve(host: str, port: int, with_worker: bool, seed_demo: bool, demo_scale: int) -> None:
    from bankcrm import demo
    from bankcrm.runtime import boot
    from bankcrm.webapp import create_app

    kernel = await boot(migrate=True, connect=True)
    supervisor = WorkerSupervisor() if with_worker else None
    try:
        seeded = False
        if seed_demo:
            seeded = await demo.seed(kernel, scale=demo_scale) is not None
            if not seeded:
                log.info("demo data already present; not seeding again")
        app = create_app(kernel)
        server = OwningServer(server_config(app, kernel.settings, host=host, port=port))
        watcher = None
        if supervisor is not None:
            supervisor.start()
            watcher = asyncio.create_task(supervisor.watch())
        scheme = "https" if kernel.settings.tls else "http"
        print(_banner(f"{scheme}://{host}:{port}", seed_demo), flush=True)
        await server.serve()
        if watcher is not None:
            supervisor.stopping = True  # type: ignore[union-attr]
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
    finally:
        if supervisor is not None:
            await asyncio.to_thread(supervisor.stop)
        await kernel.disconnect()
        kernel.stop_embedded()


def _use_uvloop() -> None:
    """uvloop (installed with uvicorn[standard]) where the platform supports it."""
    try:
        import uvloop
    except ImportError:
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def serve_forever(
    *,
    host: str | None,
    port: int | None,
    with_worker: bool,
    seed_demo: bool,
    demo_scale: int = 1000,
) -> None:
    settings = get_settings()
    if settings.tls is not None:
        check_tls(settings.tls)
    _use_uvloop()
    asyncio.run(
        _serve(host or settings.host, port or settings.port, with_worker, seed_demo, demo_scale)
    )
