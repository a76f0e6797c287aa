"""Notification templates: declared by plugins, rendered in zh-CN and English at send time."""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bankcrm.plugins import KERNEL_PLUGIN_NAME, PluginRegistry
from bankcrm.web.problems import invalid


@dataclass(frozen=True)
class NotificationTemplate:
    """One kind of notification. Texts use ``string.Template`` placeholders (``$name`` or
    ``${name}``); every placeholder must be given in ``params`` when sending."""

    key: str
    """``<plugin>.<what>``, e.g. ``sales.lead_assigned``."""
    category: str
    """Preferences are kept per category (e.g. ``sales``, ``security``)."""
    title_zh: str
    body_zh: str
    title_en: str
    body_en: str
    channels: tuple[str, ...] = ("in_app",)
    """The channels used unless the recipient turned them off."""
    mandatory: bool = False
    """The recipient cannot turn in-app off for it (security alerts, approvals due): it
    always reaches the notification centre unread. Needs ``in_app`` among the channels."""
    urgent: bool = False
    """Sent on every channel at once, also during the recipient's quiet hours."""


@dataclass(frozen=True)
class Rendered:
    title_zh: str
    body_zh: str
    title_en: str
    body_en: str


def render(template: NotificationTemplate, params: Mapping[str, Any]) -> Rendered:
    values = {key: str(value) for key, value in params.items()}
    texts = []
    for text in (template.title_zh, template.body_zh, template.title_en, template.body_en):
        try:
            texts.append(string.Template(text).substitute(values))
        except KeyError as exc:
            raise invalid(
                f"params.{exc.args[0]}", f"template {template.key!r} needs this parameter"
            ) from None
        except ValueError as exc:
            raise invalid("params", f"template {template.key!r} cannot use them: {exc}") from exc
    return Rendered(*texts)


class TemplateCatalogue:
    """The templates of one plugin registry, by key."""

    def __init__(self, templates: Mapping[str, NotificationTemplate]) -> None:
        self.templates = dict(templates)

    def categories(self) -> dict[str, list[NotificationTemplate]]:
        """Templates by category, as preferences are kept."""
        found: dict[str, list[NotificationTemplate]] = {}
        for template in sorted(self.templates.values(), key=lambda t: t.key):
            found.setdefault(template.category, []).append(template)
        return dict(sorted(found.items()))

    def mandatory_keys(self) -> list[str]:
        return sorted(key for key, template in self.templates.items() if template.mandatory)

    def get(self, key: str) -> NotificationTemplate:
        try:
            return self.templates[key]
        except KeyError:
            raise invalid("template", f"no notification template named {key!r}") from None


def _checked(plugin: str, offered: Iterable[Any], known: dict[str, NotificationTemplate]) -> None:
    for item in offered:
        if not isinstance(item, NotificationTemplate):
            raise TypeError(f"{plugin}: {item!r} is not a NotificationTemplate")
        if plugin != KERNEL_PLUGIN_NAME and not item.key.startswith(f"{plugin}."):
            raise ValueError(f"{plugin}: template {item.key!r} must be named '{plugin}.<name>'")
        if item.key in known:
            raise ValueError(f"{plugin}: template {item.key!r} is declared twice")
        if item.mandatory and "in_app" not in item.channels:
            raise ValueError(f"{plugin}: mandatory template {item.key!r} must use 'in_app'")
        if not item.category:
            raise ValueError(f"{plugin}: template {item.key!r} needs a category")
        known[item.key] = item


def collect_templates(registry: PluginRegistry) -> TemplateCatalogue:
    """Templates of the kernel and every plugin (``register_notification_templates``)."""
    known: dict[str, NotificationTemplate] = {}
    for plugin, offered in registry.call_each("register_notification_templates"):
        _checked(plugin, offered or (), known)
    return TemplateCatalogue(known)
