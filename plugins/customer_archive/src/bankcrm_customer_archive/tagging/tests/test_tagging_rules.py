"""Rule tags: validation, preview, set-based evaluation (add and remove), manual tags left
alone, idempotent jobs, branch isolation, age rules."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import asyncpg
import httpx

from bankcrm import db
from bankcrm_customer_archive.tagging import services as tagging
from bankcrm_sdk.jobs import StartJobWorker
from bankcrm_sdk.world import World

BASE = "/api/v1/customer_archive"


async def owner_fetch(world: World, sql: str, *args: Any) -> list[asyncpg.Record]:
    owner = await asyncpg.connect(world.kernel.owner_url)
    try:
        return list(await owner.fetch(sql, *args))
    finally:
        await owner.close()


async def links(world: World, tag_id: int) -> dict[int, str]:
    rows = await owner_fetch(
        world, "SELECT customer, source FROM customer_archive_customer_tag WHERE tag = $1", tag_id
    )
    return {r["customer"]: r["source"] for r in rows}


async def evaluate(world: World, rule_id: int | None = None, *codes: str) -> None:
    """Run the actor body in one transaction, as the worker does."""
    with world.bind(await world.scope_of(*codes)):
        async with db.transaction():
            await tagging.evaluate_tag_rules(rule_id)


async def manual_tag(client: httpx.AsyncClient, branch_id: int, name: str) -> int:
    response = await client.post(f"{BASE}/tags", json={"name": name, "branch_id": branch_id})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def tag(client: httpx.AsyncClient, customer_id: int, tag_id: int) -> httpx.Response:
    return await client.post(f"{BASE}/customers/{customer_id}/tags", json={"tag_id": tag_id})


async def test_rule_adds_and_removes_links_and_leaves_manual_tags(
    world: World, kit: Any, bj: httpx.AsyncClient
) -> None:
    hd = world.branch("BJ-HD")
    vip = await manual_tag(bj, hd, "VIP")
    other = await manual_tag(bj, hd, "老客户")
    first = (await kit.create(bj, branch_id=hd, id_number=kit.resident_id(order="302")))["id"]
    second = (await kit.create(bj, branch_id=hd, id_number=kit.resident_id(order="312")))["id"]
    third = (await kit.create(bj, branch_id=hd, id_number=kit.resident_id(order="322")))["id"]
    for customer in (first, second):
        assert (await tag(bj, customer, vip)).status_code == 200
    assert (await tag(bj, third, other)).status_code == 200

    preview = await bj.post(
        f"{BASE}/tag-rules/preview", json={"branch_id": hd, "criteria": {"tags": ["VIP"]}}
    )
    assert preview.status_code == 200, preview.text
    assert preview.json() == {"branch_id": hd, "matching": 2}

    created = await bj.post(
        f"{BASE}/tag-rules",
        json={
            "name": "重点关注",
            "branch_id": hd,
            "criteria": {"tags": ["VIP"]},
            "description": "VIP customers",
        },
    )
    assert created.status_code == 201, created.text
    rule = created.json()
    assert rule["criteria"] == {"tags": ["VIP"]}
    assert rule["evaluated_at"] is None
    rule_tag = rule["tag_id"]
    tags = {t["name"]: t for t in (await bj.get(f"{BASE}/tags")).json()}
    assert tags["重点关注"]["kind"] == "rule"
    assert tags["VIP"]["kind"] == "manual"

    await evaluate(world, rule["id"], "BJ")
    assert await links(world, rule_tag) == {first: "rule", second: "rule"}
    after = (await bj.get(f"{BASE}/tag-rules/{rule['id']}")).json()
    assert (after["matched"], after["added"], after["removed"]) == (2, 2, 0)
    assert after["evaluated_at"] is not None

    # The data changes: the second customer loses VIP, the third gains it.
    assert (await bj.delete(f"{BASE}/customers/{second}/tags/{vip}")).status_code == 204
    assert (await tag(bj, third, vip)).status_code == 200
    await evaluate(world, None, "BJ")
    assert await links(world, rule_tag) == {first: "rule", third: "rule"}
    after = (await bj.get(f"{BASE}/tag-rules/{rule['id']}")).json()
    assert (after["matched"], after["added"], after["removed"]) == (2, 1, 1)
    # Manual links untouched throughout.
    assert await links(world, vip) == {first: "manual", third: "manual"}
    assert await links(world, other) == {third: "manual"}

    # Again: nothing to do.
    await evaluate(world, rule["id"], "BJ")
    after = (await bj.get(f"{BASE}/tag-rules/{rule['id']}")).json()
    assert (after["matched"], after["added"], after["removed"]) == (2, 0, 0)

    # One audit row per evaluation, with counts.
    evaluations = await kit.audit(rule["id"], entity=tagging.ENTITY_EVALUATION)
    assert [json.loads(r["after"])["added"] for r in evaluations] == [2, 1, 0]
    # The customer's tags show the rule tag; staff can neither set nor remove it.
    detail = (await bj.get(f"{BASE}/customers/{first}")).json()
    assert {(t["name"], t["kind"]) for t in detail["tags"]} == {
        ("VIP", "manual"),
        ("重点关注", "rule"),
    }
    refused = await tag(bj, second, rule_tag)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "/body/tag_id"
    untag = await bj.delete(f"{BASE}/customers/{first}/tags/{rule_tag}")
    assert untag.status_code == 409
    create_with = await bj.post(
        f"{BASE}/customers",
        json=kit.person(branch_id=hd, id_number=kit.resident_id(order="332"), tags=["重点关注"]),
    )
    assert create_with.status_code == 422

    # Deleting the rule removes its tag and links.
    assert (await bj.delete(f"{BASE}/tag-rules/{rule['id']}")).status_code == 204
    assert await links(world, rule_tag) == {}
    assert (await bj.get(f"{BASE}/tag-rules/{rule['id']}")).status_code == 404
    assert await links(world, vip) == {first: "manual", third: "manual"}


async def test_rule_validation(world: World, bj: httpx.AsyncClient) -> None:
    hd = world.branch("BJ-HD")
    await manual_tag(bj, hd, "VIP")

    async def errors(criteria: Any, name: str = "规则") -> list[str]:
        response = await bj.post(
            f"{BASE}/tag-rules", json={"name": name, "branch_id": hd, "criteria": criteria}
        )
        assert response.status_code == 422, response.text
        return [e["field"] for e in response.json()["errors"]]

    assert await errors({}) == ["/body/criteria"]
    assert await errors({"colour": "red"}) == ["/body/criteria/colour"]
    assert await errors({"phone": "13812345678"}) == ["/body/criteria/phone"]
    assert await errors({"branch_id": hd}) == ["/body/criteria/branch_id"]
    assert await errors({"value_tiers": ["gold"]}) == ["/body/criteria/value_tiers/0"]
    assert await errors({"aum_min": "100", "aum_max": "10"}) == ["/body/criteria/aum_max"]
    assert await errors({"tags": ["没有"]}) == ["/body/criteria/tags"]
    assert await errors({"product_codes": ["NOPE"]}) == ["/body/criteria/product_codes"]
    assert await errors({"tags": ["规则"]}) == ["/body/criteria/tags"]
    assert await errors({"age_min": 70, "age_max": 60}) == ["/body/criteria/age_max"]
    assert await errors({"age_min": -1}) == ["/body/criteria/age_min"]
    assert await errors({"age_min": 60, "birth_to": "1960-01-01"}) == ["/body/criteria/age_min"]
    outside = await bj.post(
        f"{BASE}/tag-rules",
        json={"name": "x", "branch_id": world.branch("SH"), "criteria": {"kind": "individual"}},
    )
    assert outside.status_code == 422
    ok = await bj.post(
        f"{BASE}/tag-rules",
        json={"name": "VIP", "branch_id": hd, "criteria": {"kind": "individual"}},
    )
    assert ok.status_code == 409  # the branch already has a tag of this name
    rm = await world.client("demo.bj.rm")
    assert (
        await rm.post(
            f"{BASE}/tag-rules",
            json={"name": "y", "branch_id": hd, "criteria": {"kind": "individual"}},
        )
    ).status_code == 403

    created = await bj.post(
        f"{BASE}/tag-rules",
        json={"name": "个人", "branch_id": hd, "criteria": {"kind": "individual"}},
    )
    rule_id = created.json()["id"]
    bad = await bj.patch(f"{BASE}/tag-rules/{rule_id}", json={"criteria": {"kind": "robot"}})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "/body/criteria/kind"
    good = await bj.patch(
        f"{BASE}/tag-rules/{rule_id}", json={"criteria": {"kind": "corporate"}, "active": False}
    )
    assert good.status_code == 200, good.text
    assert good.json()["criteria"] == {"kind": "corporate"}
    assert good.json()["active"] is False


async def test_isolation_a_branch_rule_tags_only_its_branch(
    world: World, kit: Any, bj: httpx.AsyncClient
) -> None:
    hd, cy = world.branch("BJ-HD"), world.branch("BJ-CY")
    sh = await world.client("demo.sh.manager")
    in_hd = (await kit.create(bj, branch_id=hd, id_number=kit.resident_id(order="302")))["id"]
    in_cy = (await kit.create(bj, branch_id=cy, id_number=kit.resident_id(order="312")))["id"]
    in_sh = (
        await kit.create(
            sh, branch_id=world.branch("SH-PD"), id_number=kit.resident_id(order="322")
        )
    )["id"]
    rule = (
        await bj.post(
            f"{BASE}/tag-rules",
            json={"name": "个人客户", "branch_id": hd, "criteria": {"kind": "individual"}},
        )
    ).json()
    # Run by head office over every branch: only the rule's own branch is tagged.
    await evaluate(world, None, "HQ")
    assert await links(world, rule["tag_id"]) == {in_hd: "rule"}
    assert in_cy not in await links(world, rule["tag_id"])
    assert in_sh not in await links(world, rule["tag_id"])
    # Shanghai neither sees the rule nor can evaluate it.
    assert (await sh.get(f"{BASE}/tag-rules/{rule['id']}")).status_code == 404
    assert (await sh.post(f"{BASE}/tag-rules/{rule['id']}/evaluate")).status_code == 404
    assert (await sh.get(f"{BASE}/tag-rules")).json() == []


async def test_evaluate_now_through_the_worker_is_idempotent(
    world: World, kit: Any, bj: httpx.AsyncClient, job_worker: StartJobWorker
) -> None:
    hd = world.branch("BJ-HD")
    young = (await kit.create(bj, branch_id=hd, id_number=kit.resident_id(born="20000101")))["id"]
    old = (
        await kit.create(bj, branch_id=hd, id_number=kit.resident_id(born="19500101", order="312"))
    )["id"]
    rule = (
        await bj.post(
            f"{BASE}/tag-rules",
            json={"name": "银发客户", "branch_id": hd, "criteria": {"age_min": 60}},
        )
    ).json()
    assert rule["criteria"] == {"age_min": 60}
    worker = await job_worker()
    queued = await bj.post(f"{BASE}/tag-rules/{rule['id']}/evaluate")
    assert queued.status_code == 202, queued.text
    await worker.drain(30)
    assert await links(world, rule["tag_id"]) == {old: "rule"}
    assert young not in await links(world, rule["tag_id"])

    # The same message delivered again is skipped by the ledger; a second request finds
    # nothing to change.
    outbox = await owner_fetch(
        world,
        "SELECT message FROM bankcrm_outbox WHERE actor_name = $1",
        "customer_archive.evaluate_tag_rules",
    )
    message_id = json.loads(outbox[0]["message"])["message_id"]
    runtime = worker.runtime
    with world.bind(await world.scope_of("BJ")):
        again = await runtime.execute(
            runtime.catalogue.actors["customer_archive.evaluate_tag_rules"],
            message_id,
            {},
            (rule["id"],),
            {},
        )
    assert again is False
    assert (await bj.post(f"{BASE}/tag-rules/{rule['id']}/evaluate")).status_code == 202
    await worker.drain(30)
    assert await links(world, rule["tag_id"]) == {old: "rule"}
    evaluations = await kit.audit(rule["id"], entity=tagging.ENTITY_EVALUATION)
    assert [json.loads(r["after"])["added"] for r in evaluations] == [1, 0]


def test_ages_become_birth_dates_on_the_day() -> None:
    criteria = tagging.RuleCriteria(tagging.search.CustomerFilter(kind="individual"), 60, 64)
    on = criteria.on(date(2026, 11, 25))
    assert on.birth_to == date(1966, 11, 25)
    assert on.birth_from == date(1961, 11, 26)
    leap = tagging.RuleCriteria(tagging.search.CustomerFilter(), 1, None).on(date(2028, 2, 29))
    assert leap.birth_to == date(2027, 2, 28)
