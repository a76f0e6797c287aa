"""Background work of mining (training and scoring jobs join here)."""

from __future__ import annotations

from typing import Any

from bankcrm.plugin_api import ScheduleSpec

ACTORS: list[Any] = []
SCHEDULES: list[ScheduleSpec] = []
