"""Labels of enumerated values: what staff read instead of stored codes.

Plugins declare them (``register_enumerations``); the kernel collects them at boot and
refuses an enumeration that misses a label. :func:`label_of` answers a value's label for a
plugin's field in the viewer's language, and the value itself when nothing is declared.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from enum import Enum
from typing import Any

from bankcrm.plugin_api import Enumeration, Label
from bankcrm.plugins import PluginRegistry

_by_field: dict[tuple[str, str], Enumeration] = {}
_language: ContextVar[str] = ContextVar("bankcrm_label_language", default="zh")


def use_language(language: str) -> None:
    """The language ``*_label`` fields of this request are given in (set per request from
    the browser's choice; Chinese outside requests)."""
    _language.set(language)


def labels_of(plugin: str, values: Mapping[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    """``{"<field>_label": label}`` of each enumerated field of ``values`` in the request's
    language (None where the value is empty or not enumerated): what REST answers carry
    beside the stored codes."""
    language = _language.get()
    return {f"{f}_label": label_of(plugin, f, values.get(f), language) for f in fields}


class EnumerationError(ValueError):
    """An enumeration that cannot be shown: said at boot."""


def enumeration(
    name: str, enum: type[Enum], fields: Iterable[str], **labels: tuple[str, str]
) -> Enumeration:
    """An :class:`Enumeration` of ``enum`` whose labels are given by member name;
    a member without a label is refused here, when the plugin is imported."""
    missing = [member.name for member in enum if member.name not in labels]
    unknown = sorted(set(labels) - {member.name for member in enum})
    if missing or unknown:
        raise EnumerationError(
            f"enumeration {name}: labels missing for {missing}; labels of unknown members {unknown}"
        )
    return Enumeration(
        name,
        tuple(fields),
        {str(member.value): Label(*labels[member.name]) for member in enum},
    )


def install(registry: PluginRegistry) -> None:
    found: dict[tuple[str, str], Enumeration] = {}
    for plugin, answer in registry.call_each("register_enumerations"):
        for item in answer or ():
            if not isinstance(item, Enumeration):
                raise EnumerationError(f"{plugin}: {item!r} is not an Enumeration")
            if not item.labels:
                raise EnumerationError(f"{plugin}: enumeration {item.name} has no labels")
            for name in item.fields:
                found[(plugin, name)] = item
    _by_field.clear()
    _by_field.update(found)


def choice_labels(
    plugin: str, field: str, values: Iterable[str], language: str = "zh"
) -> dict[str, str] | None:
    """Labels of a column's choices when ``plugin`` declared an enumeration for ``field``
    with exactly these values (a same-named field of another table — an address's
    ``kind`` — has other values and is left alone); None otherwise."""
    wanted = {str(v) for v in values}
    for name in (field, *(f for (p, f) in _by_field if p == plugin and f.endswith("." + field))):
        item = _by_field.get((plugin, name))
        if item is not None and set(item.labels) == wanted:
            return {v: (lb.en if language == "en" else lb.zh) for v, lb in item.labels.items()}
    return None


def label_of(
    plugin: str, field: str, value: object, language: str = "zh", parent: str | None = None
) -> str | None:
    """The label of ``value`` under ``plugin``'s ``field`` (inside ``parent``, when the
    plugin declared ``parent.field``); None when not enumerated."""
    item = _by_field.get((plugin, f"{parent}.{field}")) if parent else None
    item = item or _by_field.get((plugin, field))
    if item is None or value is None:
        return None
    label = item.labels.get(str(value))
    if label is None:
        return None
    return label.en if language == "en" else label.zh


__all__ = [
    "EnumerationError",
    "choice_labels",
    "enumeration",
    "install",
    "label_of",
    "labels_of",
    "use_language",
]
