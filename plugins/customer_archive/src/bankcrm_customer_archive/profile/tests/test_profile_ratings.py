"""Ratings: history with who and when, the current value on the customer, audit."""

import json
from typing import Any

import httpx

from bankcrm import db
from bankcrm_customer_archive.profile import services as profile
from bankcrm_sdk.world import World

BASE = "/api/v1/customer_archive"


async def test_rating_history_and_current_value(
    world: World, kit: Any, bj: httpx.AsyncClient
) -> None:
    customer_id = (await kit.create(bj, branch_id=world.branch("BJ-HD")))["id"]
    url = f"{BASE}/customers/{customer_id}/ratings"
    first = await bj.post(url, json={"kind": "credit_grade", "value": "A", "note": "年度评级"})
    assert first.status_code == 201, first.text
    assert (first.json()["previous"], first.json()["rated_by_name"]) == (None, "demo.bj.manager")
    second = await bj.post(url, json={"kind": "credit_grade", "value": "AA"})
    assert second.json()["previous"] == "A"
    await bj.post(url, json={"kind": "risk_tolerance", "value": "C3"})
    # A manual confirmation of the same grade is kept in the history.
    await bj.post(url, json={"kind": "credit_grade", "value": "AA", "note": "复核"})

    detail = (await bj.get(f"{BASE}/customers/{customer_id}")).json()
    assert (detail["credit_grade"], detail["risk_tolerance"]) == ("AA", "C3")
    page = (await bj.get(url, params={"kind": "credit_grade", "limit": 2})).json()
    assert [(r["value"], r["previous"]) for r in page["items"]] == [("AA", "AA"), ("AA", "A")]
    rest = (
        await bj.get(url, params={"kind": "credit_grade", "cursor": page["next_cursor"]})
    ).json()
    assert [r["value"] for r in rest["items"]] == ["A"]
    assert rest["next_cursor"] is None
    assert rest["items"][0]["note"] == "年度评级"

    updates = await kit.audit(customer_id, "update")
    assert [json.loads(u["after"]) for u in updates] == [
        {"credit_grade": "A"}, {"credit_grade": "AA"}, {"risk_tolerance": "C3"},
    ]  # fmt: skip
    ratings = await kit.audit(first.json()["id"], "create", "customer_archive.rating")
    assert json.loads(ratings[0]["after"])["source"] == "manual"

    for body in ({"kind": "credit_grade", "value": "C5"}, {"kind": "value_tier", "value": "AAA"}):
        response = await bj.post(url, json=body)
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == "/body/value"
    sh = await world.client("demo.sh.manager")
    assert (await sh.post(url, json={"kind": "credit_grade", "value": "D"})).status_code == 404
    assert (await sh.get(url)).status_code == 404
    rm = await world.client("demo.bj.rm")  # may read customers, not rate them
    assert (await rm.post(url, json={"kind": "credit_grade", "value": "D"})).status_code == 403
    assert (await rm.get(url)).status_code == 200


async def test_record_rating_for_jobs(world: World, kit: Any, bj: httpx.AsyncClient) -> None:
    first = (await kit.create(bj))["id"]
    second = (await kit.create(bj, id_number=kit.resident_id(order="304")))["id"]
    with world.bind(await world.scope_of("BJ")):
        rated = await profile.record_rating(first, "value_tier", "wealth", source="job")
        assert rated is not None
        assert rated.rated_by is None
        # A job repeating the current value changes nothing.
        assert await profile.record_rating(first, "value_tier", "wealth", source="job") is None
        assert (
            await profile.record_ratings(
                "value_tier", {first: "wealth", second: "mass"}, source="job", note="nightly"
            )
            == 1
        )
        assert await profile.record_ratings("value_tier", {second: "mass"}, source="job") == 0
        rows = await db.fetch(
            "SELECT customer, value, source, note FROM customer_archive_rating ORDER BY id"
        )
        tiers = await db.fetch("SELECT id, value_tier FROM customer_archive_customer ORDER BY id")
    assert [tuple(r) for r in rows] == [
        (first, "wealth", "job", ""), (second, "mass", "job", "nightly"),
    ]  # fmt: skip
    assert [tuple(r) for r in tiers] == [(first, "wealth"), (second, "mass")]
    (bulk,) = await kit.audit("value_tier:bulk", "update")
    assert json.loads(bulk["after"])["changes"] == [
        {"customer_id": second, "before": None, "after": "mass"}
    ]
