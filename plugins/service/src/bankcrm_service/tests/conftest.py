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

BASE = "/api/v1/service/tickets"


@dataclass
class Kit:
    world: World
    base: str = BASE

    async def create(self, client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = {"title": "季度回访计划", "body": "Call back every customer."}
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
            "service.ticket",
            str(entity_id),
        )


@pytest.fixture
def kit(world: World) -> Kit:
    return Kit(world)
