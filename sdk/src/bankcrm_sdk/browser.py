"""Staff pages in a real browser: Debian's headless Chromium driven through Playwright.

The ``staff_browser`` fixture serves the test world's app on a loopback port and hands
out pages logged in through the login page itself, as a clerk would. Each
:meth:`StaffBrowser.screenshot` is kept under ``var/screenshots/`` (or
``BANKCRM_SCREENSHOTS``) so a person can look at what the test saw. Without Chromium the
tests skip on a developer machine and fail under CI, where ``.ci/ensure-browser`` installs
it. No browser is downloaded: Playwright drives the system's ``chromium``.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bankcrm_sdk.live_server import live_server
from bankcrm_sdk.world import PASSWORD, World


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def screenshot_dir() -> Path:
    configured = os.environ.get("BANKCRM_SCREENSHOTS")
    return Path(configured) if configured else Path.cwd() / "var" / "screenshots"


@dataclass
class StaffBrowser:
    base: str
    browser: Any
    console: list[str] = field(default_factory=list)
    _contexts: list[Any] = field(default_factory=list)

    async def page_as(self, username: str, password: str = PASSWORD, path: str = "/app/") -> Any:
        """A page logged in as ``username`` through ``/app/login``, opened at ``path``."""
        context = await self.browser.new_context(
            locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1280, "height": 900}
        )
        self._contexts.append(context)
        page = await context.new_page()
        page.on("console", lambda message: self.console.append(f"{message.type}: {message.text}"))
        await page.goto(f"{self.base}{path}")
        await page.fill("input[name=username]", username)
        await page.fill("input[name=password]", password)
        await page.click("button[type=submit]")
        await page.wait_for_url(re.compile(re.escape(self.base + path.rstrip("/")) + "/?(\\?.*)?$"))
        return page

    async def screenshot(self, page: Any, name: str) -> Path:
        target = screenshot_dir() / f"{name}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(target), full_page=True)
        return target

    async def close(self) -> None:
        for context in self._contexts:
            await context.close()


@pytest.fixture
async def staff_browser(world: World) -> AsyncIterator[StaffBrowser]:
    executable = chromium()
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: run .ci/ensure-browser")
        pytest.skip("chromium is not installed")
    from playwright.async_api import async_playwright

    async with live_server(world.app) as base, async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-gpu"]
        )
        staff = StaffBrowser(base, browser)
        try:
            yield staff
        finally:
            await staff.close()
            await browser.close()


__all__ = ["StaffBrowser", "chromium", "screenshot_dir", "staff_browser"]
