"""What a clerk reads in the admin's lists: times in their branch's zone in the Chinese
form (``2026年12月4日 14:05``), dates as ``2026年12月4日``; English keeps the ISO order
(``2026-12-04 14:05``).

piccolo-admin's list shows a value exactly as its API sends it, so the gate rewrites the
list pages it relays. Edit forms (one row) and the CSV export (pages larger than any list
page) keep the stored values: a form must post them back, a spreadsheet must read them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from piccolo.columns import Date, Timestamp, Timestamptz

from bankcrm.admin.screens import ScreenSpec
from bankcrm.workbench.rendering import localtime


def list_rows(spec: ScreenSpec, rows: list[dict[str, Any]], language: str, zone: ZoneInfo) -> None:
    """Rewrite the times and dates of a list page's ``rows`` for reading, in place."""
    kinds: dict[str, str] = {}
    for column in spec.table._meta.columns:
        if isinstance(column, Timestamptz | Timestamp):
            kinds[column._meta.name] = "time"
        elif isinstance(column, Date):
            kinds[column._meta.name] = "date"
    for row in rows:
        for name, kind in kinds.items():
            value = row.get(name)
            if not isinstance(value, str):
                continue
            try:
                # A time without zone (``Timestamp``) has no offset: shown as stored.
                parsed = (
                    date.fromisoformat(value) if kind == "date" else datetime.fromisoformat(value)
                )
                row[name] = localtime(parsed, language, zone)
            except ValueError:
                continue
