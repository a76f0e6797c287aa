"""The staff pages in a real browser (Debian's headless Chromium): log in through the
login page as a branch manager and as a teller, see the workbench, find a customer, open
the 360° page and reveal a field with a reason. Screenshots are kept in var/screenshots/."""

from __future__ import annotations

import re
from typing import Any

import httpx

from bankcrm_sdk.browser import StaffBrowser
from bankcrm_sdk.world import World


async def test_a_branch_manager_finds_a_customer_and_reveals_a_field(
    world: World, staff_browser: StaffBrowser, kit: Any, catalogue: dict[str, int]
) -> None:
    bj = await world.client("demo.bj.manager")
    customer_id = (await kit.create(bj, branch_id=world.branch("BJ-HD")))["id"]
    opened = await bj.post(
        f"/api/v1/customer_archive/customers/{customer_id}/holdings",
        json={"product_code": "DEP-1Y", "account_no": "6222000000000000001", "balance": "88000"},
    )
    assert opened.status_code == 201, opened.text

    page = await staff_browser.page_as("demo.bj.manager")
    assert await page.title() == "工作台 · bankcrm"
    nav = await page.inner_text("header")
    for expected in ("工作台", "管理后台", "demo.bj.manager"):
        assert expected in nav
    body = await page.inner_text("main")
    for expected in ("通知", "待办事项", "常用功能", "客户查询"):
        assert expected in body
    await staff_browser.screenshot(page, "workbench-branch-manager")

    await page.click("text=客户查询")
    await page.fill("input[name=q]", "王秀英")
    await page.click("button[type=submit]")
    await page.click("text=王秀英")
    await page.wait_for_selector("#customer_archive\\.timeline")
    text = await page.inner_text("main")
    for expected in ("基本信息", "产品持有", "客户动态", "居民身份证", "个人客户", "88,000.00"):
        assert expected in text, expected
    masked = await page.inner_text("[data-masked=id_number]")
    assert "*" in masked
    await staff_browser.screenshot(page, "customer-360-branch-manager")

    await page.check("input[name=fields][value=id_number]")
    await page.fill("form[data-reveal] input[name=reason]", "客户临柜核实身份")
    await page.click("form[data-reveal] button[type=submit]")
    revealed = page.locator("[data-masked=id_number]:not(.masked)")
    await revealed.wait_for()
    assert "*" not in await revealed.inner_text()
    await staff_browser.screenshot(page, "customer-360-revealed")
    assert not [line for line in staff_browser.console if "Content Security Policy" in line]


async def test_a_teller_sees_the_workbench_but_not_the_reveal_form(
    world: World, staff_browser: StaffBrowser, kit: Any
) -> None:
    manager = await world.client("demo.sh.manager")
    customer_id = (await kit.create(manager, branch_id=world.branch("SH-XH")))["id"]
    page = await staff_browser.page_as("demo.teller")
    assert "工作台" in await page.inner_text("main")
    await staff_browser.screenshot(page, "workbench-teller")
    await page.goto(f"{staff_browser.base}/app/customer_archive/customers/{customer_id}")
    assert await page.locator("form[data-reveal]").count() == 0
    assert "基本信息" in await page.inner_text("main")
    await staff_browser.screenshot(page, "customer-360-teller")
    await page.goto(f"{staff_browser.base}/app/customer_archive/customers/999999")
    assert "未找到" in await page.inner_text("main")


async def test_login_with_a_wrong_password_says_so_on_the_page(
    world: World, staff_browser: StaffBrowser
) -> None:
    assert isinstance(world.anonymous_client(), httpx.AsyncClient)
    browser = staff_browser.browser
    context = await browser.new_context(locale="zh-CN")
    page = await context.new_page()
    await page.goto(f"{staff_browser.base}/app/")
    assert "/app/login" in page.url
    await page.fill("input[name=username]", "demo.teller")
    await page.fill("input[name=password]", "not the password")
    await page.click("button[type=submit]")
    error = page.locator("#login .error")
    await error.wait_for(state="visible")
    assert await error.inner_text()
    await context.close()


async def test_a_branch_manager_adds_a_customer_through_the_form(
    world: World, staff_browser: StaffBrowser
) -> None:
    page = await staff_browser.page_as(
        "demo.bj.manager", path="/app/customer_archive/customers/new"
    )
    await page.fill("input[name=name]", "赵敏")
    await page.select_option("select[name=branch_id]", str(world.branch("BJ-HD")))
    await page.fill("input[name=id_number]", "11010819850614302X")  # wrong check digit
    await page.click("form[data-json] button[type=submit]")
    problem = page.locator("input[name=id_number] + .field-error")
    await problem.wait_for()
    assert await problem.inner_text() == "不是有效的居民身份证号码（GB 11643）"
    await staff_browser.screenshot(page, "customer-new-refused")
    await page.fill("input[name=id_number]", "110108198506143024")
    await page.fill("input[name=phone]", "13800001234")
    await page.click("form[data-json] button[type=submit]")
    await page.wait_for_url(re.compile(r"/app/customer_archive/customers/\d+$"))
    assert "赵敏" in await page.inner_text("h1")
    await staff_browser.screenshot(page, "customer-new-created")


async def test_the_admin_speaks_chinese_to_a_branch_manager(
    world: World, staff_browser: StaffBrowser, kit: Any
) -> None:
    manager = await world.client("demo.bj.manager")
    customer_id = (await kit.create(manager, branch_id=world.branch("BJ-HD")))["id"]
    page = await staff_browser.page_as("demo.bj.manager")
    await page.goto(f"{staff_browser.base}/admin/#/customer_archive_customer")
    await page.get_by_text("王秀英").first.wait_for()
    text = await page.inner_text("body")
    for expected in ("客户档案", "个人客户", "年"):
        assert expected in text, expected
    assert "Individual" not in text
    assert "添加行" not in text
    assert "NULL" not in await page.inner_text("table")  # no manager: a dash
    await staff_browser.screenshot(page, "admin-customers-branch-manager")

    # Every customer row links to the customer's 360° page.
    to_360 = page.locator(
        f"a.bankcrm-row-page[href='/app/customer_archive/customers/{customer_id}']"
    )
    await to_360.wait_for()
    assert await to_360.inner_text() == "360°视图"
    await staff_browser.screenshot(page, "admin-customers-360-link")
    await to_360.click()
    await page.wait_for_url(f"**/app/customer_archive/customers/{customer_id}")
    assert "王秀英" in await page.inner_text("h1")

    # A workflow form: reveal one field with a reason, in Chinese, audited.
    await page.goto(f"{staff_browser.base}/admin/#/forms/reveal-customer")
    await page.get_by_text("查看客户敏感信息").first.wait_for()
    await page.locator("input[name=customer_id]").fill(str(customer_id))
    await page.locator("input[name=reason]").fill("客户来电核实身份")
    await page.locator("select[name=phone]").select_option("true")
    await staff_browser.screenshot(page, "admin-form-reveal-filled")
    await page.get_by_role("button", name="提交").click()
    await page.get_by_text("已记入审计").first.wait_for()
    await staff_browser.screenshot(page, "admin-form-reveal-done")
