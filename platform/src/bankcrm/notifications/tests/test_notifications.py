"""Notifications: written with the business change, visible to the recipient alone."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bankcrm import db
from bankcrm.context import Scope, bind_scope
from bankcrm.jobs import OutsideTransaction
from bankcrm.notifications import NotificationSource, NotificationTemplate, notify, service
from bankcrm.notifications.delivery import deliver_notifications
from bankcrm.plugins import PluginCandidate
from bankcrm.runtime import Kernel
from bankcrm.web.problems import Problem
from bankcrm_sdk.jobs import StartJobWorker
from bankcrm_sdk.world import World

ASSIGNED = NotificationTemplate(
    key="notetest.assigned",
    category="notetest",
    title_zh="新客户：$name",
    body_zh="$name 已分配给您。",
    title_en="New customer: $name",
    body_en="$name was assigned to you.",
)


@pytest.fixture
def templates(
    kernel: Kernel,
    kernel_with: Callable[[list[PluginCandidate]], Kernel],
    make_plugin: Callable[..., PluginCandidate],
) -> Iterator[Kernel]:
    plugin = make_plugin("notetest", hooks={"register_notification_templates": lambda: [ASSIGNED]})
    with_templates = kernel_with([plugin])
    service.install(with_templates.registry, kernel.settings)
    yield with_templates
    service.install(kernel.registry, kernel.settings)


def source(world: World, code: str = "BJ-HD", record: int = 1) -> NotificationSource:
    return NotificationSource("notetest", "notetest_customer", record, world.branch(code))


async def send(world: World, usernames: list[str], **params: Any) -> list[Any]:
    with bind_scope(world.system_scope()):
        async with db.transaction():
            return await notify(
                [world.users[u] for u in usernames],
                ASSIGNED.key,
                params or {"name": "张三"},
                source(world),
            )


async def count(world: World, sql: str) -> int:
    with bind_scope(
        Scope(actor="system:notifications", branch_ids=frozenset(world.branches.values()))
    ):
        return int(await db.fetchval(sql))


@pytest.mark.usefixtures("templates")
async def test_the_recipient_lists_reads_and_polls_the_badge(world: World) -> None:
    [first] = await send(world, ["demo.bj.rm"])
    await send(world, ["demo.bj.rm"], name="李四")
    client = await world.client("demo.bj.rm")

    badge = await client.get("/api/v1/notifications/badge")
    assert badge.status_code == 200, badge.text
    assert badge.json() == {"unread": 2}
    unchanged = await client.get(
        "/api/v1/notifications/badge", headers={"If-None-Match": badge.headers["etag"]}
    )
    assert unchanged.status_code == 304
    assert unchanged.content == b""

    page = (await client.get("/api/v1/notifications?limit=1")).json()
    assert [item["title"] for item in page["items"]] == ["新客户：李四"]
    second = await client.get(f"/api/v1/notifications?limit=1&cursor={page['next_cursor']}")
    [older] = second.json()["items"]
    assert older["id"] == str(first)
    assert older["source"] == {
        "plugin": "notetest",
        "table": "notetest_customer",
        "id": "1",
        "branch_id": world.branch("BJ-HD"),
    }
    english = (await client.get("/api/v1/notifications?language=en")).json()["items"]
    assert english[1]["body"] == "张三 was assigned to you."

    assert (await client.post(f"/api/v1/notifications/{first}/read")).status_code == 204
    assert (await client.get("/api/v1/notifications/badge")).json() == {"unread": 1}
    unread = (await client.get("/api/v1/notifications?unread=true")).json()["items"]
    assert [item["title"] for item in unread] == ["新客户：李四"]
    assert (await client.post("/api/v1/notifications/read-all")).json() == {"marked": 1}
    after = await client.get(
        "/api/v1/notifications/badge", headers={"If-None-Match": badge.headers["etag"]}
    )
    assert after.json() == {"unread": 0}


@pytest.mark.usefixtures("templates")
async def test_nobody_else_sees_or_marks_a_notification(world: World) -> None:
    [notification] = await send(world, ["demo.bj.rm"])
    manager = await world.client("demo.bj.manager")  # same branches, and more
    assert (await manager.get("/api/v1/notifications")).json()["items"] == []
    assert (await manager.get("/api/v1/notifications/badge")).json() == {"unread": 0}
    refused = await manager.post(f"/api/v1/notifications/{notification}/read")
    assert refused.status_code == 404
    admin_scope = Scope(
        actor=f"user:{world.users['demo.admin']}",
        branch_ids=frozenset(world.branches.values()),
        user_id=world.users["demo.admin"],
        is_superuser=True,
    )
    with bind_scope(admin_scope):
        assert await db.fetchval("SELECT count(*) FROM bankcrm_notification") == 0
        assert await db.fetch("UPDATE bankcrm_notification SET read_at = now() RETURNING id") == []
    with bind_scope(None):
        assert await db.fetchval("SELECT count(*) FROM bankcrm_notification") == 0
    rm = await world.client("demo.bj.rm")
    assert (await rm.get("/api/v1/notifications/badge")).json() == {"unread": 1}


@pytest.mark.usefixtures("templates")
async def test_a_rolled_back_notification_is_never_sent(
    world: World, templates: Kernel, job_worker: StartJobWorker
) -> None:
    worker = await job_worker(templates)
    with bind_scope(world.system_scope()), pytest.raises(RuntimeError, match="business"):
        async with db.transaction():
            await notify([world.users["demo.bj.rm"]], ASSIGNED.key, {"name": "x"}, source(world))
            raise RuntimeError("the business change fails after notifying")
    assert await worker.relay() == 0
    await worker.drain()
    assert await count(world, "SELECT count(*) FROM bankcrm_notification") == 0
    assert await count(world, "SELECT count(*) FROM bankcrm_notification_delivery") == 0


@pytest.mark.usefixtures("templates")
async def test_in_app_delivery_is_recorded_once(
    world: World, templates: Kernel, job_worker: StartJobWorker
) -> None:
    worker = await job_worker(templates)
    await send(world, ["demo.bj.rm", "demo.bj.manager"])
    assert await worker.relay() == 1
    await worker.drain()
    sent = "SELECT count(*) FROM bankcrm_notification_delivery WHERE status = 'sent'"
    assert await count(world, sent) == 2
    # The same message arriving again (a relay or worker redelivery) sends nothing twice.
    with bind_scope(world.system_scope()):
        rows = await db.fetch("SELECT id FROM bankcrm_notification_delivery")
        async with db.transaction():
            await deliver_notifications([r["id"] for r in rows])
    attempts = "SELECT sum(attempts) FROM bankcrm_notification_delivery"
    assert await count(world, attempts) == 2


@pytest.mark.usefixtures("templates")
@pytest.mark.parametrize(
    ("recipients", "template", "params", "field"),
    [
        (["demo.bj.rm"], "notetest.unknown", {"name": "x"}, "template"),
        (["demo.bj.rm"], ASSIGNED.key, {}, "params.name"),
        (["demo.sh.rm"], ASSIGNED.key, {"name": "x"}, "recipients[0]"),
        ([], ASSIGNED.key, {"name": "x"}, "recipients"),
    ],
)
async def test_bad_input_is_refused_with_the_field(
    world: World, recipients: list[str], template: str, params: dict[str, str], field: str
) -> None:
    with bind_scope(world.system_scope()), pytest.raises(Problem) as refused:
        async with db.transaction():
            await notify([world.users[u] for u in recipients], template, params, source(world))
    assert refused.value.status == 422
    assert [e.field for e in refused.value.errors] == [field]
    assert await count(world, "SELECT count(*) FROM bankcrm_notification") == 0


@pytest.mark.usefixtures("templates")
async def test_unknown_users_and_calls_outside_a_transaction_are_refused(world: World) -> None:
    with bind_scope(world.system_scope()), pytest.raises(Problem) as refused:
        async with db.transaction():
            await notify([987654], ASSIGNED.key, {"name": "x"}, source(world))
    assert refused.value.errors[0].message == "no active user with id 987654"
    with bind_scope(world.system_scope()), pytest.raises(OutsideTransaction):
        await notify([world.users["demo.bj.rm"]], ASSIGNED.key, {"name": "x"}, source(world))


async def test_the_badge_needs_a_login(world: World) -> None:
    answer = await world.anonymous_client().get("/api/v1/notifications/badge")
    assert answer.status_code == 401
