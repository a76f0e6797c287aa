"""Problems in the staff member's language: Chinese when the browser asks, English else."""

from __future__ import annotations

from bankcrm import messages
from bankcrm_sdk.world import World


def test_messages_translate_by_pattern_and_keep_what_they_do_not_know() -> None:
    assert messages.translate("body.name: required", "zh") == "body.name：必填"
    assert messages.translate("Expected `str` of length <= 200", "zh") == "最多 200 个字符"
    assert messages.translate("customer 7 does not exist or is not visible to you", "zh") == (
        "customer 7 不存在，或您无权查看"
    )
    assert messages.translate("a message nobody translated", "zh") == "a message nobody translated"
    assert messages.translate("body.name: required", "en") == "body.name: required"


def test_the_language_comes_from_the_choice_then_the_browser() -> None:
    assert messages.language_of({"accept-language": "zh-CN,zh;q=0.9"}, {}) == "zh"
    assert messages.language_of({"accept-language": "en-US,zh;q=0.5"}, {}) == "en"
    assert messages.language_of({}, {}) == "en"
    assert messages.language_of({"accept-language": "zh-CN"}, {"bankcrm_lang": "en"}) == "en"


async def test_a_chinese_browser_reads_problems_in_chinese(world: World) -> None:
    client = await world.client("demo.bj.manager")
    body = {"branch_id": world.branch("BJ-HD"), "employee_no": "X1", "name": "甲", "capacity": -1}
    chinese = await client.post(
        "/api/v1/employees", json=body, headers={"Accept-Language": "zh-CN,zh;q=0.9"}
    )
    assert chinese.status_code in (400, 422), chinese.text
    assert chinese.json()["errors"][0]["message"] == "不能小于 0"
    english = await client.post("/api/v1/employees", json=body)
    assert english.json()["errors"][0]["message"] == "Expected `int` >= 0"
    missing = await client.get("/api/v1/employees/999999", headers={"Accept-Language": "zh"})
    assert missing.status_code == 404
    assert "不存在" in missing.json()["detail"]
