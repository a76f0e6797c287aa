"""How many statements one 360 request sends, pinned so the hot path cannot silently grow.

Every statement outside a transaction is a pool checkout plus a round trip; the 360 view
once grew from 4 to 18 of them as sections were added. The count is taken with asyncpg's
query logger on every connection of the application pool, around one request.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from importlib.metadata import entry_points
from typing import Any

import asyncpg
import httpx

from bankcrm.piccolo_conf import DB
from bankcrm_customer_archive.profile import services as profile
from bankcrm_sdk.world import World

BASE = "/api/v1/customer_archive"

# The customer archive's statements for one 360 view by a manager who may read holdings
# and contracts: the customer with its panels and the audited view, the relations,
# channels, household, ratings, contracts and AUM trend, and the portrait.
PLUGIN_STATEMENTS_360 = 1


def _connections() -> list[asyncpg.Connection]:
    """The pool's open connections (asyncpg keeps them in holders; a holder not yet
    connected has none)."""
    assert DB.pool is not None
    holders = DB.pool._holders  # asyncpg has no public list of connections
    return [h._con for h in holders if h._con is not None]


@contextlib.asynccontextmanager
async def logged_statements() -> AsyncIterator[list[str]]:
    """The text of every statement sent on the pool's connections inside the block."""
    statements: list[str] = []

    def log(record: Any) -> None:
        statements.append(record.query)

    connections = _connections()
    for connection in connections:
        connection.add_query_logger(log)
    try:
        yield statements
        await asyncio.sleep(0)  # asyncpg calls loggers with call_soon
    finally:
        for connection in connections:
            connection.remove_query_logger(log)
    # A connection opened inside the block would have escaped the count.
    assert {id(c) for c in _connections()} == {id(c) for c in connections}


def _plugin_statements(statements: list[str]) -> list[str]:
    """The customer archive's own statements: the kernel's session lookup, scope setting
    and branch-tree refresh (every 5 s) are not the 360 view's to count."""
    return [s for s in statements if "customer_archive_" in s]


async def test_one_360_request_sends_a_fixed_number_of_statements(
    world: World, kit: Any, bj: httpx.AsyncClient, catalogue: dict[str, int]
) -> None:
    customer_id = (await kit.create(bj, branch_id=world.branch("BJ-HD")))["id"]
    response = await bj.post(
        f"{BASE}/customers/{customer_id}/holdings",
        json={"product_code": "DEP-1Y", "account_no": "6222000000000900001", "balance": "1000"},
    )
    assert response.status_code == 201, response.text
    path = f"{BASE}/customers/{customer_id}/360"
    # Warm up: the connections this request needs exist before the count starts.
    assert (await bj.get(path)).status_code == 200
    async with logged_statements() as statements:
        view = await bj.get(path)
    assert view.status_code == 200, view.text
    keys = [s["key"] for s in view.json()["sections"]]
    assert "customer_archive.contracts" in keys
    assert "customer_archive.aum_trend" in keys
    own = _plugin_statements(statements)
    assert len(own) == PLUGIN_STATEMENTS_360, "\n---\n".join(own)
    # Other installed plugins answer the timeline and 360 hooks with their own statements
    # (theirs to count); the kernel adds its session lookup and at most the scope and the
    # branch-tree refresh.
    others = {ep.name for ep in entry_points(group="bankcrm.plugins")} - {"customer_archive"}
    kernel = [s for s in statements if s not in own and not any(f"{p}_" in s for p in others)]
    assert len(kernel) <= 3, "\n---\n".join(statements)


async def test_360_panels_answer_what_the_panel_routes_answer(
    world: World, kit: Any, bj: httpx.AsyncClient, catalogue: dict[str, int]
) -> None:
    """The one-statement 360 view gives each panel exactly what its own route gives."""
    husband = (await kit.create(bj, id_number=kit.resident_id(order="301"), name="张伟"))["id"]
    wife = (await kit.create(bj, id_number=kit.resident_id(order="302"), name="李娜"))["id"]
    friend = (await kit.create(bj, id_number=kit.resident_id(order="303"), name="赵强"))["id"]
    customer = f"{BASE}/customers/{husband}"
    for url, body in [
        (f"{customer}/relations", {"kind": "spouse", "related_id": wife}),
        # Incoming: the husband guarantees for the friend (a one-way relation).
        (f"{BASE}/customers/{friend}/relations", {"kind": "guarantor", "related_id": husband}),
        (f"{BASE}/households", {"name": "张家", "head_id": husband,
                                          "customer_ids": [wife]}),
        (f"{customer}/channels", {"kind": "mobile", "value": "13812345678", "is_primary": True}),
        (f"{customer}/channels", {"kind": "wechat", "value": "zhang_wei85"}),
        (f"{customer}/ratings", {"kind": "risk_tolerance", "value": "C3"}),
        (f"{customer}/ratings", {"kind": "risk_tolerance", "value": "C4", "note": "复评"}),
        (f"{customer}/holdings", {"product_code": "DEP-1Y", "account_no": "6222000000000900002",
                                  "balance": "250000.50"}),
        (f"{customer}/contracts", {"kind": "deposit", "number": "CK-9", "status": "active",
                                   "amount": "250000.50", "signed_on": "2026-01-05"}),
        (f"{customer}/contracts", {"kind": "deposit", "number": "CK-10"}),
    ]:  # fmt: skip
        response = await bj.post(url, json=body)
        assert response.status_code == 201, (url, response.text)
    contract_id = response.json()["id"]
    pdf = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
    response = await bj.post(f"{BASE}/contracts/{contract_id}/documents",
                             files={"file": ("合同.pdf", pdf, "application/pdf")})  # fmt: skip
    assert response.status_code == 201, response.text
    with world.bind(await world.scope_of("BJ")):
        await profile.take_snapshots()

    view = await bj.get(f"{customer}/360")
    assert view.status_code == 200, view.text
    sections = {s["key"]: s["data"] for s in view.json()["sections"]}

    async def route(path: str) -> Any:
        response = await bj.get(f"{customer}/{path}")
        assert response.status_code == 200, response.text
        return response.json()

    relations = sections["customer_archive.relations"]
    assert relations["relations"] == await route("relations")
    assert [r["direction"] for r in relations["relations"]] == ["outgoing", "incoming"]
    assert relations["household"] == await route("household")
    assert relations["household"]["name"] == "张家"
    assert relations["channels"] == await route("channels")
    assert "13812345678" not in json.dumps(relations["channels"])
    history = sections["customer_archive.ratings"]["history"]
    assert history == (await route("ratings"))["items"]
    assert [(r["value"], r["previous"]) for r in history] == [("C4", "C3"), ("C3", None)]
    contracts = sections["customer_archive.contracts"]
    assert contracts["contracts"] == await route("contracts")
    assert contracts["active"] == 1
    assert [len(c["documents"]) for c in contracts["contracts"]] == [1, 0]
    assert sections["customer_archive.aum_trend"]["points"] == (await route("aum"))["points"]
    assert sections["customer_archive.aum_trend"]["points"][-1]["aum"] == "250000.50"
    portrait = await route("portrait")
    assert sections["customer_archive.portrait"]["portrait"] == portrait
    # The two views above and the 360 view: each audited once.
    assert len(await kit.audit(husband, "view")) == 2
