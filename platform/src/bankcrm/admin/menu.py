"""The admin's menu: the screens a user sees, grouped and titled in the UI language.

piccolo-admin's sidebar lists table names under group titles (``tables/grouped/``); the
kernel's script (:mod:`bankcrm.admin.ui`) shows each screen's title in place of its table
name.
"""

from __future__ import annotations

from typing import Any

from bankcrm.admin.language import text
from bankcrm.admin.screens import ScreenSpec
from bankcrm.plugins import KERNEL_PLUGIN_NAME


def grouped(visible: list[ScreenSpec], language: str) -> dict[str, Any]:
    """Each plugin's screens under its group title, in the order the plugin declared them
    (its main list first), the kernel's groups after the plugins'."""
    groups: dict[str, list[str]] = {}
    ordered = sorted(visible, key=lambda s: s.plugin == KERNEL_PLUGIN_NAME)
    for spec in ordered:
        groups.setdefault(text(spec.group, language), []).append(spec.tablename)
    return {"grouped": groups, "ungrouped": []}
