"""Labels of enumerated values: what staff read instead of stored codes.

Plugins declare them (``register_enumerations``); the kernel collects them at boot and
refuses an enumeration that misses a label. :func:`label_of` answers a value's label for a
plugin's field in the viewer's language, and the value itself when nothing is declared.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

from bankcrm.plugin_api import Enumeration, Label
from bankcrm.plugins import PluginRegistry

_by_field: dict[tuple[str, str], Enumeration] = {}


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


__all__ = ["EnumerationError", "enumeration", "install", "label_of"]
