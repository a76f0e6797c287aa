"""The plugin's admin screens in a real browser (Debian's Chromium), in Chinese, over the
demo data: SLA policies, the escalation log, the FAQ and the triage queue."""

from __future__ import annotations

from typing import Any

from bankcrm.plugin_api import DemoContext
from bankcrm_sdk.world import World
from bankcrm_service.demo import seed_demo

SCREENS = (
    ("service_sla_policy", "服务时效策略", "投诉（紧急）"),
    ("service_sla_step", "超时预警与上报记录", "breached"),
    ("service_faq_article", "常见问题", "银行卡丢失了怎么办？"),
    ("service_triage", "人工分拣队列", "置信度"),
)


async def test_the_admin_screens_read_in_chinese(world: World, staff_browser: Any) -> None:
    with world.bind(world.system_scope()):
        await seed_demo(DemoContext(branches=dict(world.branches), users=dict(world.users)))
    page = await staff_browser.page_as("demo.bj.manager")
    for table, title, sample in SCREENS:
        await page.goto(f"{staff_browser.base}/admin/#/{table}")
        await page.get_by_text(sample).first.wait_for()
        await staff_browser.screenshot(page, f"service-admin-{table}")
        text = await page.inner_text("body")
        assert title in text, table
