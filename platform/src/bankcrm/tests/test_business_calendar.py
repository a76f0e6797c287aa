"""The business calendar across the 2026 Spring Festival and National Day weeks, branch
hours and overrides, the REST API, and properties of business-time arithmetic."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bankcrm import business_calendar
from bankcrm.business_calendar import HOLIDAY, WORKDAY, BranchCalendar, YearNotLoaded
from bankcrm.web.problems import Problem
from bankcrm_sdk.world import World

SHANGHAI = ZoneInfo("Asia/Shanghai")
NINE_TO_FIVE = {d: (time(9), time(17)) for d in range(5)}


def national_2026() -> dict[date, str]:
    days, known = business_calendar.package_days(2026)
    assert known
    return {d.day: d.kind for d in days}


def calendar(**overrides: object) -> BranchCalendar:
    return BranchCalendar(
        SHANGHAI,
        dict(NINE_TO_FIVE),
        national_2026(),
        frozenset({2026}),
        dict(overrides),  # type: ignore[arg-type]
    )


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), SHANGHAI)


def test_the_package_knows_2026s_adjusted_working_days() -> None:
    days = national_2026()
    # Spring Festival 2026: off from Sunday 15 to Monday 23 February; the Saturdays before
    # and after (14 and 28 February) are working days.
    assert days[date(2026, 2, 14)] == WORKDAY
    assert days[date(2026, 2, 28)] == WORKDAY
    assert all(days[date(2026, 2, d)] == HOLIDAY for d in (16, 17, 18, 19, 20, 23))
    # National Day and Mid-Autumn 2026: 1 to 7 October off; Sunday 20 September and
    # Saturday 10 October worked.
    assert days[date(2026, 9, 20)] == WORKDAY
    assert days[date(2026, 10, 10)] == WORKDAY
    assert all(days[date(2026, 10, d)] == HOLIDAY for d in (1, 2, 5, 6, 7))


def test_spring_festival_week() -> None:
    cal = calendar()
    # Friday 13 February, 16:00 + 2 business hours: one hour on Friday, one on the
    # Saturday that is a working day.
    assert cal.add(at(date(2026, 2, 13), 16), timedelta(hours=2)) == at(date(2026, 2, 14), 10)
    # From the Saturday's close, the next business hour is on Tuesday 24 February.
    assert cal.add(at(date(2026, 2, 14), 17), timedelta(hours=1)) == at(date(2026, 2, 24), 10)
    assert cal.between(at(date(2026, 2, 14), 17), at(date(2026, 2, 24), 9)) == timedelta(0)
    assert cal.intervals(date(2026, 2, 28)) is not None
    assert cal.intervals(date(2026, 2, 19)) is None


def test_national_day_week() -> None:
    cal = calendar()
    # Wednesday 30 September 15:00 + 4 h: two hours that day, then Thursday 8 October
    # (1-7 October off).
    assert cal.add(at(date(2026, 9, 30), 15), timedelta(hours=4)) == at(date(2026, 10, 8), 11)
    assert cal.intervals(date(2026, 9, 20)) is not None  # a Sunday worked
    assert cal.intervals(date(2026, 10, 10)) is not None  # a Saturday worked
    assert cal.intervals(date(2026, 10, 5)) is None  # a Monday off


def test_overrides_and_missing_years() -> None:
    cal = (
        calendar(**{"_": None})
        if False
        else BranchCalendar(
            SHANGHAI,
            dict(NINE_TO_FIVE),
            national_2026(),
            frozenset({2026}),
            {date(2026, 3, 2): None, date(2026, 3, 3): (time(13), time(15))},
        )
    )
    assert cal.add(at(date(2026, 3, 2), 9), timedelta(hours=1)) == at(date(2026, 3, 3), 14)
    with pytest.raises(YearNotLoaded) as missing:
        cal.add(at(date(2026, 12, 31), 16), timedelta(hours=2))
    assert missing.value.status == 409
    assert "calendar load-year 2027" in missing.value.detail


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        calendar().add(datetime(2026, 3, 2, 9), timedelta(hours=1))


moments = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2026, 11, 30), timezones=st.just(UTC)
)
durations = st.integers(min_value=0, max_value=80 * 60).map(lambda m: timedelta(minutes=m))


@settings(max_examples=300, deadline=None, derandomize=True)
@given(moments, durations)
def test_adding_then_measuring_gives_the_duration_back(
    start: datetime, duration: timedelta
) -> None:
    cal = calendar()
    end = cal.add(start, duration)
    assert end >= start
    assert cal.between(start, end) == duration
    if duration > timedelta(0):
        local = end.astimezone(SHANGHAI)
        interval = cal.intervals(local.date())
        assert interval is not None
        assert interval[0] < local <= interval[1]


@settings(max_examples=200, deadline=None, derandomize=True)
@given(moments, durations, durations)
def test_business_time_is_monotonic_and_additive(
    start: datetime, first: timedelta, second: timedelta
) -> None:
    cal = calendar()
    assert cal.add(start, first + second) == cal.add(cal.add(start, first), second) or (
        first == timedelta(0) or second == timedelta(0)
    )
    assert cal.add(start, min(first, second)) <= cal.add(start, max(first, second))


async def test_branch_hours_inherit_and_the_rest_api(world: World) -> None:
    manager = await world.client("demo.bj.manager")
    bj, haidian = world.branch("BJ"), world.branch("BJ-HD")
    # The demo gives Beijing Saturday mornings; Haidian has no hours and inherits them.
    month = await manager.get(f"/api/v1/calendar/{haidian}/2026/2")
    assert month.status_code == 200, month.text
    days = {d["day"]: d for d in month.json()}
    assert days["2026-02-07"]["open"] is True  # a Saturday morning
    assert days["2026-02-17"]["open"] is False
    assert days["2026-02-17"]["national"] == HOLIDAY
    assert days["2026-02-28"]["national"] == WORKDAY

    set_hours = await manager.put(
        f"/api/v1/calendar/{haidian}/hours",
        json={
            "hours": [{"weekday": d, "opens": "08:30:00", "closes": "17:30:00"} for d in range(5)]
        },
    )
    assert set_hours.status_code == 200, set_hours.text
    closed = await manager.put(
        f"/api/v1/calendar/{haidian}/overrides/2026-03-02", json={"closed": True, "reason": "装修"}
    )
    assert closed.status_code == 200, closed.text
    end = await business_calendar.add_business_time(
        at(date(2026, 2, 27), 17), timedelta(hours=1), haidian
    )
    cal = await business_calendar.calendar_for(haidian)
    assert cal.weekly[0] == (time(8, 30), time(17, 30)), cal.weekly
    assert end == at(date(2026, 2, 28), 9)  # the adjusted Saturday keeps weekday hours
    end = await business_calendar.add_business_time(
        at(date(2026, 2, 28), 17, 30), timedelta(hours=1), haidian
    )
    assert end == at(date(2026, 3, 3), 9, 30)  # Monday 2 March closed by the override

    bad = await manager.put(
        f"/api/v1/calendar/{haidian}/hours",
        json={"hours": [{"weekday": 0, "opens": "18:00:00", "closes": "09:00:00"}]},
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "/body/hours/0/closes"
    shanghai = await manager.get(f"/api/v1/calendar/{world.branch('SH')}/2026/2")
    assert shanghai.status_code == 404
    teller = await world.client("demo.teller")
    refused = await teller.put(
        f"/api/v1/calendar/{world.branch('SH-XH')}/hours", json={"hours": []}
    )
    assert refused.status_code == 403
    missing = await manager.get(f"/api/v1/calendar/{bj}/2031/1")
    assert missing.status_code == 409
    assert missing.json()["type"].endswith("/calendar_year_missing")


def test_a_holiday_file_with_a_bad_date_names_line_and_column() -> None:
    text = "date,kind,name\n2027-02-06,休,春节\n2027-02-30,休,春节\n2027-02-20,上班,\n"
    with pytest.raises(Problem) as refused:
        business_calendar.read_days_csv(text, 2027)
    fields = [e.field for e in refused.value.errors]
    assert fields == ["line 3, column date", "line 4, column kind"]
