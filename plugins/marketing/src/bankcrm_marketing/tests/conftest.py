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

BASE = "/api/v1/marketing/campaigns"
PROBLEM = "application/problem+json"


def refused(response: httpx.Response, status: int) -> bool:
    """A 4xx answer with the kernel's problem body (never a 500, never HTML)."""
    content_type = response.headers.get("content-type", "")
    return response.status_code == status and content_type.startswith(PROBLEM)


@dataclass
class Kit:
    world: World
    base: str = BASE
    refused = staticmethod(refused)

    async def create(self, client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "title": "季度回访计划",
            "body": "Call back every customer.",
            "message": "尊敬的客户，本月理财新品上线。",
        }
        body.update(overrides)
        response = await client.post(BASE, json=body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async def customers(
        self, code: str, count: int, *, phone: bool = True, email: bool = False
    ) -> list[int]:
        """``count`` live individual customers of branch ``code`` (written as the owner)."""
        rows = await self.owner_fetch(
            "INSERT INTO customer_archive_customer (branch_id, kind, name, id_type,"
            " id_number_encrypted, id_number_hash, id_number_masked, phone, email, status)"
            " SELECT $1::int, 'individual', '客户' || g, 'resident_id', 'x',"
            " md5($1::int::text || ':' || g || ':' || clock_timestamp()), '****',"
            " CASE WHEN $3 THEN '139' || lpad(g::text, 8, '0') END,"
            " CASE WHEN $4 THEN 'c' || g || '@example.com' END, 'active'"
            " FROM generate_series(1, $2) g RETURNING id",
            self.world.branch(code),
            count,
            phone,
            email,
        )
        return [r["id"] for r in rows]

    async def owner_fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        """Rows as the database owner sees them: every branch, no row-level security."""
        owner = await asyncpg.connect(self.world.kernel.owner_url)
        try:
            return list(await owner.fetch(sql, *args))
        finally:
            await owner.close()

    async def audit(self, entity_id: Any, entity: str = "marketing.campaign") -> list[Any]:
        return await self.owner_fetch(
            "SELECT * FROM bankcrm_audit WHERE entity = $1 AND entity_id = $2 ORDER BY id",
            entity,
            str(entity_id),
        )


@pytest.fixture
def kit(world: World) -> Kit:
    return Kit(world)
