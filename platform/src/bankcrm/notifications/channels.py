"""Notification channels: the kernel's in-app and e-mail channels, and those plugins add.

A channel is a name, zh-CN and English labels and an async ``send``. ``send`` raises
:class:`DeliveryRefused` when retrying cannot help (no address, the server rejected the
recipient): the delivery is dead-lettered at once with the reason. Any other exception,
and running longer than :data:`SEND_TIMEOUT_SECONDS`, is retried with back-off and
dead-lettered after :data:`MAX_ATTEMPTS` attempts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from bankcrm.plugins import KERNEL_PLUGIN_NAME, PluginRegistry

IN_APP = "in_app"
EMAIL = "email"

MAX_ATTEMPTS = 6
SEND_TIMEOUT_SECONDS = 60.0
FIRST_BACKOFF_SECONDS = 30
MAX_BACKOFF_SECONDS = 3600


def backoff_seconds(attempts: int) -> int:
    """Wait before attempt ``attempts + 1``: 30 s, 1, 2, 4, 8 min ..., at most an hour."""
    return int(min(FIRST_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS))


class DeliveryRefused(Exception):
    """Permanent: retrying cannot help. The message is the reason administrators see."""


@dataclass(frozen=True)
class OutgoingNotification:
    """What a channel sends: one notification to one recipient, in both languages."""

    delivery_id: int
    idempotency_key: str
    """Stable across retries of this delivery: pass it on where the transport takes one
    (the e-mail channel makes it the Message-ID), so a receiver can drop a repeat."""
    channel: str
    attempt: int
    recipient_id: int
    recipient_username: str
    recipient_email: str
    template: str
    title_zh: str
    body_zh: str
    title_en: str
    body_en: str
    source: dict[str, Any]


SendFunction = Callable[[OutgoingNotification], Awaitable[None]]


@dataclass(frozen=True)
class NotificationChannel:
    name: str
    label_zh: str
    label_en: str
    send: SendFunction | None
    """None only for the in-app channel, whose delivery is the notification row itself."""
    deferred_in_quiet_hours: bool = True
    """Held until a recipient's quiet hours end (in-app notifications are never held)."""


IN_APP_CHANNEL = NotificationChannel(IN_APP, "站内通知", "In-app", None, False)


class ChannelCatalogue:
    def __init__(self, channels: dict[str, NotificationChannel]) -> None:
        self.channels = channels

    def get(self, name: str) -> NotificationChannel | None:
        return self.channels.get(name)


def _checked(plugin: str, offered: Iterable[Any], known: dict[str, NotificationChannel]) -> None:
    for item in offered:
        if not isinstance(item, NotificationChannel):
            raise TypeError(f"{plugin}: {item!r} is not a NotificationChannel")
        if plugin != KERNEL_PLUGIN_NAME and not item.name.startswith(f"{plugin}."):
            raise ValueError(f"{plugin}: channel {item.name!r} must be named '{plugin}.<name>'")
        if item.name in known:
            raise ValueError(f"{plugin}: channel {item.name!r} is declared twice")
        known[item.name] = item


def collect_channels(registry: PluginRegistry) -> ChannelCatalogue:
    known: dict[str, NotificationChannel] = {}
    for plugin, offered in registry.call_each("register_notification_channels"):
        _checked(plugin, offered or (), known)
    return ChannelCatalogue(known)
