"""The dashboard in a real browser (Debian's Chromium): charts drawn by the bundled
ECharts under the content-security policy, the drill-down, and no other branch's
figures on a sub-branch user's page."""

from __future__ import annotations

from typing import Any

from bankcrm.plugin_api import DemoContext
from bankcrm_reporting.demo import seed_demo
from bankcrm_sdk.world import World

CANVAS_INK = """(selector) => {
  const canvas = document.querySelector(selector + ' canvas');
  if (!canvas) return 0;
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let ink = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] > 0 && (data[i] < 230 || data[i + 1] < 230 || data[i + 2] < 230)) ink++;
  }
  return ink;
}"""


async def ready(page: Any) -> None:
    await page.wait_for_selector("#reporting-dashboard[data-state=ready]", timeout=30000)
    await page.wait_for_timeout(800)  # ECharts animates the first draw


async def test_the_dashboard_draws_charts_and_drills_down(
    world: World, staff_browser: Any, kit: Any
) -> None:
    await kit.some_customers()
    with world.bind(world.system_scope()):
        await seed_demo(DemoContext(branches=dict(world.branches), users=dict(world.users)))
    page = await staff_browser.page_as("demo.auditor", path="/app/reporting/")
    await page.goto(f"{staff_browser.base}/app/reporting/?metric=customer_archive.customers")
    await ready(page)
    await staff_browser.screenshot(page, "reporting-dashboard-head-office")
    assert await page.evaluate(CANVAS_INK, '[data-chart="breakdown"]') > 500
    assert await page.evaluate(CANVAS_INK, '[data-chart="trend"]') > 500
    rows = await page.locator('[data-role="breakdown-table"] tr').all_inner_texts()
    assert [row.split("\t")[0] for row in rows] == ["北京分行", "上海分行"]
    assert await page.locator(".kpi").count() >= 2

    # Drill down: the branch filter goes to Beijing, the table lists its sub-branches.
    await page.select_option('[data-role="branch"]', str(world.branch("BJ")))
    await page.locator('[data-role="trail"]', has_text="北京分行").wait_for()
    await ready(page)
    rows = await page.locator('[data-role="breakdown-table"] tr').all_inner_texts()
    assert sorted(row.split("\t")[0] for row in rows) == ["北京朝阳支行", "北京海淀支行"]
    await staff_browser.screenshot(page, "reporting-dashboard-beijing")
    assert not [m for m in staff_browser.console if "Content Security Policy" in m]


async def test_a_sub_branch_user_sees_no_other_branch(
    world: World, staff_browser: Any, kit: Any
) -> None:
    await kit.some_customers()
    with world.bind(world.system_scope()):
        await seed_demo(DemoContext(branches=dict(world.branches), users=dict(world.users)))
    page = await staff_browser.page_as("demo.bj.rm", path="/app/reporting/")
    await page.goto(f"{staff_browser.base}/app/reporting/?lang=en")
    await ready(page)
    await staff_browser.screenshot(page, "reporting-dashboard-sub-branch")
    text = await page.locator("main").inner_text()
    assert "Haidian" in text
    for other in ("Chaoyang", "Shanghai", "Head Office", "Beijing Branch"):
        assert other not in text, other
    customers = page.locator('.kpi[data-metric="customer_archive.customers"] .value')
    assert (await customers.inner_text()).startswith("7")  # BJ-HD's own, not BJ's 11
    options = await page.locator('[data-role="branch"] option').all_inner_texts()
    assert [o.strip() for o in options] == ["Beijing Haidian Sub-branch"]
    assert await page.evaluate(CANVAS_INK, '[data-chart="breakdown"]') > 500
