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

BASE = "/api/v1/mining/models"


def resident_id(serial: int, born: str = "19800101") -> str:
    """A valid 18-digit resident identity number (check digit computed)."""
    body = f"110105{born}{serial:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]
    return body + check


def scorecard_body() -> dict[str, Any]:
    """A valid registration: a two-feature scorecard."""
    return {
        "name": "retail_scorecard",
        "task": "scorecard",
        "kind": "scorecard",
        "features": ["tenure_days", "product_count"],
        "spec": {
            "base_points": 600,
            "points": [
                {"feature": "tenure_days", "bin": {"lo": None, "hi": 365}, "points": -20},
                {"feature": "tenure_days", "bin": {"lo": 365, "hi": None}, "points": 15},
                {"feature": "product_count", "bin": {"values": [0, 1]}, "points": -10},
                {"feature": "product_count", "bin": {"missing": True}, "points": -5},
            ],
        },
        "metrics": {"roc_auc": 0.74, "ks": 0.36},
        "data_fingerprint": "ab" * 32,
    }


@dataclass
class Kit:
    world: World
    base: str = BASE

    async def create(self, client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = scorecard_body()
        body.update(overrides)
        response = await client.post(BASE, json=body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def resident_id(self, serial: int) -> str:
        return resident_id(serial)

    def body(self) -> dict[str, Any]:
        return scorecard_body()

    async def customer(
        self, client: httpx.AsyncClient, serial: int, phone: str, name: str = "钱进"
    ) -> int:
        response = await client.post(
            "/api/v1/customer_archive/customers",
            json={"kind": "individual", "name": name, "id_type": "resident_id",
                  "id_number": resident_id(serial), "phone": phone},
        )  # fmt: skip
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    async def product(self, code: str = "DEP-DEMAND", category: str = "deposit") -> str:
        """A product of the archive's (global) catalogue, created if missing."""
        await self.owner_fetch(
            "INSERT INTO customer_archive_product (code, name, name_en, category, segment,"
            " balance_type, currency, active) VALUES ($1, '测试产品', 'Test product', $2,"
            " 'individual', 'asset', 'CNY', true) ON CONFLICT (code) DO NOTHING",
            code, category,
        )  # fmt: skip
        return code

    async def holding(
        self,
        client: httpx.AsyncClient,
        customer_id: int,
        account_no: str,
        opened_on: str = "2020-01-01",
        product: str = "DEP-DEMAND",
        category: str = "deposit",
    ) -> None:
        code = await self.product(product, category)
        response = await client.post(
            f"/api/v1/customer_archive/customers/{customer_id}/holdings",
            json={"product_code": code, "account_no": account_no, "opened_on": opened_on},
        )
        assert response.status_code == 201, response.text

    async def upload(
        self, client: httpx.AsyncClient, content: bytes, name: str = "tx.csv", **fields: str
    ) -> httpx.Response:
        return await client.post(
            "/api/v1/mining/loads", files={"file": (name, content)}, data=fields
        )

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
            "mining.model",
            str(entity_id),
        )


@pytest.fixture
def kit(world: World) -> Kit:
    return Kit(world)
