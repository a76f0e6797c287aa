"""Set-at-a-time reads for other plugins: matching outside records to customers and the
facts of many customers at once, under row-level security."""

from __future__ import annotations

from typing import Any

import httpx

from bankcrm_customer_archive import services
from bankcrm_sdk.world import World

BASE = "/api/v1/customer_archive"


async def test_values_match_one_customer_or_none(
    world: World, kit: Any, bj: httpx.AsyncClient, catalogue: dict[str, int]
) -> None:
    one = await kit.create(bj, branch_id=world.branch("BJ-HD"))
    two = await kit.create(
        bj, name="李四", id_number=kit.resident_id(order="304"), phone="13900001111"
    )
    shared = await kit.create(
        bj, name="张三", id_number=kit.resident_id(order="306"), phone="13900001111"
    )
    holding = await bj.post(
        f"{BASE}/customers/{two['id']}/holdings",
        json={"product_code": "CARD-DEB", "account_no": "6217000010001234567",
              "opened_on": "2021-05-06"},
    )  # fmt: skip
    assert holding.status_code == 201, holding.text
    with world.bind(await world.scope_of("BJ")):
        by_id = await services.match_customers("id_number", [kit.resident_id(), "110101"])
        assert by_id == {
            kit.resident_id(): services.CustomerMatch(one["id"], world.branch("BJ-HD"))
        }
        by_account = await services.match_customers("account_no", [" 6217000010001234567 "])
        assert by_account["6217000010001234567"].customer_id == two["id"]
        # The shared number fits two customers: not guessed. Formats are normalised.
        by_phone = await services.match_customers("phone", ["+86 138-1234-5678", "13900001111"])
        assert list(by_phone) == ["+86 138-1234-5678"]
        assert by_phone["+86 138-1234-5678"].customer_id == one["id"]
        assert await services.match_customers("phone", [None, " "]) == {}

        facts = await services.customer_facts([one["id"], shared["id"]])
        assert [(f.customer_id, f.kind) for f in facts] == [
            (one["id"], "individual"), (shared["id"], "individual"),
        ]  # fmt: skip
        held = await services.holding_facts()
        assert [(h.customer_id, h.product_code, h.product_category, str(h.opened_on))
                for h in held] == [(two["id"], "CARD-DEB", "card", "2021-05-06")]  # fmt: skip

    with world.bind(await world.scope_of("SH")):
        assert await services.match_customers("id_number", [kit.resident_id()]) == {}
        assert await services.customer_facts() == []
        assert await services.holding_facts() == []
