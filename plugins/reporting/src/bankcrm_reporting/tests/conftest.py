"""Fixtures of the plugin's tests; ``world``, ``kernel`` and ``job_worker`` come from
the bankcrm SDK's pytest plugin.

Tests folders have no ``__init__.py`` (importlib mode), so shared helpers are handed out
by the ``kit`` fixture rather than imported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest

from bankcrm_sdk.world import World

DASHBOARD = "/api/v1/reporting/dashboard"


@dataclass
class Kit:
    world: World
    dashboard: str = DASHBOARD

    async def owner_fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        """Rows as the database owner sees them: every branch, no row-level security."""
        owner = await asyncpg.connect(self.world.kernel.owner_url)
        try:
            return list(await owner.fetch(sql, *args))
        finally:
            await owner.close()

    async def customers(self, code: str, count: int) -> None:
        """``count`` live individual customers of branch ``code`` (written as the owner)."""
        await self.owner_fetch(
            "INSERT INTO customer_archive_customer (branch_id, kind, name, id_type,"
            " id_number_encrypted, id_number_hash, id_number_masked, status)"
            " SELECT $1::int, 'individual', '客户' || g, 'resident_id', 'x',"
            " md5($1::int::text || ':' || g || ':' || clock_timestamp()), '****', 'active'"
            " FROM generate_series(1, $2) g",
            self.world.branch(code),
            count,
        )

    async def some_customers(self) -> dict[str, int]:
        made = {"BJ-HD": 7, "BJ-CY": 4, "SH-PD": 5, "SH-XH": 2}
        for code, count in made.items():
            await self.customers(code, count)
        return made


@pytest.fixture
def kit(world: World) -> Kit:
    return Kit(world)
