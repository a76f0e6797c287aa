"""Service's data source for reporting's saved reports: tickets grouped and counted under
the runner's scope, another branch's tickets never counted."""

from __future__ import annotations

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


async def test_tickets_report_counts_the_runners_branches_only(world: World) -> None:
    owner = await asyncpg.connect(world.kernel.owner_url)
    try:
        for code, kind, customer in [
            ("BJ-HD", "complaint", 1),
            ("BJ-HD", "complaint", 1),
            ("BJ-CY", "inquiry", 2),
            ("SH-PD", "complaint", 3),
        ]:
            await owner.execute(
                "INSERT INTO service_ticket (branch_id, customer, kind, title, body)"
                " VALUES ($1, $2, $3, 't', '')",
                world.branch(code),
                customer,
                kind,
            )
    finally:
        await owner.close()  # fmt: skip
    client = await world.client("demo.bj.manager")
    body = {
        "name": "工单", "source": "service.tickets", "dimensions": ["kind"],
        "measures": [{"measure": "tickets", "aggregation": "count"},
                     {"measure": "customers", "aggregation": "count_distinct"}],
        "filters": [{"field": "status", "op": "eq", "value": "new"}],
    }  # fmt: skip
    report = await client.post(f"{BASE}/reports", json=body)
    assert report.status_code == 201, report.text
    run = (await client.post(f"{BASE}/reports/{report.json()['id']}/run")).json()
    assert run["rows"] == [
        {"kind": "complaint", "tickets_count": 2, "customers_count_distinct": 1},
        {"kind": "inquiry", "tickets_count": 1, "customers_count_distinct": 1},
    ]
