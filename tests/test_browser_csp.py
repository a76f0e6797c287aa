"""The API viewer and the admin still work under the Content-Security-Policy, in a real
browser (Debian's headless Chromium; skipped where it is not installed)."""

from __future__ import annotations

import asyncio
import shutil
import tempfile

import pytest
from litestar import Litestar, MediaType, get

from bankcrm.web.bodies import security_headers
from bankcrm_sdk.live_server import live_server
from bankcrm_sdk.world import World

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed")


async def rendered(url: str) -> tuple[str, str]:
    """The DOM after the page's scripts ran, and the browser's console log."""
    assert CHROMIUM is not None
    with tempfile.TemporaryDirectory() as profile:
        process = await asyncio.create_subprocess_exec(
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=10000",
            "--dump-dom",
            url,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    return out.decode(), err.decode()


@get("/inline", media_type=MediaType.HTML)
async def inline_page() -> str:
    return "<html><body><p id=x>static</p><script>x.textContent = 'r' + 'an'</script></body></html>"


async def test_the_browser_reports_what_the_policy_refuses() -> None:
    """The calibration of the test below: an inline script is refused, and said to be."""
    bare = Litestar([inline_page], before_send=[security_headers(production=False)])
    async with live_server(bare) as base:
        dom, log = await rendered(f"{base}/inline")
    assert ">static<" in dom
    assert ">ran<" not in dom
    assert "Content Security Policy" in log


async def test_api_viewer_and_admin_render_under_the_policy(world: World) -> None:
    async with live_server(world.app) as base:
        viewer, viewer_log = await rendered(f"{base}/schema/")
        admin, admin_log = await rendered(f"{base}/admin/")
    # Swagger UI ran and drew the operations it fetched from /schema/openapi.json.
    assert 'class="swagger-ui"' in viewer
    assert "/api/v1/auth/login" in viewer
    # piccolo-admin's Vue app ran and drew its login form.
    assert 'type="password"' in admin
    for log in (viewer_log, admin_log):
        assert "Content Security Policy" not in log, log[-2000:]
