"""Targeting: the criteria select the customers of the campaign's branch, a seeded
control group is held out reproducibly, and the contact rules exclude alike in both
groups."""

from __future__ import annotations

from typing import Any

from bankcrm_marketing import targeting
from bankcrm_sdk.world import World


async def test_the_control_group_is_seeded_and_reproducible(world: World, kit: Any) -> None:
    manager = await world.client("demo.bj.manager")
    ids = set(await kit.customers("BJ-HD", 400))
    await kit.customers("SH-PD", 50)  # another branch's customers are never targeted
    created = await kit.create(manager, branch_id=world.branch("BJ"), seed=42, control_share=0.25)
    url = f"{kit.base}/{created['id']}"
    first = await manager.post(f"{url}/target")
    assert first.status_code == 200, first.text
    counts = first.json()
    assert counts["members"] == 400
    assert counts["target"] + counts["control"] == 400
    assert 60 <= counts["control"] <= 140  # a quarter, give or take
    assert counts["contactable"] == counts["target"]
    members = await kit.owner_fetch(
        'SELECT customer, "group" FROM marketing_member WHERE campaign = $1', created["id"]
    )
    assert {r["customer"] for r in members} == ids
    split = {r["customer"]: r["group"] for r in members}

    again = (await manager.post(f"{url}/target")).json()  # re-targeting a draft: same split
    assert again == counts
    members = await kit.owner_fetch(
        'SELECT customer, "group" FROM marketing_member WHERE campaign = $1', created["id"]
    )
    assert {r["customer"]: r["group"] for r in members} == split
    # Another seed draws another control group.
    await manager.patch(url, json={"seed": 43})
    await manager.post(f"{url}/target")
    other = await kit.owner_fetch(
        'SELECT customer, "group" FROM marketing_member WHERE campaign = $1', created["id"]
    )
    assert {r["customer"]: r["group"] for r in other} != split
    assert (await manager.get(f"{url}/targeting")).json()["members"] == 400
    trail = await kit.audit(created["id"])
    assert sum('"targeted":' in (row["after"] or "") for row in trail) == 3


async def test_the_criteria_and_the_contact_rules(world: World, kit: Any) -> None:
    manager = await world.client("demo.bj.manager")
    reachable = await kit.customers("BJ-HD", 30)
    unreachable = await kit.customers("BJ-HD", 5, phone=False)
    flagged = reachable[:4]
    for customer in flagged[:2]:
        response = await manager.post(
            "/api/v1/marketing/do-not-contact", json={"customer_id": customer, "reason": "投诉"}
        )
        assert response.status_code == 201, response.text
    for customer in flagged[2:]:  # a refusal of e-mail only does not stop an SMS
        await manager.post(
            "/api/v1/marketing/do-not-contact", json={"customer_id": customer, "channel": "email"}
        )
    created = await kit.create(
        manager,
        channel="sms",
        control_share=0.0,
        criteria={"branch_id": world.branch("BJ-HD")},
        branch_id=world.branch("BJ-HD"),
    )
    counts = (await manager.post(f"{kit.base}/{created['id']}/target")).json()
    assert counts["members"] == 35
    assert counts["control"] == 0
    assert counts["excluded"] == {"do_not_contact": 2, "no_address": 5}
    assert counts["contactable"] == 28
    excluded = await kit.owner_fetch(
        "SELECT customer, excluded FROM marketing_member WHERE excluded IS NOT NULL"
    )
    assert {r["customer"] for r in excluded} == set(flagged[:2]) | set(unreachable)


async def test_the_frequency_cap_counts_other_campaigns(world: World, kit: Any) -> None:
    manager = await world.client("demo.bj.manager")
    customers = await kit.customers("BJ-HD", 10)
    first = await kit.create(manager, control_share=0.0, branch_id=world.branch("BJ-HD"))
    await manager.post(f"{kit.base}/{first['id']}/target")
    assert (await manager.post(f"{kit.base}/{first['id']}/launch")).status_code == 200
    capped = await kit.create(
        manager, control_share=0.0, frequency_cap=1, branch_id=world.branch("BJ-HD")
    )
    counts = (await manager.post(f"{kit.base}/{capped['id']}/target")).json()
    assert counts["excluded"] == {"frequency_cap": len(customers)}
    loose = await kit.create(
        manager, control_share=0.0, frequency_cap=2, branch_id=world.branch("BJ-HD")
    )
    assert (await manager.post(f"{kit.base}/{loose['id']}/target")).json()["excluded"] == {}


async def test_a_launched_campaign_keeps_its_members(world: World, kit: Any) -> None:
    manager = await world.client("demo.bj.manager")
    await kit.customers("BJ-HD", 5)
    created = await kit.create(manager, branch_id=world.branch("BJ-HD"))
    url = f"{kit.base}/{created['id']}"
    assert kit.refused(await manager.post(f"{url}/launch"), 409)  # not targeted yet
    await manager.post(f"{url}/target")
    assert (await manager.post(f"{url}/launch")).status_code == 200
    assert kit.refused(await manager.post(f"{url}/target"), 409)
    changed = await manager.patch(url, json={"control_share": 0.5})
    assert kit.refused(changed, 409)
    assert kit.refused(await manager.post(f"{url}/launch"), 409)
    assert kit.refused(await manager.delete(url), 409)
    rm = await world.client("demo.bj.rm")  # relationship managers prepare, managers launch
    draft = await kit.create(rm)
    await rm.post(f"{kit.base}/{draft['id']}/target")
    assert kit.refused(await rm.post(f"{kit.base}/{draft['id']}/launch"), 403)


async def test_hook_marketing_scores_keeps_the_high_scores(
    world: World, kit: Any, make_plugin: Any, kernel_with: Any
) -> None:
    ids = await kit.customers("BJ-HD", 6)
    scores = {customer: n / 10 for n, customer in enumerate(ids)}
    asked: list[str] = []

    def score(model: str, customer_ids: list[int]) -> dict[int, float] | None:
        asked.append(model)
        return scores if model == "deposit_propensity" else None

    registry = kernel_with([make_plugin("scorer", requires=["marketing"],
                                        hooks={"marketing_scores": score})]).registry  # fmt: skip
    manager = await world.client("demo.bj.manager")
    created = await kit.create(
        manager,
        control_share=0.0,
        score_model="deposit_propensity",
        score_min=0.3,
        branch_id=world.branch("BJ-HD"),
    )
    with world.bind(await world.scope_of("BJ")):
        counts = await targeting.target(created["id"], registry)
    assert counts.members == 3  # 0.3, 0.4 and 0.5
    assert asked == ["deposit_propensity"]
    unknown = await kit.create(
        manager, score_model="churn", score_min=0.5, branch_id=world.branch("BJ-HD")
    )
    # Without a plugin that knows the model (mining not installed): refused, nothing kept.
    refusal = await manager.post(f"{kit.base}/{unknown['id']}/target")
    assert kit.refused(refusal, 409)
    assert refusal.json()["type"].endswith("/no_scores")
    assert (
        await kit.owner_fetch("SELECT id FROM marketing_member WHERE campaign = $1", unknown["id"])
        == []
    )
