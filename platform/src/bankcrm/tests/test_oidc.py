"""Staff single sign-on against an OpenID Connect provider started by the test."""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from bankcrm import db
from bankcrm.runtime import Kernel, activate
from bankcrm.settings import OidcSettings, SettingsError, load_oidc_settings
from bankcrm.tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider
from bankcrm_sdk.browser import StaffBrowser, chromium
from bankcrm_sdk.live_server import live_server
from bankcrm_sdk.world import World


@dataclass
class SignOn:
    provider: Provider
    app: Any
    browser: httpx.AsyncClient
    """The staff member's browser on the platform (its cookie jar)."""

    def another_browser(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://testserver"
        )

    async def begin(self, next_path: str = "/app/") -> httpx.Response:
        started = await self.browser.get("/app/sso/login", params={"next": next_path})
        assert started.status_code == 303, started.text
        async with httpx.AsyncClient() as to_provider:
            return await to_provider.get(started.headers["location"])

    async def sign_in(self, next_path: str = "/app/") -> httpx.Response:
        at_provider = await self.begin(next_path)
        assert at_provider.status_code == 302, at_provider.text
        return await self.browser.get(at_provider.headers["location"])


def platform_with(world: World, settings: OidcSettings | None) -> Any:
    """The platform's app with ``settings`` for single sign-on (it becomes the running one)."""
    from bankcrm.webapp import create_app

    kernel = world.kernel
    configured = replace(kernel.settings, oidc=settings)
    return create_app(Kernel(configured, kernel.registry, kernel.owner_url, kernel.app_url))


