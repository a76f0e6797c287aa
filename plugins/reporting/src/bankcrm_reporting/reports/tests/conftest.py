"""Fixtures of the saved reports' tests (``world``, ``kernel`` and ``job_worker`` come
from the SDK's pytest plugin)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest

from bankcrm_sdk.world import World

BASE = "/api/v1/reporting"


@dataclass
class ReportKit:
    world: World
    base: str = BASE

    async def owner_fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        owner = await asyncpg.connect(self.world.kernel.owner_url)
        try:
            return list(await owner.fetch(sql, *args))
        finally:
            await owner.close()

    async def customers(self, code: str, count: int, tier: str = "mass", aum: int = 0) -> None:
        """``count`` live individual customers of branch ``code`` (written as the owner),
        each with ``aum`` fen."""
        await self.owner_fetch(
            "INSERT INTO customer_archive_customer (branch_id, kind, name, id_type,"
            " id_number_encrypted, id_number_hash, id_number_masked, status, value_tier,"
            " aum_cents) SELECT $1::int, 'individual', '客户' || g, 'resident_id', 'x',"
            " md5($1::int::text || ':' || g || ':' || clock_timestamp()), '****', 'active',"
            " $3, $4 FROM generate_series(1, $2) g",
            self.world.branch(code),
            count,
            tier,
            aum,
        )

    async def report(self, client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": "客户分层", "source": "customer_archive.customers",
            "dimensions": ["value_tier"],
            "measures": [{"measure": "customers", "aggregation": "count"},
                         {"measure": "aum", "aggregation": "sum"}],
        }  # fmt: skip
        body.update(overrides)
        response = await client.post(f"{BASE}/reports", json=body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created


@pytest.fixture
def kit(world: World) -> ReportKit:
    return ReportKit(world)
