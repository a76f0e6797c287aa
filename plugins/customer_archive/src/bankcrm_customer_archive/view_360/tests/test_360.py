from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx

from bankcrm import branches, db
from bankcrm.context import Scope
from bankcrm.plugins import PluginCandidate
from bankcrm.runtime import Kernel
from bankcrm_customer_archive import services
from bankcrm_sdk.world import World

BASE = "/api/v1/customer_archive"


async def test_core_sections(
    world: World, kit: Any, bj: httpx.AsyncClient, catalogue: dict[str, int]
) -> None:
    customer_id = (await kit.create(bj, branch_id=world.branch("BJ-HD")))["id"]
    holdings = f"{BASE}/customers/{customer_id}/holdings"
    for code, account, balance in [
        ("DEP-1Y", "6222000000000000001", "100000.00"),
        ("WM-30D", "6222000000000000002", "50000.50"),
        ("LN-CONS", "6222000000000000003", "30000"),
    ]:
        response = await bj.post(holdings, json={"product_code": code, "account_no": account,
                                                 "balance": balance})  # fmt: skip
        assert response.status_code == 201, response.text
    view = await bj.get(f"{BASE}/customers/{customer_id}/360")
    assert view.status_code == 200, view.text
    body = view.json()
    assert body["branch_id"] == world.branch("BJ-HD")
    sections = {s["key"]: s for s in body["sections"]}
    assert list(sections)[:2] == ["customer_archive.profile", "customer_archive.holdings"]
    assert "customer_archive.portrait" in sections
    assert sections["customer_archive.profile"]["data"]["customer"]["name"] == "王秀英"
    accounts = sections["customer_archive.holdings"]["data"]
    assert Decimal(accounts["aum"]["CNY"]) == Decimal("150000.50")
    assert Decimal(accounts["credit"]["CNY"]) == Decimal("30000.00")
    assert accounts["open_by_category"] == {"deposit": 1, "wealth": 1, "loan": 1}
    assert all("*" in h["account_no"] for h in accounts["holdings"])

    sh = await world.client("demo.sh.manager")
    assert (await sh.get(f"{BASE}/customers/{customer_id}/360")).status_code == 404
    with world.bind(await world.scope_of("BJ")):
        assert await services.kpis() == {
            "customer_archive.customers": 1,
            "customer_archive.aum": Decimal("150000.50"),
        }
    with world.bind(await world.scope_of("SH")):
        assert (await services.kpis())["customer_archive.customers"] == 0
    # Without holding.read the accounts section is left out.
    narrow = Scope(actor="user:0", branch_ids=await world.subtree("BJ"),
                   permissions=frozenset({"customer_archive.customer.read"}))  # fmt: skip
    with world.bind(narrow):
        only = await services.core_sections(customer_id, narrow)
    assert only is not None
    assert only[0].key == "customer_archive.profile"
    assert "customer_archive.holdings" not in [s.key for s in only]


async def test_hook_customer_360_sections_from_enabled_plugins(
    world: World,
    kit: Any,
    bj: httpx.AsyncClient,
    kernel_with: Callable[[list[PluginCandidate]], Kernel],
    make_plugin: Callable[..., PluginCandidate],
) -> None:
    seen: list[tuple[int, str]] = []

    async def customer_360_sections(customer_id: int, scope: Scope) -> services.Section:
        seen.append((customer_id, scope.actor))
        rows = await db.fetch("SELECT name FROM customer_archive_customer WHERE id = $1",
                              customer_id)  # fmt: skip
        return services.Section("notes.latest", "最近备注", "Latest notes",
                                {"about": rows[0]["name"]})  # fmt: skip

    notes = make_plugin("notes", requires=("customer_archive",),
                        hooks={"customer_360_sections": customer_360_sections})  # fmt: skip
    kernel = kernel_with([notes])
    hd_customer = (await kit.create(bj, branch_id=world.branch("BJ-HD")))["id"]
    cy_customer = (await kit.create(bj, branch_id=world.branch("BJ-CY"),
                                    id_number=kit.resident_id(order="304")))["id"]  # fmt: skip
    with world.bind(world.system_scope()):
        await db.fetch(
            "INSERT INTO bankcrm_plugin_enablement (branch, plugin, enabled, settings,"
            " changed_by, changed_at) VALUES ($1, 'notes', true, '{}', 'test', now()),"
            " ($2, 'notes', false, '{}', 'test', now())",
            world.branch("HQ"), world.branch("BJ-CY"),
        )  # fmt: skip
    branches.invalidate()

    scope = await world.scope_of("BJ")
    with world.bind(scope):
        enabled = await services.customer_360(hd_customer, kernel.registry)
        disabled = await services.customer_360(cy_customer, kernel.registry)
    # customer_archive's own sections come first, then the other plugins'.
    assert [(s.plugin, s.key) for s in enabled.sections][:2] == [
        ("customer_archive", "customer_archive.profile"),
        ("customer_archive", "customer_archive.holdings"),
    ]
    assert [(s.plugin, s.key) for s in enabled.sections if s.plugin != "customer_archive"] == [
        ("notes", "notes.latest")
    ]
    # The other plugins' sections, then the timeline closes the view.
    assert enabled.sections[-2].plugin == "notes"
    assert enabled.sections[-2].data == {"about": "王秀英"}
    assert enabled.sections[-1].key == "customer_archive.timeline"
    assert {s.plugin for s in disabled.sections} == {"customer_archive"}
    assert seen == [(hd_customer, scope.actor)]
