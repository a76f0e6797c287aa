"""KPIs broken down along the branch tree, each figure under the viewer's own scope."""

from __future__ import annotations

from typing import Any

from bankcrm_reporting.kpis import this_period
from bankcrm_sdk.world import World

KPIS = "/api/v1/reporting/kpis"
CUSTOMERS = "/api/v1/customer_archive/customers"


def resident_id(serial: int) -> str:
    body = f"11010519800101{serial:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


async def customer(client: Any, serial: int, **extra: Any) -> None:
    response = await client.post(
        CUSTOMERS,
        json={"kind": "individual", "name": "钱进", "id_type": "resident_id",
              "id_number": resident_id(serial), "phone": f"1380000{serial:04d}", **extra},
    )  # fmt: skip
    assert response.status_code == 201, response.text


async def test_a_kpi_rolls_up_the_branch_tree_within_each_viewer_s_scope(
    world: World, kit: Any
) -> None:
    bj_rm, bj = await world.client("demo.bj.rm"), await world.client("demo.bj.manager")
    await customer(bj_rm, 1)
    await customer(bj_rm, 2)
    await customer(bj, 3, branch_id=world.branch("BJ"))
    await customer(await world.client("demo.sh.rm"), 4)

    listed = {k["name"]: k for k in (await bj.get(KPIS)).json()}
    assert listed["customer_archive.customers"]["plugin"] == "customer_archive"
    assert listed["customer_archive.customers"]["title"] == "客户数"

    await kit.create(bj, period=this_period(), value="6", branch_id=world.branch("BJ"))
    url = f"{KPIS}/customer_archive.customers/breakdown"
    mine = (await bj.get(url)).json()
    assert (mine["branch"]["code"], mine["branch"]["value"]) == ("BJ", 3)
    assert (mine["branch"]["target"], mine["branch"]["attainment"]) == (6, 50.0)
    children = {c["code"]: c["value"] for c in mine["children"]}
    assert children["BJ-HD"] == 2
    assert "SH" not in children
    assert mine["period"] == this_period()

    hq = (await (await world.client("demo.admin")).get(url)).json()
    assert hq["branch"]["value"] == 4
    assert {c["code"]: c["value"] for c in hq["children"]} == {"BJ": 3, "SH": 1}

    sh_rm = await world.client("demo.sh.rm")
    theirs = (await sh_rm.get(url)).json()
    assert (theirs["branch"]["code"], theirs["branch"]["value"], theirs["children"]) == (
        "SH-PD", 1, [],
    )  # fmt: skip
    assert (await sh_rm.get(url, params={"branch_id": world.branch("BJ")})).status_code == 404
    assert (await bj.get(f"{KPIS}/no.such_kpi/breakdown")).status_code == 404
