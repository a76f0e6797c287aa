"""E-mail delivery: SMTP and file mail, retries with back-off, dead letters, a killed worker."""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiosmtpd.controller import Controller

from bankcrm import db
from bankcrm.context import Scope, bind_scope
from bankcrm.notifications import NotificationSource, NotificationTemplate, mail, notify, service
from bankcrm.notifications.channels import MAX_ATTEMPTS
from bankcrm.notifications.delivery import send_deliveries
from bankcrm.plugins import PluginCandidate
from bankcrm.runtime import Kernel
from bankcrm.settings import MailSettings
from bankcrm_sdk.world import World

MAILED = NotificationTemplate(
    key="mailtest.review_due",
    category="mailtest",
    title_zh="复核到期：$name",
    body_zh="请复核 $name。",
    title_en="Review due: $name",
    body_en="Please review $name.",
    channels=("in_app", "email"),
)


class Mailbox:
    """A local SMTP server's handler that keeps one mail per Message-ID, as a receiving
    system that honours the idempotency key does."""

    def __init__(self) -> None:
        self.messages: dict[str, bytes] = {}
        self.arrivals = 0
        self.mode = "accept"
        self.reached = threading.Event()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.mode == "refuse":
            return "550 5.1.1 mailbox unavailable"
        if self.mode == "busy":
            return "451 4.3.0 try again later"
        if self.mode == "hang_before_data":
            self.reached.set()
            await asyncio.sleep(3600)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        key = email.message_from_bytes(envelope.content)["Message-ID"]
        self.messages.setdefault(key, envelope.content)
        self.arrivals += 1
        if self.mode == "hang_after_storing":
            self.reached.set()
            await asyncio.sleep(3600)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    handler = Mailbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


@pytest.fixture
def templates(
    kernel: Kernel,
    kernel_with: Callable[[list[PluginCandidate]], Kernel],
    make_plugin: Callable[..., PluginCandidate],
) -> Iterator[Kernel]:
    plugin = make_plugin("mailtest", hooks={"register_notification_templates": lambda: [MAILED]})
    with_templates = kernel_with([plugin])
    service.install(with_templates.registry, kernel.settings)
    yield with_templates
    service.install(kernel.registry, kernel.settings)


def smtp_settings(kernel: Kernel, port: int, timeout: float = 5.0) -> MailSettings:
    return replace(
        kernel.settings.mail, smtp_host="127.0.0.1", smtp_port=port, smtp_timeout=timeout
    )


@pytest.fixture
def smtp(kernel: Kernel, mailbox: tuple[Mailbox, int]) -> Iterator[Mailbox]:
    handler, port = mailbox
    mail.configure(smtp_settings(kernel, port, timeout=2.0))
    yield handler
    mail.configure(kernel.settings.mail)


def all_branches(world: World, actor: str = "system:test") -> Scope:
    return Scope(actor=actor, branch_ids=frozenset(world.branches.values()), is_superuser=True)


async def send(world: World, username: str = "demo.bj.rm") -> list[int]:
    """Notify and return the e-mail delivery ids."""
    with bind_scope(world.system_scope()):
        async with db.transaction():
            [notification] = await notify(
                [world.users[username]],
                MAILED.key,
                {"name": "张三"},
                NotificationSource("mailtest", "mailtest_case", 7, world.branch("BJ-HD")),
            )
        rows = await db.fetch(
            "SELECT id FROM bankcrm_notification_delivery WHERE notification = $1"
            " AND channel = 'email'",
            notification,
        )
    return [row["id"] for row in rows]


async def state(world: World, delivery_id: int) -> dict[str, Any]:
    with bind_scope(all_branches(world)):
        row = await db.fetchrow(
            "SELECT status, attempts, last_error, next_attempt_at > now() AS later"
            " FROM bankcrm_notification_delivery WHERE id = $1",
            delivery_id,
        )
    assert row is not None
    return dict(row)


async def due_now(world: World, delivery_id: int) -> None:
    """Let the back-off or lease pass (the clock cannot be moved in the database)."""
    owner = await asyncpg.connect(world.kernel.owner_url)
    try:
        await owner.execute(
            "UPDATE bankcrm_notification_delivery SET next_attempt_at = now() - interval '1 s'"
            " WHERE id = $1",
            delivery_id,
        )
    finally:
        await owner.close()


