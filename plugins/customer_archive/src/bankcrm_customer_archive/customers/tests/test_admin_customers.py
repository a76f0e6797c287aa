"""The customer screens in the admin: views and exports audited, no creation (the ID
number must be encrypted by the service), ciphertext and lookup hash never sent."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import asyncpg
import httpx

from bankcrm import db
from bankcrm.context import bind_scope
from bankcrm_customer_archive.demo_data import resident_id_check_digit
from bankcrm_sdk.world import World

PROBLEM = "application/problem+json"


def is_problem(response: httpx.Response, *statuses: int) -> bool:
    return response.status_code in statuses and response.headers["content-type"].startswith(PROBLEM)


async def admin_client(world: World, username: str) -> httpx.AsyncClient:
    """Logged in through the REST API, holding the admin's CSRF cookie and header."""
    client = await world.client(username)
    assert (await client.get("/admin/")).status_code == 200
    client.headers["X-CSRFToken"] = client.cookies["csrftoken"]
    return client


async def audit_rows(world: World, entity: str) -> list[asyncpg.Record]:
    owner = await asyncpg.connect(world.kernel.owner_url)
    try:
        return list(
            await owner.fetch("SELECT * FROM bankcrm_audit WHERE entity = $1 ORDER BY id", entity)
        )
    finally:
        await owner.close()


CUSTOMERS = "/admin/api/tables/customer_archive_customer/"


async def rest_customer(
    world: World, code: str, username: str = "demo.bj.manager", body: str = "11010819850614302"
) -> int:
    """A customer of ``code`` created the only way that encrypts its ID number."""
    client = await world.client(username)
    created = await client.post(
        "/api/v1/customer_archive/customers",
        json={
            "kind": "individual",
            "name": "王秀英",
            "id_type": "resident_id",
            "id_number": body + resident_id_check_digit(body),
            "phone": "13812345678",
            "branch_id": world.branch(code),
        },
    )
    assert created.status_code == 201, created.text
    customer_id: int = created.json()["id"]
    return customer_id


async def test_opening_and_exporting_customers_is_audited(world: World) -> None:
    customer_id = await rest_customer(world, "BJ-HD")
    client = await admin_client(world, "demo.bj.manager")
    before = len(await audit_rows(world, "customer_archive.customer"))

    listed = await client.get(CUSTOMERS, params={"__readable": "true", "__page_size": 15})
    assert listed.status_code == 200
    assert (await client.get(f"{CUSTOMERS}count/")).status_code == 200
    assert (await client.get(f"{CUSTOMERS}{customer_id}/?__readable=true")).status_code == 200
    assert (await client.get(f"{CUSTOMERS}{customer_id}/")).status_code == 200
    assert is_problem(await client.get(f"{CUSTOMERS}999999999/"), 404)
    exported = await client.get(
        CUSTOMERS,
        params={"__page_size": 1000, "__page": 1, "__readable": "true", "status": "active"},
    )
    assert exported.status_code == 200
    assert [r["id"] for r in exported.json()["rows"]] == [customer_id]

    trail = (await audit_rows(world, "customer_archive.customer"))[before:]
    assert [(r["action"], r["entity_id"]) for r in trail] == [
        ("view", str(customer_id)),
        ("view", str(customer_id)),
        ("export", "export"),
    ]
    view, _, export = trail
    assert view["branch_id"] == world.branch("BJ-HD")
    assert view["actor"] == f"user:{world.users['demo.bj.manager']}"
    assert view["reason"] == "admin ui"
    assert export["branch_id"] == world.branch("BJ")
    after = json.loads(export["after"])
    assert after["filters"] == {"status": ["active"]}
    assert (after["ids"], after["rows"], after["page"]) == ([customer_id], 1, 1)


async def test_customers_are_not_created_in_the_admin(world: World) -> None:
    client = await admin_client(world, "demo.bj.manager")
    refused = await client.post(
        CUSTOMERS,
        json={"kind": "individual", "name": "李四", "id_type": "resident_id",
              "branch_id": world.branch("BJ-HD")},
    )  # fmt: skip
    assert is_problem(refused, 405)
    assert "REST API" in refused.json()["detail"]
    with bind_scope(world.system_scope()):
        assert await db.fetchval("SELECT count(*) FROM customer_archive_customer") == 0


