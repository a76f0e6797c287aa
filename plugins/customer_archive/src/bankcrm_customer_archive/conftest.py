"""Fixtures shared by the customer_archive tests (``world`` comes from the SDK).

Tests folders have no ``__init__.py`` (importlib mode), so shared helpers are handed out
by the ``kit`` fixture rather than imported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest

from bankcrm import db
from bankcrm_customer_archive.demo_data import resident_id_check_digit, uscc_check_char
from bankcrm_customer_archive.seeding import seed_products
from bankcrm_sdk.world import World

BASE = "/api/v1/customer_archive"


@dataclass
class Kit:
    world: World
    base: str = BASE

    @staticmethod
    def resident_id(region: str = "110108", born: str = "19850614", order: str = "302") -> str:
        """A valid resident ID: region code, birth date YYYYMMDD, order code (odd: male)."""
        body = region + born + order
        return body + resident_id_check_digit(body)

    @staticmethod
    def uscc(body: str = "91110108MA01ABCD1") -> str:
        return body + uscc_check_char(body)

    def person(self, **overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "individual",
            "name": "王秀英",
            "id_type": "resident_id",
            "id_number": self.resident_id(),
            "phone": "13812345678",
        }
        body.update(overrides)
        return body

    async def create(self, client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
        response = await client.post(f"{BASE}/customers", json=self.person(**overrides))
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async def audit(
        self, entity_id: Any, action: str | None = None, entity: str = "customer_archive.customer"
    ) -> list[Any]:
        """Audit rows about one entity, oldest first (read as the owner: every row,
        including the branch-less ones of the global product catalogue)."""
        owner = await asyncpg.connect(self.world.kernel.owner_url)
        try:
            return list(
                await owner.fetch(
                    "SELECT * FROM bankcrm_audit WHERE entity = $1 AND entity_id = $2"
                    " AND ($3::text IS NULL OR action = $3) ORDER BY id",
                    entity,
                    str(entity_id),
                    action,
                )
            )
        finally:
            await owner.close()


@pytest.fixture
def kit(world: World) -> Kit:
    return Kit(world)


@pytest.fixture
async def catalogue(world: World) -> dict[str, int]:
    """The demo product catalogue: product ids by code."""
    with world.bind(world.system_scope()):
        async with db.transaction() as transaction:
            return await seed_products(transaction.connection)


@pytest.fixture
async def bj(world: World) -> httpx.AsyncClient:
    """The Beijing branch manager: every customer_archive permission, BJ and below."""
    return await world.client("demo.bj.manager")