async def deliver(world: World, ids: list[int]) -> int:
    with bind_scope(all_branches(world)):
        return await send_deliveries(ids)


@pytest.mark.usefixtures("templates")
async def test_a_mail_goes_out_once_with_the_key_as_message_id(world: World, smtp: Mailbox) -> None:
    [delivery] = await send(world)
    assert await deliver(world, [delivery]) == 1
    assert await deliver(world, [delivery]) == 0  # the message arriving again sends nothing
    [(key, content)] = smtp.messages.items()
    message = email.message_from_bytes(content)
    assert key.endswith(".email@bankcrm.notifications>")
    assert message["To"] == "demo.bj.rm@demo.bankcrm.local"
    assert "请复核 张三" in message.get_payload(decode=True).decode()
    assert (await state(world, delivery))["status"] == "sent"


@pytest.mark.usefixtures("templates")
async def test_a_refusing_server_dead_letters_at_once_with_the_reason(
    world: World, smtp: Mailbox
) -> None:
    smtp.mode = "refuse"
    [delivery] = await send(world)
    await deliver(world, [delivery])
    after = await state(world, delivery)
    assert after["status"] == "dead"
    assert after["attempts"] == 1
    assert "550" in after["last_error"]
    assert "mailbox unavailable" in after["last_error"]


@pytest.mark.usefixtures("templates")
@pytest.mark.parametrize(("mode", "reason"), [("busy", "451"), ("hang_before_data", "imed out")])
async def test_a_busy_or_hanging_server_is_retried_with_back_off_then_dead_lettered(
    world: World, smtp: Mailbox, mode: str, reason: str
) -> None:
    smtp.mode = mode
    [delivery] = await send(world)
    await deliver(world, [delivery])
    first = await state(world, delivery)
    assert (first["status"], first["attempts"], first["later"]) == ("pending", 1, True)
    assert reason in first["last_error"]
    assert await deliver(world, [delivery]) == 0  # backing off
    smtp.mode = "busy"  # no more waiting for the hanging variant
    for _ in range(MAX_ATTEMPTS - 1):
        await due_now(world, delivery)
        assert await deliver(world, [delivery]) == 1
    last = await state(world, delivery)
    assert (last["status"], last["attempts"]) == ("dead", MAX_ATTEMPTS)
    assert "451" in last["last_error"]


@pytest.mark.usefixtures("templates")
async def test_no_server_at_all_is_retried(world: World, kernel: Kernel) -> None:
    mail.configure(smtp_settings(kernel, free_port(), timeout=2.0))
    try:
        [delivery] = await send(world)
        await deliver(world, [delivery])
    finally:
        mail.configure(kernel.settings.mail)
    after = await state(world, delivery)
    assert (after["status"], after["attempts"]) == ("pending", 1)
    assert after["last_error"]


@pytest.mark.usefixtures("templates")
async def test_file_mail_writes_one_eml_per_delivery(
    world: World, kernel: Kernel, tmp_path: Path
) -> None:
    mail.configure(replace(kernel.settings.mail, smtp_host="", mail_dir=tmp_path))
    try:
        [delivery] = await send(world)
        await deliver(world, [delivery])
        await due_now(world, delivery)
        owner = await asyncpg.connect(world.kernel.owner_url)
        try:  # as if the worker died after writing, before recording it
            await owner.execute(
                "UPDATE bankcrm_notification_delivery SET status = 'sending' WHERE id = $1",
                delivery,
            )
        finally:
            await owner.close()
        await deliver(world, [delivery])
    finally:
        mail.configure(kernel.settings.mail)
    [written] = await asyncio.to_thread(lambda: [p.read_bytes() for p in tmp_path.glob("*.eml")])
    message = email.message_from_bytes(written, policy=email.policy.default)
    assert message["Subject"] == "复核到期：张三"
    assert (await state(world, delivery))["status"] == "sent"


