"""The admin's menu: the screens a user sees, grouped and titled in the UI language.

piccolo-admin's sidebar lists table names under group titles (``tables/grouped/``); the
screens' own titles are offered beside them as links (``links/``).
"""

from __future__ import annotations

from typing import Any

from bankcrm.admin.language import text
from bankcrm.admin.screens import ScreenSpec


def grouped(visible: list[ScreenSpec], language: str) -> dict[str, Any]:
    groups: dict[str, list[str]] = {}
    for spec in visible:
        groups.setdefault(text(spec.group, language), []).append(spec.tablename)
    return {
        "grouped": {title: sorted(groups[title]) for title in sorted(groups)},
        "ungrouped": [],
    }


def links(visible: list[ScreenSpec], language: str) -> dict[str, str]:
    """The screens' titles as sidebar links: the menu itself can only show table names."""
    found: dict[str, str] = {}
    for spec in sorted(visible, key=lambda s: (s.group.zh, s.tablename)):
        title = text(spec.screen.title, language)
        if title in found:
            title = f"{title} ({spec.plugin})"
        found[title] = f"#/{spec.tablename}/"
    return found
