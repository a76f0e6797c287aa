"""Showing the archive's values in the clerk's terms on staff pages: labels of keys and
enumerated codes, Chinese dates, money, branch names instead of ids, masked fields marked
for the reveal form, and dated amounts as an SVG line chart."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from markupsafe import Markup, escape

from bankcrm import branches, labels
from bankcrm.plugin_api import AdminScreen, Label, PluginHooks
from bankcrm.workbench import localtime, money
from bankcrm_customer_archive.manifest import MANIFEST
from bankcrm_customer_archive.section_labels import HIDDEN_KEYS, SECTION_LABELS

PLUGIN = MANIFEST.name
MASKED = frozenset({"id_number", "phone", "email"})
"""Keys of the profile whose values are masked until revealed."""
MONEY_KEYS = frozenset(
    {"aum", "balance", "amount", "registered_capital", "credit", "total", "limit", "value"}
)


_columns: dict[int, dict[str, Label]] = {}


def column_labels(registry: PluginHooks) -> dict[str, Label]:
    """Every admin screen's column labels, by column name: the fallback for section keys
    (collected once per running kernel)."""
    cached = _columns.get(id(registry))
    if cached is not None:
        return cached
    found: dict[str, Label] = {}
    for _, screens in registry.call_each("register_admin"):
        for screen in screens or ():
            if isinstance(screen, AdminScreen):
                for name, label in screen.columns.items():
                    found.setdefault(name, label)
    _columns[id(registry)] = found
    return found


class Formatter:
    """What a template needs to show any section's values in the viewer's terms."""

    def __init__(
        self, registry: PluginHooks, language: str, branch_names: Mapping[int, str]
    ) -> None:
        self.language = language
        self.columns = column_labels(registry)
        self.branch_names = branch_names

    def shown(self, key: str) -> bool:
        return key not in HIDDEN_KEYS

    def label(self, key: str, section: Mapping[str, Any], parent: str | None = None) -> str:
        declared: Mapping[str, Mapping[str, str]] = section.get("labels") or {}
        found = declared.get(f"{parent}.{key}") if parent else None
        found = found or declared.get(key)
        if found:
            return found["en" if self.language == "en" else "zh"]
        if parent:
            # A mapping keyed by an enumerated value (open products by category).
            value = labels.label_of(str(section.get("plugin", PLUGIN)), parent, key, self.language)
            if value is not None:
                return value
        own = SECTION_LABELS.get(f"{parent}.{key}") or SECTION_LABELS.get(key)
        if own is not None and section.get("plugin") == PLUGIN:
            return own.en if self.language == "en" else own.zh
        column = self.columns.get(key)
        if column is not None:
            return column.en if self.language == "en" else column.zh
        return key.replace("_", " ")

    def value(
        self, value: Any, key: str = "", plugin: str = PLUGIN, parent: str | None = None
    ) -> Markup | str:
        if value is None or value == "":
            return "—"
        if isinstance(value, bool):
            return (
                ("Yes" if value else "No") if self.language == "en" else ("是" if value else "否")
            )
        if isinstance(value, datetime | date):
            return localtime(value, self.language)
        if key == "branch_id" and isinstance(value, int):
            return self.branch_names.get(value, str(value))
        enumerated = labels.label_of(plugin, key, value, self.language, parent)
        if enumerated is not None:
            return enumerated
        if isinstance(value, Decimal) or (isinstance(value, int | float) and key in MONEY_KEYS):
            return money(value)
        if key in MASKED and parent in (None, "customer"):
            return Markup('<span class="masked" data-masked="{}">{}</span>').format(key, value)
        return str(value)


def is_records(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def chart(points: list[dict[str, Any]], language: str) -> Markup | None:
    """A line chart (SVG) of dated amounts: the first date key against the first number."""
    if len(points) < 2:
        return None
    first = points[0]
    x_key = next((k for k, v in first.items() if isinstance(v, date)), None)
    y_key = next((k for k, v in first.items() if isinstance(v, Decimal | int | float)), None)
    if x_key is None or y_key is None:
        return None
    values = [float(p[y_key]) for p in points]
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    width, height, pad = 640, 180, 30
    step = (width - 2 * pad) / (len(points) - 1)
    coordinates = " ".join(
        f"{pad + i * step:.1f},{height - pad - (v - low) / span * (height - 2 * pad):.1f}"
        for i, v in enumerate(values)
    )
    start, end = points[0][x_key], points[-1][x_key]
    return Markup(
        '<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{label}">'
        '<line class="axis" x1="{p}" y1="{b}" x2="{r}" y2="{b}"/>'
        '<polyline class="line" points="{pts}"/>'
        '<text x="{p}" y="{t}">{high}</text><text x="{p}" y="{bt}">{low}</text>'
        '<text x="{p}" y="{h}">{start}</text><text x="{r}" y="{h}" text-anchor="end">{end}</text>'
        "</svg>"
    ).format(
        w=width, h=height - 4, p=pad, r=width - pad, b=height - pad, t=pad - 8,
        bt=height - pad - 4, pts=coordinates, high=money(high), low=money(low),
        start=localtime(start, language), end=localtime(end, language),
        label=escape(f"{y_key} {localtime(start, language)} – {localtime(end, language)}"),
    )  # fmt: skip


async def branch_names(language: str) -> dict[int, str]:
    tree = await branches.snapshot()
    return {
        node.id: (node.name_en or node.name) if language == "en" else node.name
        for node in tree.nodes.values()
    }


__all__ = ["Formatter", "branch_names", "chart", "column_labels", "is_records"]