WORKER = """
import asyncio, sys
from bankcrm.context import Scope, bind_scope
from bankcrm.notifications.delivery import send_deliveries
from bankcrm.runtime import boot

async def main() -> None:
    kernel = await boot()
    branches = frozenset(int(b) for b in sys.argv[2].split(","))
    with bind_scope(Scope(actor="system:worker", branch_ids=branches, is_superuser=True)):
        await send_deliveries([int(sys.argv[1])])
    await kernel.disconnect()

asyncio.run(main())
"""


@pytest.mark.usefixtures("templates")
@pytest.mark.parametrize("mode", ["hang_before_data", "hang_after_storing"])
async def test_a_worker_killed_mid_send_delivers_exactly_one_mail(
    world: World, kernel: Kernel, mailbox: tuple[Mailbox, int], mode: str
) -> None:
    handler, port = mailbox
    handler.mode = mode
    [delivery] = await send(world)
    environment = {
        **os.environ,
        "BANKCRM_DATABASE_URL": kernel.owner_url,
        "BANKCRM_PLUGINS": "",
        "BANKCRM_SMTP_HOST": "127.0.0.1",
        "BANKCRM_SMTP_PORT": str(port),
        "BANKCRM_SMTP_TIMEOUT": "600",
    }
    branches = ",".join(str(b) for b in world.branches.values())
    worker = await asyncio.create_subprocess_exec(
        sys.executable, "-c", WORKER, str(delivery), branches, env=environment
    )
    try:
        for _ in range(1200):
            if handler.reached.is_set() or worker.returncode is not None:
                break
            await asyncio.sleep(0.1)
        assert handler.reached.is_set(), "the worker never reached the mail server"
    finally:
        if worker.returncode is None:
            worker.send_signal(signal.SIGKILL)
        await worker.wait()
    claimed = await state(world, delivery)
    assert (claimed["status"], claimed["attempts"]) == ("sending", 1)
    assert await deliver(world, [delivery]) == 0  # the dead worker's lease still holds
    handler.mode = "accept"
    await due_now(world, delivery)
    mail.configure(smtp_settings(kernel, port))
    try:
        assert await deliver(world, [delivery]) == 1
    finally:
        mail.configure(kernel.settings.mail)
    assert len(handler.messages) == 1
    assert handler.arrivals == (2 if mode == "hang_after_storing" else 1)
    done = await state(world, delivery)
    assert (done["status"], done["attempts"]) == ("sent", 2)


def outgoing(title: str, address: str = "demo.bj.rm@demo.bankcrm.local") -> Any:
    from bankcrm.notifications.channels import OutgoingNotification

    return OutgoingNotification(
        delivery_id=1,
        idempotency_key="0b7c9a52-5d0e-4d1e-9a43-2f6a0c0b1d11:email",
        channel="email",
        attempt=1,
        recipient_id=1,
        recipient_username="demo.bj.rm",
        recipient_email=address,
        template=MAILED.key,
        title_zh=title,
        body_zh="请复核 张三。\n第二行",
        title_en="Review due",
        body_en="Please review.",
        source={"plugin": "mailtest", "table": "mailtest_case", "id": "7", "branch_id": 1},
    )


@pytest.mark.parametrize(
    "title",
    [
        "复核到期：张三",
        "Review due",
        "复核" * 120,
        "复核\r\nBcc: someone@evil.example",
        "x\nTo: a@b",
    ],
)
def test_mails_parse_back_and_parameters_cannot_add_headers(title: str) -> None:
    raw = mail.compose(outgoing(title), "银行 CRM <bankcrm@localhost>")
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["Subject"] == " ".join(title.splitlines())
    assert message["Bcc"] is None
    assert message.get_all("To") == ["demo.bj.rm@demo.bankcrm.local"]
    assert message["From"] == "银行 CRM <bankcrm@localhost>"
    assert (
        message["Message-ID"]
        == "<0b7c9a52-5d0e-4d1e-9a43-2f6a0c0b1d11.email@bankcrm.notifications>"
    )
    body = message.get_content()
    assert body.startswith("请复核 张三。\n第二行\n\n-- \nReview due")
    assert max(len(line) for line in raw.splitlines()) <= 78
