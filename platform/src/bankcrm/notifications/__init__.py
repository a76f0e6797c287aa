"""Notifications (kernel service): a notification centre per user, sent after commit.

Plugins declare templates with ``register_notification_templates`` and call
:func:`notify` inside their business transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bankcrm.notifications.service import NotificationSource, able_to_receive, notify
    from bankcrm.notifications.templates import NotificationTemplate

__all__ = ["NotificationSource", "NotificationTemplate", "able_to_receive", "notify"]


def __getattr__(name: str) -> Any:
    # Lazy: the kernel's Piccolo app imports the tables module of this package at
    # configuration time, before the job runtime the service needs can be imported.
    if name in ("NotificationSource", "able_to_receive", "notify"):
        from bankcrm.notifications import service

        return getattr(service, name)
    if name == "NotificationTemplate":
        from bankcrm.notifications.templates import NotificationTemplate

        return NotificationTemplate
    raise AttributeError(name)