def browser_on(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@pytest.fixture
async def sign_on(world: World) -> AsyncIterator[SignOn]:
    provider = Provider()
    async with live_server(provider.app()) as base_url:
        provider.base_url = base_url
        settings = OidcSettings(issuer=base_url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
        app = platform_with(world, settings)
        browser = browser_on(app)
        try:
            yield SignOn(provider, app, browser)
        finally:
            await browser.aclose()
            activate(world.kernel)


async def test_a_staff_member_signs_in_through_the_banks_provider(
    sign_on: SignOn, world: World
) -> None:
    login_page = await sign_on.browser.get("/app/login", params={"next": "/app/desk/"})
    assert "使用行内统一身份认证登录" in login_page.text
    assert "/app/sso/login?next=/app/desk/" in login_page.text

    done = await sign_on.sign_in("/app/desk/")
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/app/desk/"
    cookies = done.headers.get_list("set-cookie")
    assert any(c.startswith("id=") and "HttpOnly" in c for c in cookies)
    me = await sign_on.browser.get("/api/v1/auth/me")
    assert me.status_code == 200
    assert me.json()["username"] == "demo.admin"
    with world.bind(world.system_scope()):
        reasons = await db.fetch(
            "SELECT reason, success FROM bankcrm_login_attempt WHERE username = 'demo.admin'"
        )
    assert [(r["reason"], r["success"]) for r in reasons] == [("sso", True)]

    # The code was spent: replaying the provider's answer does not open a second session.
    replay = await sign_on.begin()
    first = await sign_on.browser.get(replay.headers["location"])
    assert first.status_code == 303
    again = await sign_on.browser.get(replay.headers["location"])
    assert again.status_code == 400  # the state cookie was cleared with the first use


@pytest.mark.parametrize(
    "tamper", ["nonce", "audience", "signature", "expired", "issuer", "alg_none"]
)
async def test_an_id_token_that_does_not_verify_opens_no_session(
    sign_on: SignOn, tamper: str
) -> None:
    sign_on.provider.tamper = tamper
    refused = await sign_on.sign_in()
    assert refused.status_code == 403, (tamper, refused.text)
    assert "身份令牌" in refused.text
    assert not any(c.startswith("id=") for c in refused.headers.get_list("set-cookie"))
    assert (await sign_on.browser.get("/api/v1/auth/me")).status_code == 401


async def test_the_round_trip_must_match_and_end_on_this_site(sign_on: SignOn) -> None:
    at_provider = await sign_on.begin()
    back = urlsplit(at_provider.headers["location"])
    query = parse_qs(back.query)
    forged = f"{back.path}?code={query['code'][0]}&state=forged"
    mismatch = await sign_on.browser.get(forged)
    assert mismatch.status_code == 400
    assert "query.state" in mismatch.text

    # A callback without the cookie set by this browser's own start is refused.
    async with sign_on.another_browser() as stranger:
        elsewhere = await stranger.get(at_provider.headers["location"])
    assert elsewhere.status_code == 400
    assert sign_on.provider.token_requests == 0

    denied = await sign_on.browser.get(
        "/app/sso/callback", params={"error": "access_denied", "error_description": "<b>no</b>"}
    )
    assert denied.status_code == 403
    assert "<b>no</b>" not in denied.text
    assert "&lt;b&gt;no&lt;/b&gt;" in denied.text

    offsite = await sign_on.sign_in("//evil.example/steal")
    assert offsite.headers["location"] == "/app/"


async def test_only_active_bankcrm_users_get_in(sign_on: SignOn) -> None:
    sign_on.provider.username = "someone.unknown"
    unknown = await sign_on.sign_in()
    assert unknown.status_code == 403
    assert "没有启用的账户 someone.unknown" in unknown.text
    assert (await sign_on.browser.get("/api/v1/auth/me")).status_code == 401


async def test_a_provider_that_does_not_answer_is_a_503(world: World) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    settings = OidcSettings(
        issuer=f"http://127.0.0.1:{port}", client_id=CLIENT_ID, client_secret=CLIENT_SECRET
    )
    browser = browser_on(platform_with(world, settings))
    try:
        answer = await browser.get("/app/sso/login")
        assert answer.status_code == 503
        assert "统一身份认证服务暂时无法访问" in answer.text
    finally:
        await browser.aclose()
        activate(world.kernel)


async def test_without_a_provider_there_is_no_sign_on(world: World) -> None:
    page = await world.anonymous_client().get("/app/login")
    assert "统一身份认证" not in page.text
    assert (await world.anonymous_client().get("/app/sso/login")).status_code == 404


def test_settings_name_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BANKCRM_OIDC_CLIENT_ID", "BANKCRM_OIDC_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("BANKCRM_OIDC_ISSUER", raising=False)
    assert load_oidc_settings() is None
    monkeypatch.setenv("BANKCRM_OIDC_ISSUER", "https://idp.bank.example/realms/staff/")
    with pytest.raises(SettingsError, match="BANKCRM_OIDC_CLIENT_ID"):
        load_oidc_settings()
    monkeypatch.setenv("BANKCRM_OIDC_CLIENT_ID", "crm")
    monkeypatch.setenv("BANKCRM_OIDC_CLIENT_SECRET", "s")
    loaded = load_oidc_settings()
    assert loaded is not None
    assert loaded.issuer == "https://idp.bank.example/realms/staff"
    monkeypatch.setenv("BANKCRM_OIDC_ISSUER", "http://idp.bank.example")
    with pytest.raises(SettingsError, match="https"):
        load_oidc_settings()


async def test_sign_on_in_a_real_browser(sign_on: SignOn) -> None:
    executable = chromium()
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: run .ci/ensure-browser")
        pytest.skip("chromium is not installed")
    from playwright.async_api import async_playwright

    async with live_server(sign_on.app) as base, async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            context = await browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
            page = await context.new_page()
            await page.goto(f"{base}/app/login?next=/app/")
            staff = StaffBrowser(base, browser)
            await staff.screenshot(page, "kernel-sso-login")
            await page.click("text=使用行内统一身份认证登录")
            await page.wait_for_url(f"{base}/app/")
            await staff.screenshot(page, "kernel-sso-home")
            me = await page.request.get(f"{base}/api/v1/auth/me")
            assert (await me.json())["username"] == "demo.admin"
        finally:
            await browser.close()
