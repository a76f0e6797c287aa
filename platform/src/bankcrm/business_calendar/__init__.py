"""Business calendar: working hours per branch over the national calendar with 调休.

Plugins use :class:`BranchCalendar` through the kernel services (see
``docs/plugin-authors.md``); the national calendar is seeded from the ``holidays``
package (:func:`national.from_package`) into an editable table.
"""

from bankcrm.business_calendar.engine import (
    DEFAULT_TIMEZONE,
    STANDARD_WEEK,
    BranchCalendar,
    DayKind,
    Shift,
    YearNotLoaded,
)

__all__ = [
    "DEFAULT_TIMEZONE",
    "STANDARD_WEEK",
    "BranchCalendar",
    "DayKind",
    "Shift",
    "YearNotLoaded",
]
