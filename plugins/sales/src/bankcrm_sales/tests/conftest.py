"""Fixtures of the plugin's tests; ``world``, ``kernel`` and ``job_worker`` come from
the bankcrm SDK's pytest plugin.

Tests folders have no ``__init__.py`` (importlib mode), so shared helpers are handed out
by the ``kit`` fixture rather than imported.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from bankcrm_sdk.world import World

BASE = "/api/v1/sales"
PROBLEM = "application/problem+json"


def soon(hours: float = 30) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


@dataclass
class Kit:
    world: World
    base: str = BASE

    async def lead(self, client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "channel": "referral",
            "prospect_name": "赵敏",
            "phone": "13800138000",
            "need": "到期定存想转理财，风险偏好稳健",
            "estimated_amount": "200000",
        }
        body.update(overrides)
        response = await client.post(f"{BASE}/leads", json=body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async def product_code(self, code: str = "WM-STEADY", category: str = "wealth") -> str:
        """A product of the archive's (global) catalogue, created if missing."""
        await self.owner_fetch(
            "INSERT INTO customer_archive_product (code, name, name_en, category, segment,"
            " balance_type, currency, active) VALUES ($1, '稳健理财', 'Steady wealth', $2,"
            " 'individual', 'asset', 'CNY', true) ON CONFLICT (code) DO NOTHING",
            code,
            category,
        )
        return code

    async def customer(
        self, client: httpx.AsyncClient, id_number: str = "11010519491231002X"
    ) -> int:
        response = await client.post(
            "/api/v1/customer_archive/customers",
            json={"kind": "individual", "name": "钱进", "id_type": "resident_id",
                  "id_number": id_number, "phone": "13900139000"},
        )  # fmt: skip
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    async def owner_fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        """Rows as the database owner sees them: every branch, no row-level security."""
        owner = await asyncpg.connect(self.world.kernel.owner_url)
        try:
            return list(await owner.fetch(sql, *args))
        finally:
            await owner.close()

    async def audit(self, entity: str, entity_id: Any) -> list[asyncpg.Record]:
        return await self.owner_fetch(
            "SELECT * FROM bankcrm_audit WHERE entity = $1 AND entity_id = $2 ORDER BY id",
            entity,
            str(entity_id),
        )


def refused(response: httpx.Response, status: int, field: str | None = None) -> bool:
    """A 4xx answer with the kernel's problem body (never a 500), naming ``field``."""
    content_type = response.headers.get("content-type", "")
    ok = response.status_code == status and content_type.startswith(PROBLEM)
    if ok and field is not None:
        ok = any(e["field"] == field for e in response.json().get("errors", []))
    return ok


@pytest.fixture
def kit(world: World) -> Kit:
    return Kit(world)