async def test_customer_id_number_ciphertext_and_hash_never_reach_the_admin(
    world: World,
) -> None:
    customer_id = await rest_customer(world, "BJ-HD")
    client = await admin_client(world, "demo.bj.manager")
    hidden = {"id_number_encrypted", "id_number_hash"}
    schema = (await client.get(f"{CUSTOMERS}schema/")).json()
    assert not hidden & set(schema["properties"])
    assert not hidden & set(schema["extra"]["visible_column_names"])
    assert not hidden & set(schema["extra"]["visible_filter_names"])
    rows = (await client.get(CUSTOMERS, params={"__readable": "true"})).json()["rows"]
    detail = (await client.get(f"{CUSTOMERS}{customer_id}/?__readable=true")).json()
    wanted = await client.get(
        CUSTOMERS, params={"__page_size": 1000, "__visible_fields": "id,id_number_hash"}
    )
    for row in (*rows, detail, *wanted.json()["rows"]):
        assert not hidden & set(row), row
    assert detail["id_number_masked"].count("*") >= 8
    for params in (
        {"id_number_hash": "0" * 64},
        {"id_number_hash__operator": "gte", "id_number_hash": "0"},
        {"__order": "id_number_encrypted"},
    ):
        assert is_problem(await client.get(CUSTOMERS, params=params), 400), params
    patched = await client.patch(f"{CUSTOMERS}{customer_id}/", json={"occupation": "教师"})
    assert patched.status_code == 200, patched.text
    assert not hidden & set(patched.json())
    assert patched.json()["phone"] == "138****5678"
    refused = await client.patch(f"{CUSTOMERS}{customer_id}/", json={"id_number_hash": "x"})
    assert is_problem(refused, 422)


async def test_a_relationship_manager_must_work_for_the_customers_branch(world: World) -> None:
    customer_id = await rest_customer(world, "BJ-HD")
    shanghai, beijing = world.users["demo.sh.rm"], world.users["demo.bj.rm"]
    rest = await world.client("demo.bj.manager")
    path = f"/api/v1/customer_archive/customers/{customer_id}"
    refused = await rest.patch(path, json={"relationship_manager_id": shanghai})
    assert is_problem(refused, 422), refused.text
    assert refused.json()["errors"] == [
        {
            "field": "/body/relationship_manager_id",
            "message": "this person works in none of the branches that cover this record's branch",
        }
    ]
    assert (await rest.patch(path, json={"relationship_manager_id": beijing})).status_code == 200

    admin = await admin_client(world, "demo.bj.manager")
    refused = await admin.patch(
        f"{CUSTOMERS}{customer_id}/", json={"relationship_manager": shanghai}
    )
    assert is_problem(refused, 422), refused.text
    assert "relationship_manager" in refused.json()["detail"]


async def test_derived_and_system_figures_are_read_only_in_the_admin(world: World) -> None:
    customer_id = await rest_customer(world, "BJ-HD")
    admin = await admin_client(world, "demo.bj.manager")
    for column, value in (("aum_cents", 1), ("import_batch_id", 1), ("merged_into", 1)):
        refused = await admin.patch(f"{CUSTOMERS}{customer_id}/", json={column: value})
        assert is_problem(refused, 422), (column, refused.text)
        assert f"{column} is read-only" in refused.json()["detail"]


async def test_the_admin_export_needs_the_rest_exports_permission(world: World) -> None:
    await rest_customer(world, "BJ-HD")
    teller = await admin_client(world, "demo.teller")
    listed = await teller.get(CUSTOMERS, params={"__readable": "true", "__page_size": 15})
    assert listed.status_code == 200, listed.text
    exported = await teller.get(CUSTOMERS, params={"__readable": "true", "__page_size": 1000})
    assert is_problem(exported, 403), exported.text
    assert "customer_archive.customer.export" in exported.json()["detail"]
    manager = await admin_client(world, "demo.bj.manager")
    allowed = await manager.get(CUSTOMERS, params={"__readable": "true", "__page_size": 1000})
    assert allowed.status_code == 200


async def test_staff_pickers_offer_only_colleagues(world: World) -> None:
    admin = await admin_client(world, "demo.bj.rm")
    picked = await admin.get("/admin/api/tables/piccolo_user/ids/")
    assert picked.status_code == 200, picked.text
    offered = {int(key) for key in picked.json()}
    assert world.users["demo.bj.rm"] in offered
    assert world.users["demo.sh.rm"] not in offered
    assert world.users["demo.admin"] not in offered


async def test_references_to_other_branches_rows_are_not_shown(world: World) -> None:
    beijing = await rest_customer(world, "BJ-HD")
    shanghai = await rest_customer(world, "SH", "demo.sh.manager", "31010119900101123")
    owner = await asyncpg.connect(world.kernel.owner_url)
    try:
        await owner.execute(
            "INSERT INTO customer_archive_relation (branch_id, customer, related, kind, note,"
            " created_at, updated_at) VALUES ($1, $2, $3, 'guarantor', '', now(), now())",
            world.branch("BJ-HD"),
            beijing,
            shanghai,
        )
    finally:
        await owner.close()
    admin = await admin_client(world, "demo.bj.manager")
    listed = await admin.get(
        "/admin/api/tables/customer_archive_relation/", params={"__readable": "true"}
    )
    assert listed.status_code == 200, listed.text
    (row,) = [r for r in listed.json()["rows"] if r["customer"] == beijing]
    assert row["related"] is None
    assert row["related_readable"] is None


