"""Preferences and quiet hours: validated, per user, honoured when a delivery is sent."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from bankcrm import db
from bankcrm.context import Scope, bind_scope
from bankcrm.notifications import NotificationSource, NotificationTemplate, mail, notify, service
from bankcrm.notifications.delivery import send_deliveries
from bankcrm.notifications.preferences import QuietPeriod
from bankcrm.plugins import PluginCandidate
from bankcrm.runtime import Kernel
from bankcrm_sdk.world import World

SHANGHAI = ZoneInfo("Asia/Shanghai")

DIGEST = NotificationTemplate(
    key="preftest.digest",
    category="preftest",
    title_zh="日报：$name",
    body_zh="$name 的日报。",
    title_en="Digest: $name",
    body_en="The digest of $name.",
    channels=("in_app", "email"),
)
ALERT = NotificationTemplate(
    key="preftest.alert",
    category="preftest",
    title_zh="警报：$name",
    body_zh="$name 需要立即处理。",
    title_en="Alert: $name",
    body_en="$name needs attention now.",
    channels=("in_app", "email"),
    mandatory=True,
    urgent=True,
)
OTHER = NotificationTemplate(
    key="preftest.other",
    category="preftest_other",
    title_zh="其他：$name",
    body_zh="$name",
    title_en="Other: $name",
    body_en="$name",
)


# --- quiet hours, without a database ---------------------------------------------------------


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), SHANGHAI)


NIGHT = QuietPeriod(time(22, 0), time(8, 0), "Asia/Shanghai")
NOON = QuietPeriod(time(12, 0), time(14, 0), "Asia/Shanghai")
DAY = date(2026, 12, 31)


@pytest.mark.parametrize(
    ("period", "now", "until"),
    [
        (NIGHT, at(DAY, 23, 30), at(DAY + timedelta(days=1), 8)),  # across midnight, new year
        (NIGHT, at(DAY, 22, 0), at(DAY + timedelta(days=1), 8)),
        (NIGHT, at(DAY, 0, 15), at(DAY, 8)),
        (NIGHT, at(DAY, 7, 59), at(DAY, 8)),
        (NIGHT, at(DAY, 8, 0), None),
        (NIGHT, at(DAY, 21, 59), None),
        (NOON, at(DAY, 12, 30), at(DAY, 14)),
        (NOON, at(DAY, 14, 0), None),
        (NOON, at(DAY, 11, 0), None),
    ],
)
def test_quiet_hours_end_in_the_users_time_zone(
    period: QuietPeriod, now: datetime, until: datetime | None
) -> None:
    found = period.until(now.astimezone(UTC))
    assert found == until
    assert found is None or found.tzinfo is UTC


def test_quiet_hours_follow_the_users_zone_not_the_servers() -> None:
    berlin = QuietPeriod(time(22, 0), time(8, 0), "Europe/Berlin")
    # 05:00 in Shanghai is 22:00 in Berlin the evening before: quiet there until 08:00.
    now = at(DAY, 5).astimezone(UTC)
    expected = datetime.combine(DAY, time(8), ZoneInfo("Europe/Berlin"))
    assert berlin.until(now) == expected
    assert NIGHT.until(now) == at(DAY, 8)
    with pytest.raises(ValueError, match="aware"):
        NIGHT.until(datetime(2026, 12, 31, 23, 0))


# --- with the kernel ---------------------------------------------------------------------------


@pytest.fixture
def templates(
    kernel: Kernel,
    kernel_with: Callable[[list[PluginCandidate]], Kernel],
    make_plugin: Callable[..., PluginCandidate],
    tmp_path: Path,
) -> Iterator[Path]:
    plugin = make_plugin(
        "preftest", hooks={"register_notification_templates": lambda: [DIGEST, ALERT, OTHER]}
    )
    service.install(kernel_with([plugin]).registry, kernel.settings)
    mail.configure(replace(kernel.settings.mail, smtp_host="", mail_dir=tmp_path))
    yield tmp_path
    service.install(kernel.registry, kernel.settings)


async def send(
    world: World, template: NotificationTemplate = DIGEST, username: str = "demo.bj.rm"
) -> Any:
    with bind_scope(world.system_scope()):
        async with db.transaction():
            [notification] = await notify(
                [world.users[username]],
                template.key,
                {"name": "张三"},
                NotificationSource("preftest", "preftest_case", 1, world.branch("BJ-HD")),
            )
    return notification


async def deliveries(world: World, notification: Any) -> dict[str, dict[str, Any]]:
    owner = await asyncpg.connect(world.kernel.owner_url)
    try:
        rows = await owner.fetch(
            "SELECT id, channel, status, attempts, last_error, next_attempt_at"
            " FROM bankcrm_notification_delivery WHERE notification = $1",
            notification,
        )
    finally:
        await owner.close()
    return {row["channel"]: dict(row) for row in rows}


async def deliver(world: World, ids: list[int], now: datetime | None = None) -> int:
    scope = Scope(actor="system:test", branch_ids=frozenset(world.branches.values()))
    with bind_scope(scope):
        return await send_deliveries(ids, now=now)


def mails(directory: Path) -> list[EmailMessage]:
    return [
        email.message_from_bytes(p.read_bytes(), _class=EmailMessage, policy=email.policy.default)
        for p in sorted(directory.glob("*.eml"))
    ]


async def put(world: World, username: str, body: dict[str, Any]) -> Any:
    client = await world.client(username)
    answer = await client.put("/api/v1/notifications/preferences", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.mark.usefixtures("templates")
async def test_preferences_round_trip_and_list_what_can_be_chosen(world: World) -> None:
    client = await world.client("demo.bj.rm")
    empty = (await client.get("/api/v1/notifications/preferences")).json()
    assert empty["preferences"] == []
    assert empty["quiet_hours"] is None
    categories = {c["category"]: c["templates"] for c in empty["categories"]}
    assert categories["preftest"] == [
        {
            "template": "preftest.alert",
            "channels": ["in_app", "email"],
            "mandatory": True,
            "urgent": True,
        },
        {
            "template": "preftest.digest",
            "channels": ["in_app", "email"],
            "mandatory": False,
            "urgent": False,
        },
    ]
    assert {"name": "email", "label_zh": "电子邮件", "label_en": "E-mail"} in empty["channels"]

    body = {
        "preferences": [
            {"category": "preftest", "channel": "email", "enabled": False},
            {"category": "preftest", "template": "preftest.alert", "channel": "email",
             "enabled": True},
        ],
        "quiet_hours": {"start": "22:00", "end": "08:00"},
    }  # fmt: skip
    saved = await put(world, "demo.bj.rm", body)
    assert saved["preferences"] == [
        {"category": "preftest", "template": None, "channel": "email", "enabled": False},
        {"category": "preftest", "template": "preftest.alert", "channel": "email",
         "enabled": True},
    ]  # fmt: skip
    assert saved["quiet_hours"] == {"start": "22:00", "end": "08:00", "timezone": "Asia/Shanghai"}
    assert (await client.get("/api/v1/notifications/preferences")).json() == saved

    # Another user's settings are their own: not shown, not changed.
    other = await world.client("demo.bj.manager")
    theirs = (await other.get("/api/v1/notifications/preferences")).json()
    assert (theirs["preferences"], theirs["quiet_hours"]) == ([], None)
    await put(world, "demo.bj.manager", {"preferences": [], "quiet_hours": None})
    assert (await client.get("/api/v1/notifications/preferences")).json() == saved

    cleared = await put(world, "demo.bj.rm", {})
    assert (cleared["preferences"], cleared["quiet_hours"]) == ([], None)


@pytest.mark.usefixtures("templates")
@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"preferences": [{"category": "nope", "channel": "email", "enabled": False}]},
         422, "/body/preferences/0/category"),
        ({"preferences": [{"category": "preftest", "channel": "fax", "enabled": False}]},
         422, "/body/preferences/0/channel"),
        ({"preferences": [{"category": "preftest", "template": "preftest.other",
                           "channel": "email", "enabled": False}]},
         422, "/body/preferences/0/template"),
        ({"preferences": [{"category": "preftest", "template": "preftest.alert",
                           "channel": "in_app", "enabled": False}]},
         422, "/body/preferences/0/enabled"),
        ({"preferences": [{"category": "preftest", "channel": "email", "enabled": False},
                          {"category": "preftest", "channel": "email", "enabled": True}]},
         422, "/body/preferences/1"),
        ({"quiet_hours": {"start": "25:00", "end": "08:00"}}, 422, "/body/quiet_hours/start"),
        ({"quiet_hours": {"start": "22:00", "end": "8"}}, 422, "/body/quiet_hours/end"),
        ({"quiet_hours": {"start": "22:00", "end": "22:00"}}, 422, "/body/quiet_hours/end"),
        ({"quiet_hours": {"start": "22:00", "end": "08:00", "timezone": "Mars/Olympus"}},
         422, "/body/quiet_hours/timezone"),
        ({"preferences": [{"category": "preftest", "channel": "email"}]},
         422, "/body/preferences/0/enabled"),  # the field the decoder found missing
    ],
)  # fmt: skip
async def test_bad_preferences_are_refused_naming_the_field(
    world: World, body: dict[str, Any], status: int, field: str
) -> None:
    client = await world.client("demo.bj.rm")
    answer = await client.put("/api/v1/notifications/preferences", json=body)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in answer.json()["errors"]] == [field]
    unchanged = (await client.get("/api/v1/notifications/preferences")).json()
    assert (unchanged["preferences"], unchanged["quiet_hours"]) == ([], None)


@pytest.mark.usefixtures("templates")
async def test_a_channel_turned_off_skips_the_delivery_with_the_reason(
    world: World, templates: Path
) -> None:
    notification = await send(world)
    await put(
        world,
        "demo.bj.rm",
        {"preferences": [{"category": "preftest", "channel": "email", "enabled": False}]},
    )
    email_delivery = (await deliveries(world, notification))["email"]
    # Decided when sent, not when written: the choice made after notify() counts.
    assert await deliver(world, [email_delivery["id"]]) == 0
    skipped = (await deliveries(world, notification))["email"]
    assert (skipped["status"], skipped["attempts"]) == ("skipped", 0)
    assert skipped["last_error"] == "the recipient turned email off for category preftest"
    assert mails(templates) == []
    assert await deliver(world, [email_delivery["id"]]) == 0  # skipped stays skipped

    # The template's own choice beats the category's; another user's choice is theirs.
    await put(
        world,
        "demo.bj.rm",
        {"preferences": [
            {"category": "preftest", "channel": "email", "enabled": False},
            {"category": "preftest", "template": "preftest.alert", "channel": "email",
             "enabled": True},
        ]},
    )  # fmt: skip
    alert = await send(world, ALERT)
    for_manager = await send(world, DIGEST, "demo.bj.manager")
    ids = [(await deliveries(world, n))["email"]["id"] for n in (alert, for_manager)]
    assert await deliver(world, ids) == 2
    assert sorted(m["To"] for m in mails(templates)) == [
        "demo.bj.manager@demo.bankcrm.local",
        "demo.bj.rm@demo.bankcrm.local",
    ]


@pytest.mark.usefixtures("templates")
async def test_in_app_turned_off_files_the_notification_as_read_unless_mandatory(
    world: World,
) -> None:
    await put(
        world,
        "demo.bj.rm",
        {"preferences": [{"category": "preftest", "channel": "in_app", "enabled": False}]},
    )
    muted = await send(world, DIGEST)
    kept = await send(world, ALERT)
    client = await world.client("demo.bj.rm")
    assert (await client.get("/api/v1/notifications/badge")).json() == {"unread": 1}
    listed = (await client.get("/api/v1/notifications")).json()["items"]
    read = {item["id"]: item["read_at"] is not None for item in listed}
    assert read == {str(muted): True, str(kept): False}
    in_app = (await deliveries(world, muted))["in_app"]
    assert in_app["status"] == "skipped"
    assert (
        in_app["last_error"]
        == "the recipient turned in_app off for preftest.digest (filed as read)"
    )
    assert (await deliveries(world, kept))["in_app"]["status"] == "pending"


@pytest.mark.usefixtures("templates")
async def test_quiet_hours_hold_mail_until_the_morning_across_midnight(
    world: World, templates: Path
) -> None:
    await put(world, "demo.bj.rm", {"quiet_hours": {"start": "22:00", "end": "08:00"}})
    notification = await send(world)
    delivery = (await deliveries(world, notification))["email"]
    tomorrow = datetime.now(SHANGHAI).date() + timedelta(days=1)
    late = at(tomorrow, 23, 30)
    assert await deliver(world, [delivery["id"]], now=late) == 0
    held = (await deliveries(world, notification))["email"]
    assert (held["status"], held["attempts"], held["last_error"]) == ("pending", 0, "")
    assert held["next_attempt_at"] == at(tomorrow + timedelta(days=1), 8)
    assert mails(templates) == []
    # Not due before then: a message arriving again leaves it held.
    assert await deliver(world, [delivery["id"]]) == 0

    owner = await asyncpg.connect(world.kernel.owner_url)
    try:
        await owner.execute(
            "UPDATE bankcrm_notification_delivery SET next_attempt_at = now() WHERE id = $1",
            delivery["id"],
        )
    finally:
        await owner.close()
    assert await deliver(world, [delivery["id"]], now=at(tomorrow + timedelta(days=1), 8)) == 1
    assert (await deliveries(world, notification))["email"]["status"] == "sent"
    assert len(mails(templates)) == 1


@pytest.mark.usefixtures("templates")
async def test_urgent_templates_and_in_app_ignore_quiet_hours(
    world: World, templates: Path
) -> None:
    await put(world, "demo.bj.rm", {"quiet_hours": {"start": "22:00", "end": "08:00"}})
    alert = await send(world, ALERT)
    late = at(datetime.now(SHANGHAI).date() + timedelta(days=1), 23, 30)
    assert await deliver(world, [(await deliveries(world, alert))["email"]["id"]], now=late) == 1
    assert [m["Subject"] for m in mails(templates)] == ["警报：张三"]
    client = await world.client("demo.bj.rm")
    assert (await client.get("/api/v1/notifications/badge")).json() == {"unread": 1}


@pytest.mark.usefixtures("templates")
async def test_nobody_changes_another_users_settings_in_the_database(world: World) -> None:
    await put(
        world,
        "demo.bj.rm",
        {
            "preferences": [{"category": "preftest", "channel": "email", "enabled": False}],
            "quiet_hours": {"start": "22:00", "end": "08:00"},
        },
    )
    rm = world.users["demo.bj.rm"]
    manager = world.users["demo.bj.manager"]
    other = Scope(
        actor=f"user:{manager}",
        branch_ids=frozenset(world.branches.values()),
        user_id=manager,
    )
    with bind_scope(other):
        changed = await db.fetch(
            "UPDATE bankcrm_notification_preference SET enabled = true RETURNING id"
        )
        assert changed == []
        assert await db.fetch("DELETE FROM bankcrm_notification_quiet_hours RETURNING id") == []
        assert await db.fetchval("SELECT count(*) FROM bankcrm_notification_quiet_hours") == 0
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await db.fetch(
                'INSERT INTO bankcrm_notification_preference ("user", category, template,'
                " channel, enabled) VALUES ($1, 'preftest', '', 'in_app', false)",
                rm,
            )
    with bind_scope(None):
        assert await db.fetchval("SELECT count(*) FROM bankcrm_notification_preference") == 0
    client = await world.client("demo.bj.rm")
    mine = (await client.get("/api/v1/notifications/preferences")).json()
    assert mine["preferences"][0]["enabled"] is False
    assert mine["quiet_hours"]["start"] == "22:00"
