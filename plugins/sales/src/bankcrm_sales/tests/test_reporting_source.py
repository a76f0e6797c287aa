"""Sales' data sources for reporting's saved reports: a relationship manager's report
counts their own opportunities only (the owner rule), a branch manager's their branch's."""

from __future__ import annotations

from typing import Any

import asyncpg

from bankcrm_sdk.world import World

BASE = "/api/v1/reporting"


async def customer(owner: asyncpg.Connection, branch_id: int) -> int:
    """A live customer of ``branch_id`` (written as the owner)."""
    found: int = await owner.fetchval(
        "INSERT INTO customer_archive_customer (branch_id, kind, name, id_type,"
        " id_number_encrypted, id_number_hash, id_number_masked, status) VALUES ($1,"
        " 'individual', '客户', 'resident_id', 'x', md5(clock_timestamp()::text), '****',"
        " 'active') RETURNING id",
        branch_id,
    )
    return found


async def test_opportunities_report_follows_the_owner_rule(world: World) -> None:
    rm, manager = world.users["demo.bj.rm"], world.users["demo.bj.manager"]
    rows = [
        ("BJ-HD", rm, "open", "100.00"),
        ("BJ-HD", rm, "won", "250.50"),
        ("BJ-HD", manager, "open", "1000.00"),
        ("SH-PD", world.users["demo.sh.rm"], "open", "7.00"),
    ]
    owner = await asyncpg.connect(world.kernel.owner_url)
    try:
        for code, user, status, amount in rows:
            await owner.execute(
                "INSERT INTO sales_opportunity (branch_id, customer, title, stage, probability,"
                " amount, channel, status, owner) VALUES ($1, $5, 'o', 'proposal', 50,"
                " $2::numeric, 'web', $3, $4)",
                world.branch(code), amount, status, user,
                await customer(owner, world.branch(code)),
            )  # fmt: skip
    finally:
        await owner.close()
    body: dict[str, Any] = {
        "name": "商机", "source": "sales.opportunities", "dimensions": ["status"],
        "measures": [{"measure": "opportunities", "aggregation": "count"},
                     {"measure": "amount", "aggregation": "sum"},
                     {"measure": "weighted", "aggregation": "sum"}],
    }  # fmt: skip
    client = await world.client("demo.bj.rm")
    sources = [s["name"] for s in (await client.get(f"{BASE}/sources")).json()]
    assert {"sales.opportunities", "sales.leads"} <= set(sources)
    report = (await client.post(f"{BASE}/reports", json=body)).json()
    run = (await client.post(f"{BASE}/reports/{report['id']}/run")).json()
    assert run["rows"] == [
        {"status": "open", "opportunities_count": 1, "amount_sum": "100", "weighted_sum": "50"},
        {"status": "won", "opportunities_count": 1, "amount_sum": "250.5",
         "weighted_sum": "125.25"},
    ]  # fmt: skip
    bad = await client.post(f"{BASE}/reports", json={**body, "dimensions": ["colour"]})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "/body/dimensions/0"
