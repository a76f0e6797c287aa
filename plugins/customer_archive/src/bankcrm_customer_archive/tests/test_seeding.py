from typing import Any

import httpx

from bankcrm import db, pii
from bankcrm.plugin_api import DemoContext
from bankcrm_customer_archive.demo_data import TAG_VOCABULARY, is_valid_resident_id, is_valid_uscc
from bankcrm_customer_archive.seeding import RELATIONSHIP_MANAGERS, seed_demo
from bankcrm_sdk.world import World

BASE = "/api/v1/customer_archive"


async def test_demo_seed_is_realistic(world: World, kit: Any) -> None:
    with world.bind(world.system_scope()):
        await seed_demo(DemoContext(branches=world.branches, users=world.users, scale=60, seed=7))
        customers = await db.fetch("SELECT * FROM customer_archive_customer ORDER BY id")
        holdings = await db.fetch(
            "SELECT h.*, p.code, p.segment FROM customer_archive_holding h"
            " JOIN customer_archive_product p ON p.id = h.product"
        )
        tags = await db.fetch(
            "SELECT branch_id, count(*) AS n FROM customer_archive_tag WHERE kind = 'manual'"
            " GROUP BY 1"
        )
        contacts = await db.fetchval("SELECT count(*) FROM customer_archive_customer_contact")
        addresses = await db.fetchval("SELECT count(*) FROM customer_archive_customer_address")
    assert len(customers) == 60
    code_of = {branch_id: code for code, branch_id in world.branches.items()}
    assert {code_of[c["branch_id"]] for c in customers} <= set(RELATIONSHIP_MANAGERS)
    assert len({c["branch_id"] for c in customers}) >= 4
    for customer in customers:
        number = pii.decrypt(customer["id_number_encrypted"])
        assert customer["id_number_hash"] == pii.lookup_hash(number)
        if customer["kind"] == "individual":
            assert customer["id_type"] == "resident_id"
            assert is_valid_resident_id(number)
            assert customer["gender"] in {"M", "F"}
            assert customer["birth_date"] is not None
            assert 2 <= len(customer["name"]) <= 4
        else:
            assert customer["id_type"] == "uscc"
            assert is_valid_uscc(number)
            assert customer["name"].endswith(("公司", "厂", "中心", "店", "所", "局", "院", "社"))
        assert customer["name_pinyin"].isascii()
        assert customer["name_initials"]
        manager = RELATIONSHIP_MANAGERS[code_of[customer["branch_id"]]]
        assert customer["relationship_manager"] == world.users[manager]
    kinds = [c["kind"] for c in customers]
    assert 0 < kinds.count("corporate") < 30
    assert contacts > 0
    assert addresses >= 60
    assert len(holdings) >= 60
    assert len({h["account_no"] for h in holdings}) == len(holdings)
    kind_of = {c["id"]: c["kind"] for c in customers}
    assert all(h["segment"] == kind_of[h["customer"]] for h in holdings)
    assert all(h["balance"] >= 0 for h in holdings)
    assert sorted(t["n"] for t in tags) == [len(TAG_VOCABULARY)] * 6
    assert len(await kit.audit("demo", "create")) == 6  # one per branch
    assert len(await kit.audit("demo", "create", "customer_archive.product")) == 1

    # The demo data is searchable like any other: by name and by pinyin.
    bj: httpx.AsyncClient = await world.client("demo.bj.manager")
    someone = next(c for c in customers if code_of[c["branch_id"]] == "BJ-HD")
    for query in (someone["name"], someone["name_pinyin"]):
        found = (await bj.get(f"{BASE}/customers", params={"q": query})).json()["items"]
        assert someone["id"] in [item["id"] for item in found]
