"""When a scheduled report runs: a cron expression of five fields (minute, hour, day of
month, month, day of week; ``*``, lists ``1,15``, ranges ``1-5`` and steps ``*/15``), read
in the bank's time zone. ``0 8 * * 1`` is every Monday at 08:00, ``30 7 1 * *`` the first
of every month at 07:30. As in cron, when both the day of month and the day of week are
restricted, either matching is enough; Sunday is 0 or 7."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from bankcrm.business_calendar import DEFAULT_ZONE

FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day", 1, 31), ("month", 1, 12), ("weekday", 0, 7))
HORIZON_DAYS = 366 * 5
"""A schedule that never fires within this many days (``0 0 31 2 *``) is refused."""


class ScheduleError(ValueError):
    """The expression cannot be read; the message says which field and why."""


@dataclass(frozen=True)
class Schedule:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    """0 = Sunday … 6 = Saturday."""
    any_day: bool
    any_weekday: bool

    def day_matches(self, moment: datetime) -> bool:
        if moment.month not in self.months:
            return False
        weekday = (moment.weekday() + 1) % 7
        by_day, by_weekday = moment.day in self.days, weekday in self.weekdays
        if self.any_day or self.any_weekday:
            return by_day and by_weekday
        return by_day or by_weekday

    def next_after(self, moment: datetime, zone: tzinfo = DEFAULT_ZONE) -> datetime:
        """The first time strictly after ``moment`` that the schedule fires (aware)."""
        local = moment.astimezone(zone).replace(second=0, microsecond=0) + timedelta(minutes=1)
        day = local.replace(hour=0, minute=0)
        for offset in range(HORIZON_DAYS):
            candidate_day = day + timedelta(days=offset)
            if not self.day_matches(candidate_day):
                continue
            for hour in sorted(self.hours):
                for minute in sorted(self.minutes):
                    at = candidate_day.replace(hour=hour, minute=minute)
                    if at >= local:
                        return at
        raise ScheduleError(f"it never fires within {HORIZON_DAYS} days")


def _values(text: str, name: str, low: int, high: int) -> frozenset[int]:
    found: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        try:
            step = int(step_text) if step_text else 1
            if base == "*":
                start, end = low, high
            elif "-" in base:
                first, last = base.split("-", 1)
                start, end = int(first), int(last)
            else:
                start = int(base)
                end = high if step_text else start
        except ValueError:
            raise ScheduleError(f"{name}: {part!r} is not a number, range or step") from None
        if step < 1 or not low <= start <= end <= high:
            raise ScheduleError(f"{name}: {part!r} must lie within {low}-{high}")
        found.update(range(start, end + 1, step))
    return frozenset(found)


def parse(expression: str) -> Schedule:
    parts = expression.split()
    if len(parts) != len(FIELDS):
        raise ScheduleError(
            "five fields are needed: minute hour day-of-month month day-of-week (e.g. 0 8 * * 1)"
        )
    minutes, hours, days, months, weekdays = (
        _values(text, name, low, high)
        for text, (name, low, high) in zip(parts, FIELDS, strict=True)
    )
    schedule = Schedule(
        minutes, hours, days, months, frozenset(w % 7 for w in weekdays),
        any_day=parts[2] == "*", any_weekday=parts[4] == "*",
    )  # fmt: skip
    schedule.next_after(datetime.now(DEFAULT_ZONE))  # refuses one that never fires
    return schedule
