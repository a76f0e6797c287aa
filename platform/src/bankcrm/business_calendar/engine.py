"""Business-time arithmetic over one branch's calendar.

A :class:`BranchCalendar` turns the national calendar, the branch's weekly hours and its
overrides into one sorted timeline of working intervals (UTC microseconds since the
epoch) with the business time accumulated before each interval. Both services are then
a binary search: ``business_time_between`` subtracts two accumulated values and
``add_business_time`` inverts the accumulation, so a call costs microseconds however long
the duration.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

DEFAULT_TIMEZONE = "Asia/Shanghai"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


class DayKind(StrEnum):
    HOLIDAY = "holiday"
    """A public holiday or a day off moved by 调休: closed although it may be a weekday."""
    ADJUSTED_WORKDAY = "adjusted_workday"
    """A make-up working day (调休上班): open although it may be a Saturday or Sunday."""


class YearNotLoaded(LookupError):
    """The national calendar of ``year`` is not in the database, so no answer is safe."""

    def __init__(self, year: int) -> None:
        self.year = year
        super().__init__(
            f"the national calendar for {year} is not loaded; run "
            f"`bankcrm calendar load-year {year}` (with --from-file CSV when the package "
            f"does not carry {year}'s adjusted working days yet)"
        )


@dataclass(frozen=True)
class Shift:
    """Opening hours of one day: ``start``-``end``, minus an optional lunch break."""

    start: time
    end: time
    lunch_start: time | None = None
    lunch_end: time | None = None

    def __post_init__(self) -> None:
        if not self.start < self.end:
            raise ValueError(f"opening {self.start} must be before closing {self.end}")
        if (self.lunch_start is None) != (self.lunch_end is None):
            raise ValueError("a lunch break needs both its start and its end")
        if (
            self.lunch_start is not None
            and self.lunch_end is not None
            and not self.start < self.lunch_start < self.lunch_end < self.end
        ):
            raise ValueError(
                f"lunch {self.lunch_start}-{self.lunch_end} must lie inside {self.start}-{self.end}"
            )

    def periods(self) -> tuple[tuple[time, time], ...]:
        if self.lunch_start is None or self.lunch_end is None:
            return ((self.start, self.end),)
        return ((self.start, self.lunch_start), (self.lunch_end, self.end))


STANDARD_WEEK: Mapping[int, Shift] = {weekday: Shift(time(9), time(17)) for weekday in range(5)}
"""Hours of a deployment that has set none anywhere in the branch tree: Mon-Fri 9-17."""


@dataclass(frozen=True)
class BranchCalendar:
    """The working timeline of one branch over the loaded years."""

    timezone: ZoneInfo
    years: frozenset[int]
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    accumulated_before: tuple[int, ...]
    accumulated_after: tuple[int, ...]
    spans: tuple[tuple[int, int, int, int], ...]
    """Contiguous runs of loaded years: (first year, last year, start us, end us)."""

    @classmethod
    def build(
        cls,
        *,
        years: Iterable[int],
        national: Mapping[date, DayKind],
        week: Mapping[int, Shift],
        overrides: Mapping[date, Shift | None] | None = None,
        timezone: str = DEFAULT_TIMEZONE,
    ) -> BranchCalendar:
        """``week`` maps weekday (Monday 0) to hours; a make-up working day is worked
        with Monday's hours (the first weekday with hours if Monday has none), because
        it replaces an ordinary weekday. ``overrides`` beat everything: ``None`` closes
        the day, a :class:`Shift` sets its hours."""
        zone = ZoneInfo(timezone)
        loaded = sorted(set(years))
        overrides = overrides or {}
        workday_shift = next((week[d] for d in range(5) if d in week), None)
        starts: list[int] = []
        ends: list[int] = []
        before: list[int] = []
        after: list[int] = []
        total = 0
        spans: list[tuple[int, int, int, int]] = []
        for year in loaded:
            day = date(year, 1, 1)
            while day.year == year:
                if day in overrides:
                    shift = overrides[day]
                else:
                    kind = national.get(day)
                    if kind is DayKind.HOLIDAY:
                        shift = None
                    elif kind is DayKind.ADJUSTED_WORKDAY:
                        shift = week.get(day.weekday()) or workday_shift
                    else:
                        shift = week.get(day.weekday())
                if shift is not None:
                    for opening, closing in shift.periods():
                        start = _to_us(datetime.combine(day, opening, zone))
                        end = _to_us(datetime.combine(day, closing, zone))
                        starts.append(start)
                        ends.append(end)
                        before.append(total)
                        total += end - start
                        after.append(total)
                day += timedelta(days=1)
            year_start = _to_us(datetime(year, 1, 1, tzinfo=zone))
            year_end = _to_us(datetime(year + 1, 1, 1, tzinfo=zone))
            if spans and spans[-1][1] == year - 1:
                first, _, span_start, _ = spans[-1]
                spans[-1] = (first, year, span_start, year_end)
            else:
                spans.append((year, year, year_start, year_end))
        return cls(
            timezone=zone,
            years=frozenset(loaded),
            starts=tuple(starts),
            ends=tuple(ends),
            accumulated_before=tuple(before),
            accumulated_after=tuple(after),
            spans=tuple(spans),
        )

    def _span_of(self, instant: int) -> tuple[int, int, int, int]:
        for span in self.spans:
            if span[2] <= instant < span[3]:
                return span
        raise YearNotLoaded(_from_us(instant).astimezone(self.timezone).year)

    def _accumulated(self, instant: int) -> int:
        index = bisect.bisect_right(self.starts, instant) - 1
        if index < 0:
            return 0
        return self.accumulated_before[index] + min(instant, self.ends[index]) - self.starts[index]

    def add_business_time(self, start: datetime, duration: timedelta) -> datetime:
        """The earliest instant at or after ``start`` with ``duration`` of working time
        between them, in ``start``'s timezone. A zero duration returns ``start``."""
        origin = _to_us(_aware(start, "start"))
        amount = duration // _MICROSECOND
        if amount < 0:
            raise ValueError("the duration must not be negative")
        span = self._span_of(origin)
        if amount == 0:
            return start
        target = self._accumulated(origin) + amount
        index = bisect.bisect_left(self.accumulated_after, target)
        if index == len(self.starts) or self.starts[index] >= span[3]:
            raise YearNotLoaded(span[1] + 1)
        result = self.starts[index] + target - self.accumulated_before[index]
        return _from_us(result).astimezone(start.tzinfo)

    def business_time_between(self, earlier: datetime, later: datetime) -> timedelta:
        """Working time from ``earlier`` to ``later`` (negative when ``later`` is earlier)."""
        first = _to_us(_aware(earlier, "a"))
        second = _to_us(_aware(later, "b"))
        for instant in (first, second):
            self._span_of(instant)
        low, high = min(first, second), max(first, second)
        if self._span_of(low) != self._span_of(high):
            raise YearNotLoaded(self._span_of(low)[1] + 1)
        amount = self._accumulated(second) - self._accumulated(first)
        return timedelta(microseconds=amount)

    def is_working(self, instant: datetime) -> bool:
        """True when ``instant`` lies in an opening interval (its ends included)."""
        moment = _to_us(_aware(instant, "instant"))
        self._span_of(moment)
        index = bisect.bisect_right(self.starts, moment) - 1
        return index >= 0 and moment <= self.ends[index]


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")
    return value


def _to_us(value: datetime) -> int:
    return (value - _EPOCH) // _MICROSECOND


def _from_us(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)