async def test_admin_writes_refuse_control_characters(world: World) -> None:
    customer_id = await rest_customer(world, "BJ-HD")
    admin = await admin_client(world, "demo.bj.manager")
    refused = await admin.patch(f"{CUSTOMERS}{customer_id}/", json={"occupation": "教师\u202e"})
    assert is_problem(refused, 422), refused.text
    assert refused.json()["errors"][0]["field"] == "/body/occupation"


async def test_customer_list_shows_times_in_the_branch_zone_in_chinese(world: World) -> None:
    customer = await rest_customer(world, "BJ-HD")
    manager = await admin_client(world, "demo.bj.manager")
    owner = await asyncpg.connect(world.kernel.owner_url)
    try:
        stored = await owner.fetch(
            "SELECT updated_at FROM customer_archive_customer WHERE id = $1", customer
        )
    finally:
        await owner.close()
    local = stored[0]["updated_at"].astimezone(ZoneInfo("Asia/Shanghai"))
    listed = await manager.get(CUSTOMERS, params={"id": customer})
    row = listed.json()["rows"][0]
    assert row["updated_at"] == f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"
    # The edit form and the CSV export keep the stored value (ISO, UTC).
    opened = (await manager.get(f"{CUSTOMERS}{customer}/")).json()
    assert datetime.fromisoformat(opened["updated_at"]) == stored[0]["updated_at"]
    exported = await manager.get(CUSTOMERS, params={"id": customer, "__page_size": 1000})
    assert datetime.fromisoformat(exported.json()["rows"][0]["updated_at"])
    manager.cookies.set("bankcrm_admin_lang", "en")
    english = await manager.get(CUSTOMERS, params={"id": customer})
    assert english.json()["rows"][0]["updated_at"] == f"{local:%Y-%m-%d %H:%M}"


async def test_snapshots_and_import_batches_are_technical(world: World) -> None:
    technical = (
        "customer_archive_balance_snapshot",
        "customer_archive_aum_snapshot",
        "customer_archive_import_batch",
    )
    manager = await admin_client(world, "demo.bj.manager")
    assert not set((await manager.get("/admin/api/tables/")).json()) & set(technical)
    for table in technical:
        assert is_problem(await manager.get(f"/admin/api/tables/{table}/"), 403), table
    grouped = (await manager.get("/admin/api/tables/grouped/")).json()["grouped"]
    assert next(iter(grouped)) == "客户档案"
    assert grouped["客户档案"][0] == "customer_archive_customer"

    admin = await admin_client(world, "demo.admin")
    grouped = (await admin.get("/admin/api/tables/grouped/")).json()["grouped"]
    assert set(grouped["客户档案 · 技术数据"]) == set(technical)
    assert (await admin.get(f"/admin/api/tables/{technical[0]}/")).status_code == 200


async def test_the_admin_offers_no_action_it_refuses(world: World) -> None:
    manager = await admin_client(world, "demo.bj.manager")
    screens = (await manager.get("/admin/api/screens/")).json()["screens"]
    assert screens["customer_archive_customer"] == {
        "title": "客户", "deny": ["create"],
        "row_page": "/app/customer_archive/customers/{id}", "row_page_title": "360°视图",
    }  # fmt: skip
    assert screens["customer_archive_merge"]["deny"] == ["create", "edit", "delete"]
    assert screens["customer_archive_customer_address"]["deny"] == []
    teller = await admin_client(world, "demo.teller")
    shown = (await teller.get("/admin/api/screens/")).json()["screens"]
    assert shown["customer_archive_customer"]["deny"] == ["create", "edit", "delete"]


async def test_enumerated_columns_show_the_declared_labels(world: World) -> None:
    client = await admin_client(world, "demo.bj.manager")
    schema = (await client.get(f"{CUSTOMERS}schema/")).json()
    kinds = schema["properties"]["kind"]["extra"]["choices"]
    assert {c["value"]: c["display_name"] for c in kinds.values()} == {
        "individual": "个人客户",
        "corporate": "对公客户",
    }
    id_types = schema["properties"]["id_type"]["extra"]["choices"]
    assert {c["display_name"] for c in id_types.values()} >= {"居民身份证", "护照"}
    # An address's kind has other values: its own labels, not the customer's.
    addresses = (
        await client.get("/admin/api/tables/customer_archive_customer_address/schema/")
    ).json()
    address_kinds = addresses["properties"]["kind"]["extra"]["choices"]
    assert {c["display_name"] for c in address_kinds.values()} == {
        "家庭住址", "单位地址", "户籍/注册地址", "通讯地址",
    }  # fmt: skip
    holdings = (await client.get("/admin/api/tables/customer_archive_holding/schema/")).json()
    statuses = holdings["properties"]["status"]["extra"]["choices"]
    assert {c["display_name"] for c in statuses.values()} == {"正常", "冻结", "已销户"}
