"""The plugin's admin screens in a real browser (Debian's Chromium), in Chinese, over the
demo data: SLA policies, the escalation log, the FAQ and the triage queue."""

from __future__ import annotations

from typing import Any

from bankcrm.plugin_api import DemoContext
from bankcrm_sdk.world import World
from bankcrm_service.demo import seed_demo

SCREENS = (
    ("service_ticket", "服务工单", "信用卡年费被重复扣收", ("处理中", "电话"), "Complaint"),
    ("service_sla_policy", "服务时效策略", "投诉（紧急）", ("私行",), "Urgent"),
    ("service_sla_step", "超时预警与上报记录", "breached", (), "Complaint"),
    ("service_faq_article", "常见问题", "银行卡丢失了怎么办？", ("已发布",), "Published"),
    ("service_triage", "人工分拣队列", "置信度", ("自动",), "Auto"),
)
"""(table, title, a row's text to wait for, value labels shown, a raw code not shown)"""


async def test_the_admin_screens_read_in_chinese(world: World, staff_browser: Any) -> None:
    with world.bind(world.system_scope()):
        await seed_demo(DemoContext(branches=dict(world.branches), users=dict(world.users)))
    page = await staff_browser.page_as("demo.bj.manager")
    for table, title, sample, labels, code in SCREENS:
        await page.goto(f"{staff_browser.base}/admin/#/{table}")
        await page.get_by_text(sample).first.wait_for()
        await staff_browser.screenshot(page, f"service-admin-{table}")
        text = await page.inner_text("body")
        assert title in text, table
        for label in labels:
            assert label in text, (table, label)
        assert code not in await page.inner_text("table"), (table, code)
