"""Fixtures of the plugin's tests; ``world``, ``kernel`` and ``job_worker`` come from
the bankcrm SDK's pytest plugin.

Tests folders have no ``__init__.py`` (importlib mode), so shared helpers are handed out
by the ``kit`` fixture rather than imported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest

from bankcrm_sdk.world import World

BASE = "/api/v1/reporting/targets"


@dataclass
class Kit:
    world: World
    base: str = BASE
    made: int = 0

    async def create(self, client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
        self.made += 1  # one target per branch, KPI and month: each call its own month
        body: dict[str, Any] = {
            "metric": "customer_archive.customers", "value": "120",
            "period": f"{2030 + self.made // 12}-{self.made % 12 + 1:02d}",
            "title": "季度新增客户目标", "body": "Call back every customer.",
        }  # fmt: skip
        body.update(overrides)
        response = await client.post(BASE, json=body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async def owner_fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        """Rows as the database owner sees them: every branch, no row-level security."""
        owner = await asyncpg.connect(self.world.kernel.owner_url)
        try:
            return list(await owner.fetch(sql, *args))
        finally:
            await owner.close()

    async def audit(self, entity_id: Any) -> list[asyncpg.Record]:
        return await self.owner_fetch(
            "SELECT * FROM bankcrm_audit WHERE entity = $1 AND entity_id = $2 ORDER BY id",
            "reporting.target",
            str(entity_id),
        )

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
