"""The admin screens of competitors and surveys in a real browser (Debian's Chromium):
Chinese titles and enumeration labels, the demo rows of the manager's branch only."""

from __future__ import annotations

from typing import Any

from bankcrm.plugin_api import DemoContext
from bankcrm_marketing.demo import DEMO_BRANCHES, seed_demo
from bankcrm_sdk.world import World

SCREENS = (
    ("marketing_competitor", ("竞争对手", "招商银行", "互联网金融平台")),
    ("marketing_rate", ("产品利率（含历史）", "年利率（%）", "对方官网挂牌利率")),
    ("marketing_competitor_deal", ("竞争输赢记录", "丢单", "赢单", "存款")),
    ("marketing_survey", ("问卷调查", "理财客户需求调查", "满意度调查", "进行中")),
    ("marketing_campaign", ("营销活动", "理财到期客户回访", "进行中", "筹备中")),
    ("marketing_survey_invitation", ("问卷邀请", "已发送")),
    ("marketing_survey_question", ("问卷题目（各版本）", "单选", "多选", "量表评分")),
    ("marketing_survey_response", ("问卷答卷", "员工代录", "个人邀请")),
)


async def test_competitor_and_survey_screens_speak_chinese(
    world: World, staff_browser: Any, kit: Any
) -> None:
    for _rm, _manager, code in DEMO_BRANCHES:
        await kit.customers(code, 8)
    with world.bind(world.system_scope()):
        await seed_demo(DemoContext(branches=dict(world.branches), users=dict(world.users)))
    page = await staff_browser.page_as("demo.bj.manager")
    for table, expected in SCREENS:
        await page.goto(f"{staff_browser.base}/admin/#/{table}")
        await page.get_by_text(expected[1]).first.wait_for()
        text = await page.inner_text("body")
        for word in expected:
            assert word in text, (table, word)
        assert "上海" not in text  # the Shanghai demo rows stay out of sight
        await staff_browser.screenshot(page, f"admin-{table.replace('_', '-')}")
