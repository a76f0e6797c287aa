"""The staff workbench: login redirect, the home page, languages, refusals as pages."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import asyncpg

from bankcrm import business_calendar, db
from bankcrm.context import bind_scope
from bankcrm.notifications import NotificationSource, notify
from bankcrm.workbench.rendering import localtime
from bankcrm_sdk.world import World


async def test_a_visitor_is_sent_to_the_login_page_and_back(world: World) -> None:
    anonymous = world.anonymous_client()
    home = await anonymous.get("/app/")
    assert home.status_code == 303
    assert home.headers["location"] == "/app/login?next=/app"
    login = await anonymous.get("/app/login?next=/app/")
    assert login.status_code == 200
    assert "登录" in login.text
    assert 'data-next="/app/"' in login.text
    elsewhere = await anonymous.get("/app/login?next=//evil.example/")
    assert 'data-next="/app/"' in elsewhere.text
    assert "<script>" not in login.text  # behaviour comes from the static file only
    script = await anonymous.get("/app/static/workbench.js")
    assert script.status_code == 200


async def test_the_home_page_shows_notifications_and_open_work(world: World) -> None:
    with bind_scope(world.system_scope()):
        async with db.transaction():
            await notify(
                [world.users["demo.bj.rm"]],
                "bankcrm.welcome",
                {"branch": "北京海淀支行"},
                NotificationSource("bankcrm", "piccolo_user", world.users["demo.bj.rm"],
                                   world.branch("BJ-HD")),
            )  # fmt: skip
    client = await world.client("demo.bj.rm")
    page = await client.get("/app/")
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert "工作台" in page.text
    assert "待办事项" in page.text
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d", page.text)  # Chinese date form
    english = await client.get("/app/?lang=en")
    assert "My open work" in english.text
    assert "bankcrm_lang=en" in english.headers["set-cookie"]
    assert "My open work" in (await client.get("/app/")).text


async def test_a_page_that_does_not_exist_is_a_page_not_json(world: World) -> None:
    client = await world.client("demo.teller")
    missing = await client.get("/app/nothing-here")
    assert missing.status_code == 404


async def test_times_are_shown_in_the_viewers_branch_zone(world: World) -> None:
    """A sub-branch in Urumqi keeps Xinjiang time (UTC+6): its staff read their own clock."""
    branch = world.branch("BJ-HD")
    with bind_scope(world.system_scope()):
        async with db.transaction():
            await db.fetch("DELETE FROM bankcrm_branch_hours WHERE branch = $1", branch)
            await db.fetch(
                "INSERT INTO bankcrm_branch_hours (branch, weekday, opens, closes, timezone)"
                " SELECT $1, d, '10:00', '18:00', 'Asia/Urumqi' FROM generate_series(0, 4) d",
                branch,
            )
            await notify(
                [world.users["demo.bj.rm"]],
                "bankcrm.welcome",
                {"branch": "北京海淀支行"},
                NotificationSource("bankcrm", "piccolo_user", world.users["demo.bj.rm"], branch),
            )
    owner = await asyncpg.connect(world.kernel.owner_url)  # past the recipient-only policy
    try:
        created = await owner.fetchval(
            "SELECT max(created_at) FROM bankcrm_notification WHERE recipient = $1",
            world.users["demo.bj.rm"],
        )
    finally:
        await owner.close()
    business_calendar.invalidate()
    try:
        page = (await (await world.client("demo.bj.rm")).get("/app/")).text
    finally:
        business_calendar.invalidate()
    assert localtime(created, "zh-CN", ZoneInfo("Asia/Urumqi")) in page
    assert localtime(created, "zh-CN", ZoneInfo("Asia/Shanghai")) not in page
