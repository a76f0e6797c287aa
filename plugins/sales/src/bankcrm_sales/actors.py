"""Background work of sales (see :mod:`.followups` for the follow-up sweep)."""

from __future__ import annotations

from typing import Any

from bankcrm.plugin_api import ScheduleSpec

ACTORS: list[Any] = []
SCHEDULES: list[ScheduleSpec] = []
