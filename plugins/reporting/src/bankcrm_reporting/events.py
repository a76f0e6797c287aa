"""Domain events of the plugin (with :mod:`.services`, importable by other plugins).

Reporting emits none yet; the declaration stays so that the plugin's shape is the
kernel's."""

from __future__ import annotations

from bankcrm.plugin_api import EventSpec

EVENTS: tuple[EventSpec, ...] = ()
