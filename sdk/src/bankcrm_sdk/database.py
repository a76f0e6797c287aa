"""A throw-away PostgreSQL database for one test session.

With ``BANKCRM_DATABASE_URL`` set (CI, or a developer's own server) a fresh database is
created on that server and dropped afterwards; otherwise an embedded server is started in
a temporary directory. Either way the tests run as the application role, so row-level
security is live in every test.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from bankcrm.db import database_name, drop_database, ensure_database, with_database
from bankcrm.embedded import EmbeddedServer, start_embedded


@dataclass
class TestDatabase:
    owner_url: str
    embedded: EmbeddedServer | None
    temp_dir: Path | None
    created: bool

    async def drop(self) -> None:
        if self.created and self.embedded is None:
            await drop_database(self.owner_url, database_name(self.owner_url))
        if self.embedded is not None:
            self.embedded.stop()
        if self.temp_dir is not None:
            shutil.rmtree(self.temp_dir, ignore_errors=True)


async def create_test_database() -> TestDatabase:
    server_url = os.environ.get("BANKCRM_DATABASE_URL")
    if server_url:
        name = f"bankcrm_test_{uuid.uuid4().hex[:10]}"
        await ensure_database(server_url, name)
        return TestDatabase(with_database(server_url, name), None, None, created=True)
    temp_dir = Path(tempfile.mkdtemp(prefix="bankcrm-test-"))
    embedded = start_embedded(temp_dir)
    await ensure_database(embedded.url("postgres"), "bankcrm")
    return TestDatabase(embedded.url("bankcrm"), embedded, temp_dir, created=True)
