"""The model registry: versions stored as data, maker-checker approval, retirement, the
roles and bad input."""

from __future__ import annotations

from typing import Any

import httpx

from bankcrm_sdk.world import World

PROBLEM = "application/problem+json"
TABLE = "mining_model"


def refused(response: httpx.Response, status: int) -> bool:
    """A 4xx answer with the kernel's problem body (never a 500, never HTML)."""
    content_type = response.headers.get("content-type", "")
    return response.status_code == status and content_type.startswith(PROBLEM)


async def test_register_then_a_second_person_approves(world: World, kit: Any) -> None:
    maker = await world.client("demo.bj.manager")
    created = await kit.create(maker)
    assert (created["status"], created["version"]) == ("draft", 1)
    assert created["created_by"] == f"user:{world.users['demo.bj.manager']}"
    assert created["spec"]["points"][0]["points"] == -20
    url = f"{kit.base}/{created['id']}"

    own = await maker.post(f"{url}/approve")
    assert refused(own, 409)
    assert own.json()["type"].endswith("/maker_checker")

    checker = await world.client("demo.sh.manager")
    approved = await checker.post(f"{url}/approve")
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert approved.json()["approved_by"] == f"user:{world.users['demo.sh.manager']}"
    assert refused(await checker.post(f"{url}/approve"), 409)  # approved once only

    trail = await kit.audit(created["id"])
    assert [row["action"] for row in trail] == ["create", "update"]


async def test_versions_count_up_and_retiring_rolls_back(world: World, kit: Any) -> None:
    maker = await world.client("demo.bj.manager")
    checker = await world.client("demo.sh.manager")
    first = await kit.create(maker)
    second = await kit.create(maker, metrics={"roc_auc": 0.76})
    assert (first["version"], second["version"]) == (1, 2)
    for model in (first, second):
        assert (await checker.post(f"{kit.base}/{model['id']}/approve")).status_code == 200

    with world.bind(await world.scope_of("BJ")):
        from bankcrm_mining import services

        assert (await services.approved_model("retail_scorecard")).version == 2  # type: ignore[union-attr]
        retired = await maker.post(f"{kit.base}/{second['id']}/retire")
        assert retired.json()["status"] == "retired"
        assert (await services.approved_model("retail_scorecard")).version == 1  # type: ignore[union-attr]
    assert refused(await checker.post(f"{kit.base}/{second['id']}/approve"), 409)

    listed = (await maker.get(kit.base, params={"status": "approved"})).json()["items"]
    assert [item["id"] for item in listed] == [first["id"]]


async def test_roles(world: World, kit: Any) -> None:
    rm = await world.client("demo.bj.rm")  # reads the registry, registers nothing
    assert refused(await rm.post(kit.base, json=kit.body()), 403)
    created = await kit.create(await world.client("demo.bj.manager"))
    assert (await rm.get(f"{kit.base}/{created['id']}")).status_code == 200
    assert refused(await rm.post(f"{kit.base}/{created['id']}/approve"), 403)
    auditor = await world.client("demo.auditor")
    assert [i["id"] for i in (await auditor.get(kit.base)).json()["items"]] == [created["id"]]


async def test_a_spec_no_scorer_could_apply_is_refused(world: World, kit: Any) -> None:
    manager = await world.client("demo.bj.manager")
    cases: list[tuple[dict[str, Any], str]] = []
    body = kit.body()
    body["spec"]["points"][1]["feature"] = "salary"
    cases.append((body, "/body/spec/points/1/feature"))
    body = kit.body()
    body["spec"]["points"][0]["bin"] = {"lo": "low"}
    cases.append((body, "/body/spec/points/0/bin"))
    body = kit.body()
    body["features"] = ["tenure_days", "product_count", "age"]
    cases.append((body, "/body/features"))
    body = kit.body()
    body["kind"] = "logistic"
    body["spec"] = {"intercept": -1.2, "coefficients": {"tenure_days": 0.3}}
    cases.append((body, "/body/spec/coefficients"))
    for body, field in cases:
        response = await manager.post(kit.base, json=body)
        assert refused(response, 422), field
        assert response.json()["errors"][0]["field"] == field
    assert await kit.owner_fetch(f"SELECT id FROM {TABLE}") == []


async def test_bad_input_is_a_problem_never_a_500(world: World, kit: Any) -> None:
    manager = await world.client("demo.bj.manager")
    for change in (
        {"name": "Has Spaces"},
        {"task": "fortune"},
        {"data_fingerprint": "short"},
        {"pickle": "gASVAAAAAA=="},
        {"features": []},
    ):
        body = kit.body()
        body.update(change)
        assert refused(await manager.post(kit.base, json=body), 422), change
    assert refused(await manager.get(kit.base, params={"cursor": "not-a-cursor"}), 400)
    assert refused(await manager.get(kit.base, params={"limit": 0}), 422)
    assert refused(await manager.get(f"{kit.base}/999999"), 404)
    assert refused(await manager.get(f"{kit.base}/{2**40}"), 422)


async def test_a_logistic_model_registers(world: World, kit: Any) -> None:
    manager = await world.client("demo.bj.manager")
    body = kit.body()
    body.update(
        name="deposit_churn", task="churn", kind="logistic", features=["recency_days"],
        spec={"intercept": -2.0, "coefficients": {"recency_days": 0.8},
              "scale": {"recency_days": [30.0, 12.5]}},
    )  # fmt: skip
    created = await kit.create(manager, **body)
    assert created["spec"]["coefficients"] == {"recency_days": 0.8}
    response = await manager.get(kit.base, params={"task": "churn"})
    assert [i["name"] for i in response.json()["items"]] == ["deposit_churn"]
