from typing import Any

import httpx
import pytest

from bankcrm import db
from bankcrm_customer_archive import events, services
from bankcrm_customer_archive.schemas import CustomerIn, CustomerPatch
from bankcrm_sdk.world import World

BASE = "/api/v1/customer_archive"


async def _audit_count(world: World) -> int:
    with world.bind(world.system_scope()):
        return int(await db.fetchval("SELECT count(*) FROM bankcrm_audit"))


async def test_a_failing_write_leaves_no_audit_row(
    world: World, kit: Any, bj: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer_id = (await kit.create(bj, branch_id=world.branch("BJ-HD")))["id"]
    before = await _audit_count(world)

    async def broken(name: str, **payload: Any) -> None:
        raise RuntimeError("the outbox is gone")

    # The event is emitted after the audit row, in the same transaction.
    monkeypatch.setattr(events, "emit", broken)
    scope = await world.scope_of("BJ")
    with world.bind(scope):
        with pytest.raises(RuntimeError):
            await services.update_customer(customer_id, CustomerPatch(name="李四"))
        with pytest.raises(RuntimeError):
            await services.create_customer(
                CustomerIn(kind="individual", name="赵六", id_type="passport",
                           id_number="E12345678", branch_id=world.branch("BJ"))
            )  # fmt: skip
        unchanged = await services.get_customer(customer_id, audit_view=False)
        missing = await db.fetchval(
            "SELECT count(*) FROM customer_archive_customer WHERE name = '赵六'"
        )
    assert unchanged.name == "王秀英"
    assert missing == 0
    assert await _audit_count(world) == before
