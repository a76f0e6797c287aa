"""Background fields of the profile: create, patch, kind rules, audit."""

import json
from typing import Any

import httpx

from bankcrm_sdk.world import World

BASE = "/api/v1/customer_archive"


async def test_individual_background_is_created_patched_and_audited(
    world: World, kit: Any, bj: httpx.AsyncClient
) -> None:
    created = await kit.create(
        bj, education="master", income_band="300k_1m", marital_status="married"
    )
    assert (created["education"], created["income_band"], created["marital_status"]) == (
        "master", "300k_1m", "married",
    )  # fmt: skip
    assert created["credit_grade"] is None
    (create,) = await kit.audit(created["id"], "create")
    assert json.loads(create["after"])["education"] == "master"

    response = await bj.patch(
        f"{BASE}/customers/{created['id']}", json={"income_band": "1m_5m", "education": None}
    )
    assert response.status_code == 200, response.text
    assert (response.json()["income_band"], response.json()["education"]) == ("1m_5m", None)
    (update,) = await kit.audit(created["id"], "update")
    assert json.loads(update["before"]) == {"income_band": "300k_1m", "education": "master"}
    assert json.loads(update["after"]) == {"income_band": "1m_5m", "education": None}


async def test_corporate_background(world: World, kit: Any, bj: httpx.AsyncClient) -> None:
    created = await kit.create(
        bj, kind="corporate", name="北京恒信科技有限公司", id_type="uscc", id_number=kit.uscc(),
        company_size="small", registered_capital="5000000", established_on="2016-03-01",
    )  # fmt: skip
    assert created["company_size"] == "small"
    assert created["registered_capital"] == "5000000.00"
    assert created["established_on"] == "2016-03-01"
    detail = (await bj.get(f"{BASE}/customers/{created['id']}")).json()
    assert detail["registered_capital"] == "5000000.00"


async def test_fields_of_the_other_kind_are_refused_field_by_field(
    world: World, kit: Any, bj: httpx.AsyncClient
) -> None:
    response = await bj.post(
        f"{BASE}/customers",
        json=kit.person(company_size="large", registered_capital="1", education="bachelor"),
    )
    assert response.status_code == 422, response.text
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"/body/company_size", "/body/registered_capital"}

    corporate = await kit.create(
        bj, kind="corporate", name="上海浦江贸易有限公司", id_type="uscc", id_number=kit.uscc()
    )
    response = await bj.patch(
        f"{BASE}/customers/{corporate['id']}", json={"marital_status": "single"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "/body/marital_status"
    response = await bj.patch(
        f"{BASE}/customers/{corporate['id']}",
        json={"established_on": "2999-01-01", "registered_capital": "1.001"},
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {
        "/body/established_on", "/body/registered_capital",
    }  # fmt: skip
    assert await kit.audit(corporate["id"], "update") == []


async def test_ratings_are_not_patchable(world: World, kit: Any, bj: httpx.AsyncClient) -> None:
    created = await kit.create(bj)
    response = await bj.patch(f"{BASE}/customers/{created['id']}", json={"credit_grade": "AAA"})
    assert response.status_code in (400, 422)
    response = await bj.post(f"{BASE}/customers", json=kit.person(value_tier="private"))
    assert response.status_code in (400, 422)
