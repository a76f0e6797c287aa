"""The saved reports' admin screens in a real browser (Debian's Chromium): the menu and
the columns in Chinese, the user's own report listed."""

from __future__ import annotations

from typing import Any

from bankcrm_sdk.world import World


async def test_the_admin_shows_saved_reports_and_the_inbox_in_chinese(
    world: World, staff_browser: Any, kit: Any
) -> None:
    await kit.customers("BJ-HD", 3, "wealth", 100)
    rm = await world.client("demo.bj.rm")
    report = await kit.report(rm, schedule="0 8 * * 1")
    await rm.post(f"{kit.base}/reports/{report['id']}/run")
    page = await staff_browser.page_as("demo.bj.rm")
    await page.goto(f"{staff_browser.base}/admin/#/reporting_report")
    await page.get_by_text("客户分层").first.wait_for(timeout=30000)
    text = await page.inner_text("body")
    assert "已保存报表" in text
    assert "报表收件箱" in text
    assert "报表名称" in text
    await staff_browser.screenshot(page, "reporting-admin-saved-reports")
    await page.goto(f"{staff_browser.base}/admin/#/reporting_report_run")
    await page.get_by_text("触发方式").first.wait_for(timeout=30000)
    await page.get_by_text("客户分层").first.wait_for(timeout=30000)
    assert "manual" in await page.inner_text("body")
    await staff_browser.screenshot(page, "reporting-admin-inbox")
