"""The urgency route: the suggested priority of a ticket with its reasons, in scope only."""

from __future__ import annotations

from typing import Any

from bankcrm_sdk.world import World


async def test_a_threatening_complaint_is_suggested_urgent_with_reasons(
    world: World, kit: Any
) -> None:
    rm = await world.client("demo.bj.rm")
    ticket = await kit.create(
        rm, title="信用卡被盗刷", kind="complaint", channel="phone",
        body="请马上冻结，否则我就向银保监投诉并找媒体曝光。",
    )  # fmt: skip
    response = await rm.get(f"{kit.base}/{ticket['id']}/urgency")
    assert response.status_code == 200, response.text
    out = response.json()
    assert out["suggested_priority"] == "urgent"
    assert out["priority"] == ticket["priority"]
    codes = [r["code"] for r in out["reasons"]]
    assert codes[:2] == ["regulator_or_press", "urgent_words"]
    assert all(r["zh"] and r["en"] for r in out["reasons"])


async def test_a_plain_inquiry_has_no_reasons_and_another_branch_sees_nothing(
    world: World, kit: Any
) -> None:
    rm = await world.client("demo.bj.rm")
    ticket = await kit.create(rm, title="咨询网点营业时间", body="请问周末几点开门？")
    out = (await rm.get(f"{kit.base}/{ticket['id']}/urgency")).json()
    assert (out["suggested_priority"], out["reasons"]) == ("normal", [])
    other = await world.client("demo.sh.manager")
    assert (await other.get(f"{kit.base}/{ticket['id']}/urgency")).status_code == 404
