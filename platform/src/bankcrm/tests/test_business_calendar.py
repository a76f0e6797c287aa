"""The business calendar: 2026's Spring Festival and National Day weeks with their 调休,
and hypothesis properties of ``add_business_time`` / ``business_time_between``."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bankcrm.business_calendar import BranchCalendar, DayKind, Shift, YearNotLoaded
from bankcrm.business_calendar.national import from_package

SHANGHAI = ZoneInfo("Asia/Shanghai")
BANK_WEEK = {weekday: Shift(time(9), time(17), time(12), time(13)) for weekday in range(5)}
"""Seven working hours a day, lunch 12-13."""

MAKE_UP_DAYS_2026 = [
    date(2026, 1, 4),
    date(2026, 2, 14),
    date(2026, 2, 28),
    date(2026, 5, 9),
    date(2026, 9, 20),
    date(2026, 10, 10),
]


def _national(*years: int) -> dict[date, DayKind]:
    return {d.day: d.kind for year in years for d in from_package(year).days}


@pytest.fixture(scope="module")
def calendar() -> BranchCalendar:
    return BranchCalendar.build(years=[2026, 2027], national=_national(2026, 2027), week=BANK_WEEK)


def _at(day: date, hour: int, minute: int = 0, zone: ZoneInfo = SHANGHAI) -> datetime:
    return datetime.combine(day, time(hour, minute), zone)


def test_the_package_carries_all_six_make_up_days_of_2026_and_none_of_2027() -> None:
    year_2026 = from_package(2026)
    assert year_2026.adjusted_days_known
    assert [d.day for d in year_2026.days if d.kind is DayKind.ADJUSTED_WORKDAY] == (
        MAKE_UP_DAYS_2026
    )
    year_2027 = from_package(2027)
    assert not year_2027.adjusted_days_known
    assert date(2027, 2, 8) in {d.day for d in year_2027.days}


def test_spring_festival_2026_closes_feb_15_to_23_and_works_two_saturdays(
    calendar: BranchCalendar,
) -> None:
    working = [
        day
        for offset in range(0, 20)
        if calendar.is_working(_at(day := date(2026, 2, 12) + timedelta(days=offset), 10))
    ]
    assert working == [
        date(2026, 2, 12),
        date(2026, 2, 13),
        date(2026, 2, 14),  # Saturday, make-up working day
        date(2026, 2, 24),
        date(2026, 2, 25),
        date(2026, 2, 26),
        date(2026, 2, 27),
        date(2026, 2, 28),  # Saturday, make-up working day
        date(2026, 3, 2),
        date(2026, 3, 3),
    ]
    # A Friday afternoon request due in 7 business hours: Saturday the 14th, then the
    # holiday, so the next hour after that is on the 24th.
    assert calendar.add_business_time(_at(date(2026, 2, 13), 16), timedelta(hours=7)) == _at(
        date(2026, 2, 14), 16
    )
    assert calendar.add_business_time(_at(date(2026, 2, 14), 16), timedelta(hours=2)) == _at(
        date(2026, 2, 24), 10
    )
    assert calendar.business_time_between(
        _at(date(2026, 2, 14), 17), _at(date(2026, 2, 24), 9)
    ) == timedelta(0)


def test_national_day_2026_a_weekday_off_and_a_saturday_at_work(calendar: BranchCalendar) -> None:
    assert calendar.is_working(_at(date(2026, 9, 20), 10))  # Sunday, make-up day
    assert calendar.is_working(_at(date(2026, 10, 10), 10))  # Saturday, make-up day
    # Oct 1-7 off, among them Tuesday the 6th and Wednesday the 7th (moved by 调休).
    for day in range(1, 8):
        assert not calendar.is_working(_at(date(2026, 10, day), 10)), day
    assert calendar.is_working(_at(date(2026, 10, 8), 10))
    assert calendar.add_business_time(_at(date(2026, 9, 30), 16), timedelta(hours=2)) == _at(
        date(2026, 10, 8), 10
    )
    # Sep 28-30 and Oct 8-10: six days of seven hours.
    assert calendar.business_time_between(
        _at(date(2026, 9, 28), 0), _at(date(2026, 10, 11), 0)
    ) == timedelta(hours=42)


def test_lunch_is_not_business_time(calendar: BranchCalendar) -> None:
    assert calendar.add_business_time(_at(date(2026, 3, 2), 11), timedelta(hours=2)) == _at(
        date(2026, 3, 2), 14
    )
    assert calendar.add_business_time(_at(date(2026, 3, 2), 11), timedelta(hours=1)) == _at(
        date(2026, 3, 2), 12
    )


def test_overrides_close_a_day_or_open_one() -> None:
    calendar = BranchCalendar.build(
        years=[2026],
        national=_national(2026),
        week=BANK_WEEK,
        overrides={date(2026, 3, 2): None, date(2026, 2, 17): Shift(time(10), time(12))},
    )
    assert not calendar.is_working(_at(date(2026, 3, 2), 10))
    assert calendar.is_working(_at(date(2026, 2, 17), 11))
    assert not calendar.is_working(_at(date(2026, 2, 17), 9))


def test_a_missing_year_fails_loudly(calendar: BranchCalendar) -> None:
    with pytest.raises(YearNotLoaded) as raised:
        calendar.add_business_time(_at(date(2027, 12, 31), 16), timedelta(hours=2))
    assert raised.value.year == 2028
    assert "bankcrm calendar load-year 2028" in str(raised.value)
    with pytest.raises(YearNotLoaded) as raised:
        calendar.business_time_between(_at(date(2025, 12, 31), 9), _at(date(2026, 1, 5), 9))
    assert raised.value.year == 2025
    only_2026 = BranchCalendar.build(years=[2026], national=_national(2026), week=BANK_WEEK)
    with pytest.raises(YearNotLoaded):
        only_2026.is_working(_at(date(2027, 1, 4), 10))


def test_naive_datetimes_and_negative_durations_are_refused(calendar: BranchCalendar) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        calendar.add_business_time(datetime(2026, 3, 2, 10), timedelta(hours=1))
    with pytest.raises(ValueError, match="negative"):
        calendar.add_business_time(_at(date(2026, 3, 2), 10), timedelta(hours=-1))


def test_shift_validation() -> None:
    with pytest.raises(ValueError, match="before closing"):
        Shift(time(17), time(9))
    with pytest.raises(ValueError, match="both"):
        Shift(time(9), time(17), time(12), None)
    with pytest.raises(ValueError, match="inside"):
        Shift(time(9), time(17), time(8), time(13))


ZONES = st.sampled_from([SHANGHAI, ZoneInfo("Europe/Berlin"), ZoneInfo("UTC")])
INSTANTS = st.datetimes(
    min_value=datetime(2026, 1, 2), max_value=datetime(2027, 6, 30), timezones=ZONES
)
DURATIONS = st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=60))


@pytest.fixture(scope="module", params=["Asia/Shanghai", "Europe/Berlin"])
def any_zone_calendar(request: pytest.FixtureRequest) -> BranchCalendar:
    return BranchCalendar.build(
        years=[2026, 2027, 2028],
        national=_national(2026, 2027, 2028),
        week=BANK_WEEK,
        timezone=request.param,
    )


@settings(max_examples=300, deadline=None)
@given(start=INSTANTS, duration=DURATIONS)
def test_add_then_between_round_trips_and_lands_in_working_hours(
    any_zone_calendar: BranchCalendar, start: datetime, duration: timedelta
) -> None:
    end = any_zone_calendar.add_business_time(start, duration)
    assert end > start
    assert end.tzinfo is start.tzinfo
    assert any_zone_calendar.business_time_between(start, end) == duration
    assert any_zone_calendar.business_time_between(end, start) == -duration
    assert any_zone_calendar.is_working(end)
    local = end.astimezone(any_zone_calendar.timezone)
    shift = BANK_WEEK.get(local.weekday()) or BANK_WEEK[0]
    assert shift.start < local.time() <= shift.end


@settings(max_examples=200, deadline=None)
@given(start=INSTANTS, first=DURATIONS, second=DURATIONS)
def test_add_is_monotonic_and_additive(
    any_zone_calendar: BranchCalendar, start: datetime, first: timedelta, second: timedelta
) -> None:
    shorter, longer = sorted([first, second])
    add = any_zone_calendar.add_business_time
    assert add(start, shorter) <= add(start, longer)
    assert add(add(start, first), second) == add(start, first + second)


@settings(max_examples=200, deadline=None)
@given(a=INSTANTS, b=INSTANTS, c=INSTANTS)
def test_between_is_monotonic_and_chains(
    any_zone_calendar: BranchCalendar, a: datetime, b: datetime, c: datetime
) -> None:
    a, b, c = sorted([a, b, c])
    between = any_zone_calendar.business_time_between
    assert timedelta(0) <= between(a, b) <= between(a, c)
    assert between(a, b) + between(b, c) == between(a, c)
    assert between(a, c) <= c - a
