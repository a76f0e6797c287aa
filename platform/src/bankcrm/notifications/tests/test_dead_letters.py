"""Dead letters for operators: listed with the reason, sent again once, in their branches."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import asyncpg
import httpx
import pytest

from bankcrm import db
from bankcrm.admin.app import admin_screens
from bankcrm.admin.screens import ScreenIndex
from bankcrm.context import Scope, bind_scope
from bankcrm.notifications import NotificationSource, NotificationTemplate, notify, service
from bankcrm.notifications.channels import (
    DeliveryRefused,
    NotificationChannel,
    OutgoingNotification,
)
from bankcrm.notifications.delivery import send_deliveries
from bankcrm.plugins import PluginCandidate
from bankcrm.runtime import Kernel
from bankcrm_sdk.jobs import StartJobWorker
from bankcrm_sdk.world import World

PROBLEM = "application/problem+json"


class Pager:
    """A plugin channel that refuses until told otherwise, counting what it is asked."""

    def __init__(self) -> None:
        self.refuse = True
        self.only: set[str] = set()
        """When given, refuse only these usernames."""
        self.calls: list[int] = []

    async def send(self, outgoing: OutgoingNotification) -> None:
        self.calls.append(outgoing.delivery_id)
        if self.refuse and (not self.only or outgoing.recipient_username in self.only):
            raise DeliveryRefused("pager number unknown to the gateway")


PAGED = NotificationTemplate(
    key="dltest.paged",
    category="dltest",
    title_zh="待办：$name",
    body_zh="请处理 $name 的秘密事项。",
    title_en="To do: $name",
    body_en="Please handle the secret matter of $name.",
    channels=("in_app", "dltest.pager"),
)


@pytest.fixture
def pager() -> Pager:
    return Pager()


@pytest.fixture
def paging(
    kernel: Kernel,
    kernel_with: Callable[[list[PluginCandidate]], Kernel],
    make_plugin: Callable[..., PluginCandidate],
    pager: Pager,
) -> Iterator[Kernel]:
    channel = NotificationChannel("dltest.pager", "寻呼", "Pager", pager.send)
    plugin = make_plugin(
        "dltest",
        hooks={
            "register_notification_templates": lambda: [PAGED],
            "register_notification_channels": lambda: [channel],
        },
    )
    with_pager = kernel_with([plugin])
    service.install(with_pager.registry, kernel.settings)
    yield with_pager
    service.install(kernel.registry, kernel.settings)


async def send(world: World, username: str = "demo.bj.rm", code: str = "BJ-HD") -> Any:
    with bind_scope(world.system_scope()):
        async with db.transaction():
            [notification] = await notify(
                [world.users[username]],
                PAGED.key,
                {"name": "张三"},
                NotificationSource("dltest", "dltest_case", 1, world.branch(code)),
            )
    return notification


async def owner_fetch(world: World, sql: str, *args: Any) -> list[asyncpg.Record]:
    owner = await asyncpg.connect(world.kernel.owner_url)
    try:
        return list(await owner.fetch(sql, *args))
    finally:
        await owner.close()


async def pager_delivery(world: World, notification: Any) -> dict[str, Any]:
    [row] = await owner_fetch(
        world,
        "SELECT id, status, attempts, last_error FROM bankcrm_notification_delivery"
        " WHERE notification = $1 AND channel = 'dltest.pager'",
        notification,
    )
    return dict(row)


async def audited(world: World) -> list[asyncpg.Record]:
    return await owner_fetch(
        world,
        "SELECT actor, action, entity_id, branch_id, before, after FROM bankcrm_audit"
        " WHERE entity = 'bankcrm.notification_delivery' ORDER BY id",
    )


def retry_path(delivery_id: int) -> str:
    return f"/api/v1/notifications/deliveries/{delivery_id}/retry"


async def test_a_dead_letter_is_listed_with_its_reason_and_sent_again_once(
    world: World, paging: Kernel, pager: Pager, job_worker: StartJobWorker
) -> None:
    worker = await job_worker(paging)
    notification = await send(world)
    assert await worker.relay() == 1
    await worker.drain()
    dead = await pager_delivery(world, notification)
    assert (dead["status"], dead["attempts"]) == ("dead", 1)
    assert dead["last_error"] == "pager number unknown to the gateway"

    manager = await world.client("demo.bj.manager")
    listed = await manager.get("/api/v1/notifications/deliveries")
    assert listed.status_code == 200, listed.text
    [item] = [i for i in listed.json()["items"] if i["id"] == dead["id"]]
    assert item["reason"] == "pager number unknown to the gateway"
    assert (item["template"], item["recipient"], item["channel"]) == (
        PAGED.key,
        "demo.bj.rm",
        "dltest.pager",
    )
    assert "秘密" not in listed.text  # what it says stays the recipient's

    pager.refuse = False
    first = await manager.post(retry_path(dead["id"]))
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "pending"
    assert first.json()["retried_by"] == f"user:{world.users['demo.bj.manager']}"
    again = await manager.post(retry_path(dead["id"]))  # a double click
    assert again.status_code == 200
    assert again.json()["status"] == "pending"
    assert again.json()["retried_at"] == first.json()["retried_at"]
    [entry] = await audited(world)
    assert entry["entity_id"] == str(dead["id"])
    assert entry["branch_id"] == world.branch("BJ-HD")
    assert entry["actor"] == f"user:{world.users['demo.bj.manager']}"

    assert await worker.relay() == 1
    await worker.drain()
    assert pager.calls == [dead["id"], dead["id"]]
    sent = await pager_delivery(world, notification)
    assert (sent["status"], sent["attempts"], sent["last_error"]) == ("sent", 1, "")

    after = await manager.post(retry_path(dead["id"]))
    assert after.status_code == 200
    assert after.json()["status"] == "sent"
    assert len(await audited(world)) == 1
    assert await worker.relay() == 0
    gone = await manager.get("/api/v1/notifications/deliveries")
    assert dead["id"] not in [i["id"] for i in gone.json()["items"]]


async def dead_letter(world: World, username: str, code: str) -> int:
    notification = await send(world, username, code)
    delivery = await pager_delivery(world, notification)
    scope = Scope(actor="system:test", branch_ids=frozenset(world.branches.values()))
    with bind_scope(scope):
        await send_deliveries([delivery["id"]])
    assert (await pager_delivery(world, notification))["status"] == "dead"
    return int(delivery["id"])


def is_problem(answer: httpx.Response, status: int) -> bool:
    return answer.status_code == status and answer.headers["content-type"].startswith(PROBLEM)


@pytest.mark.usefixtures("paging")
async def test_operators_see_and_retry_only_their_branches(world: World) -> None:
    beijing = await dead_letter(world, "demo.bj.rm", "BJ-HD")
    shanghai = await dead_letter(world, "demo.sh.rm", "SH-PD")

    sh_manager = await world.client("demo.sh.manager")
    listed = (await sh_manager.get("/api/v1/notifications/deliveries")).json()["items"]
    assert [i["id"] for i in listed] == [shanghai]
    assert is_problem(await sh_manager.post(retry_path(beijing)), 404)
    assert is_problem(await sh_manager.post(retry_path(987654321)), 404)

    rm = await world.client("demo.bj.rm")  # the recipient, without the permission
    assert is_problem(await rm.get("/api/v1/notifications/deliveries"), 403)
    assert is_problem(await rm.post(retry_path(beijing)), 403)

    bj_manager = await world.client("demo.bj.manager")
    listed = (await bj_manager.get("/api/v1/notifications/deliveries")).json()["items"]
    assert [i["id"] for i in listed] == [beijing]
    assert await audited(world) == []
    statuses = {i["status"] for i in listed}
    assert statuses == {"dead"}


@pytest.mark.usefixtures("paging")
async def test_only_dead_letters_are_sent_again(world: World) -> None:
    notification = await send(world)
    [in_app] = await owner_fetch(
        world,
        "SELECT id FROM bankcrm_notification_delivery WHERE notification = $1"
        " AND channel = 'in_app'",
        notification,
    )
    manager = await world.client("demo.bj.manager")
    refused = await manager.post(retry_path(in_app["id"]))
    assert is_problem(refused, 409)
    assert "only dead letters" in refused.json()["detail"]
    bad = await manager.get("/api/v1/notifications/deliveries?status=lost")
    assert is_problem(bad, 422)  # a value not allowed; a cursor that does not decode is 400
    assert [e["field"] for e in bad.json()["errors"]] == ["/query/status"]
    cursor = await manager.get("/api/v1/notifications/deliveries?cursor=bm9wZQ")
    assert is_problem(cursor, 400)
    pending = await manager.get("/api/v1/notifications/deliveries?status=pending&limit=1")
    assert pending.status_code == 200
    assert len(pending.json()["items"]) == 1
    assert pending.json()["next_cursor"] is not None


async def admin_client(world: World, username: str) -> httpx.AsyncClient:
    client = await world.client(username)
    assert (await client.get("/admin/")).status_code == 200
    client.headers["X-CSRFToken"] = client.cookies["csrftoken"]
    return client


@pytest.mark.usefixtures("paging")
async def test_admin_screens_show_own_notifications_and_branch_dead_letters(
    world: World,
) -> None:
    beijing = await dead_letter(world, "demo.bj.rm", "BJ-HD")
    await dead_letter(world, "demo.sh.rm", "SH-PD")
    rm = await admin_client(world, "demo.bj.rm")
    tables = (await rm.get("/admin/api/tables/")).json()
    assert "bankcrm_notification" in tables
    assert "bankcrm_notification_delivery" not in tables
    shown = (await rm.get("/admin/api/screens/")).json()["screens"]
    assert shown["bankcrm_notification"]["title"] == "我的通知"
    rows = (await rm.get("/admin/api/tables/bankcrm_notification/")).json()["rows"]
    assert {r["title_zh"] for r in rows} >= {"待办：张三"}
    assert all("recipient" not in r for r in rows)
    owner_rows = await owner_fetch(
        world,
        "SELECT id FROM bankcrm_notification WHERE recipient = $1",
        world.users["demo.bj.rm"],
    )
    assert {r["id"] for r in rows} == {str(r["id"]) for r in owner_rows}
    own = rows[0]["id"]
    assert is_problem(
        await rm.patch(f"/admin/api/tables/bankcrm_notification/{own}/", json={"read_at": None}),
        405,
    )
    # The hidden recipient column opens no picker listing every user to every reader.
    pickers = ScreenIndex.build(admin_screens(world.kernel)).pickers.get("piccolo_user", [])
    assert "bankcrm_notification" not in {s.tablename for s in pickers}
    assert is_problem(await rm.get("/admin/api/tables/bankcrm_notification_delivery/"), 403)

    manager = await admin_client(world, "demo.bj.manager")
    notifications = (await manager.get("/admin/api/tables/bankcrm_notification/")).json()
    assert own not in {r["id"] for r in notifications["rows"]}
    dead = await manager.get(
        "/admin/api/tables/bankcrm_notification_delivery/", params={"status": "dead"}
    )
    assert [(r["id"], r["last_error"]) for r in dead.json()["rows"]] == [
        (beijing, "pager number unknown to the gateway")
    ]
    manager.cookies.set("bankcrm_admin_lang", "zh-CN")
    schema = (await manager.get("/admin/api/tables/bankcrm_notification_delivery/schema/")).json()
    assert "原因" in str(schema)


@pytest.mark.usefixtures("paging")
async def test_deliveries_sent_together_are_recorded_each_with_its_outcome(
    world: World, pager: Pager
) -> None:
    pager.only = {"demo.bj.rm"}
    with bind_scope(world.system_scope()):
        async with db.transaction():
            notifications = await notify(
                [world.users[u] for u in ("demo.bj.rm", "demo.bj.manager", "demo.admin")],
                PAGED.key,
                {"name": "张三"},
                NotificationSource("dltest", "dltest_case", 1, world.branch("BJ-HD")),
            )
    ids = [(await pager_delivery(world, n))["id"] for n in notifications]
    scope = Scope(actor="system:test", branch_ids=frozenset(world.branches.values()))
    with bind_scope(scope):
        assert await send_deliveries(ids) == 3
    outcomes = [await pager_delivery(world, n) for n in notifications]
    assert [(o["status"], o["last_error"]) for o in outcomes] == [
        ("dead", "pager number unknown to the gateway"),
        ("sent", ""),
        ("sent", ""),
    ]
    assert sorted(pager.calls) == sorted(ids)
