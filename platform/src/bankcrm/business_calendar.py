"""The business calendar: when a branch is open, across Chinese public holidays and their
adjusted working days (调休), for SLAs, reminders and escalations in business time.

* National days (holidays and the weekend days worked instead) sit in an editable table,
  seeded per year from the ``holidays`` package. A year must be loaded before it is used:
  asking about a year that is not raises :class:`YearNotLoaded` (a 409 naming the year),
  because a calendar silently treating the Spring Festival as working days would break
  every SLA. The package publishes a year's adjusted days only when the State Council
  announces them (2027's were not yet in holidays 0.109), so a loaded year records whether
  its adjusted days are known.
* Opening hours per branch and weekday (inherited from the parent branch when a branch has
  none; 09:00–17:00 Monday to Friday, Asia/Shanghai, when no branch up the tree has any),
  and per-branch overrides of single days (closed, or special hours).

``add_business_time(start, duration, branch_id)`` and ``business_time_between(a, b,
branch_id)`` take and return timezone-aware datetimes. The branch's calendar is read once
and kept for :data:`CACHE_SECONDS` (edits through this module invalidate it at once).
"""

from __future__ import annotations

import csv
import io
import time as clock
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bankcrm import branches, db
from bankcrm.web.problems import FieldError, Problem

DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_ZONE = ZoneInfo(DEFAULT_TIMEZONE)
"""Where staff are told times unless their branch says otherwise."""
DEFAULT_HOURS = {weekday: (time(9), time(17)) for weekday in range(5)}
CACHE_SECONDS = 60.0
MAX_DAYS = 3660
"""How far a computation may walk: ten years of calendar (a longer SLA is a mistake)."""

HOLIDAY = "holiday"
WORKDAY = "workday"


class YearNotLoaded(Problem):
    def __init__(self, year: int) -> None:
        super().__init__(
            409,
            f"the business calendar has no data for {year}: load it with"
            f" `bankcrm calendar load-year {year}` (or from the official notice with"
            " --from-file)",
            [FieldError("year", f"{year} is not loaded")],
            "calendar_year_missing",
        )


@dataclass(frozen=True)
class BranchCalendar:
    """Everything needed to compute business time for one branch (immutable, cached)."""

    timezone: ZoneInfo
    weekly: dict[int, tuple[time, time]]
    national: dict[date, str]
    years: frozenset[int]
    overrides: dict[date, tuple[time, time] | None]
    _intervals: dict[date, tuple[datetime, datetime] | None] = field(default_factory=dict)

    def intervals(self, day: date) -> tuple[datetime, datetime] | None:
        """The branch's opening interval on ``day`` (aware), or None when closed."""
        try:
            return self._intervals[day]
        except KeyError:
            pass
        if day.year not in self.years:
            raise YearNotLoaded(day.year)
        hours: tuple[time, time] | None
        if day in self.overrides:
            hours = self.overrides[day]
        elif self.national.get(day) == HOLIDAY:
            hours = None
        elif self.national.get(day) == WORKDAY:
            # A weekend day worked instead of a holiday keeps the branch's weekday hours.
            hours = self.weekly.get(0) or DEFAULT_HOURS[0]
        else:
            hours = self.weekly.get(day.weekday())
        found = None
        if hours is not None and hours[0] < hours[1]:
            found = (
                datetime.combine(day, hours[0], self.timezone),
                datetime.combine(day, hours[1], self.timezone),
            )
        self._intervals[day] = found
        return found

    def add(self, start: datetime, duration: timedelta) -> datetime:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        if duration < timedelta(0):
            raise ValueError("duration must not be negative")
        local = start.astimezone(self.timezone)
        left = duration
        day = local.date()
        for _ in range(MAX_DAYS):
            interval = self.intervals(day)
            if interval is not None:
                opens, closes = interval
                begin = max(opens, local)
                if begin < closes:
                    if begin + left <= closes:
                        return (begin + left).astimezone(start.tzinfo)
                    left -= closes - begin
            day += timedelta(days=1)
        raise ValueError(f"more than {MAX_DAYS} days of business time")

    def between(self, a: datetime, b: datetime) -> timedelta:
        if a.tzinfo is None or b.tzinfo is None:
            raise ValueError("datetimes must be timezone-aware")
        if b < a:
            return -self.between(b, a)
        local_a, local_b = a.astimezone(self.timezone), b.astimezone(self.timezone)
        total = timedelta(0)
        day = local_a.date()
        while day <= local_b.date():
            interval = self.intervals(day)
            if interval is not None:
                begin, end = max(interval[0], local_a), min(interval[1], local_b)
                if begin < end:
                    total += end - begin
            day += timedelta(days=1)
        return total


_cache: dict[int, tuple[float, BranchCalendar]] = {}


def invalidate() -> None:
    _cache.clear()


async def calendar_for(branch_id: int) -> BranchCalendar:
    cached = _cache.get(branch_id)
    if cached is not None and clock.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    tree = await branches.snapshot()
    if branch_id not in tree.nodes:
        raise Problem(404, f"branch {branch_id} does not exist", code="not_found")
    chain: list[int] = []
    node_id: int | None = branch_id
    while node_id is not None:
        chain.append(node_id)
        node_id = tree.nodes[node_id].parent_id
    # Read as the system: a branch's hours may be inherited from a parent outside the
    # caller's scope, and they are not confidential.
    hours = await db.fetch(
        "SELECT branch, weekday, opens, closes, timezone FROM bankcrm_branch_hours"
        " WHERE branch = ANY($1::bigint[])",
        chain,
    )
    weekly: dict[int, tuple[time, time]] = {}
    timezone = DEFAULT_TIMEZONE
    for candidate in chain:
        own = [r for r in hours if r["branch"] == candidate]
        if own:
            weekly = {r["weekday"]: (r["opens"], r["closes"]) for r in own}
            timezone = own[0]["timezone"]
            break
    else:
        weekly = dict(DEFAULT_HOURS)
    overrides = {
        r["day"]: (r["opens"], r["closes"]) if not r["closed"] else None
        for r in await db.fetch(
            "SELECT day, closed, opens, closes FROM bankcrm_branch_calendar_override"
            " WHERE branch = $1",
            branch_id,
        )
    }
    national = {
        r["day"]: r["kind"] for r in await db.fetch("SELECT day, kind FROM bankcrm_calendar_day")
    }
    years = frozenset(r["year"] for r in await db.fetch("SELECT year FROM bankcrm_calendar_year"))
    calendar = BranchCalendar(ZoneInfo(timezone), weekly, national, years, overrides)
    _cache[branch_id] = (clock.monotonic(), calendar)
    return calendar


async def add_business_time(start: datetime, duration: timedelta, branch_id: int) -> datetime:
    """The moment ``duration`` of the branch's business time after ``start``."""
    return (await calendar_for(branch_id)).add(start, duration)


async def business_time_between(a: datetime, b: datetime, branch_id: int) -> timedelta:
    """The branch's business time from ``a`` to ``b`` (negative when ``b`` is earlier)."""
    return (await calendar_for(branch_id)).between(a, b)


# --- national days -------------------------------------------------------------------------


@dataclass(frozen=True)
class NationalDay:
    day: date
    kind: str
    name: str


async def viewer_zone(home_branch_id: int | None) -> ZoneInfo:
    """The zone a staff member reads times in: their home branch's calendar's (the
    default zone without a home branch or calendar)."""
    if home_branch_id is None:
        return DEFAULT_ZONE
    try:
        return (await calendar_for(home_branch_id)).timezone
    except Problem:
        return DEFAULT_ZONE


def package_days(year: int) -> tuple[list[NationalDay], bool]:
    """The year's holidays and adjusted working days from the ``holidays`` package, and
    whether the package knows the adjusted days (it has none before the announcement)."""
    import holidays

    china = holidays.country_holidays("CN", years=[year], language="zh_CN")
    days = [NationalDay(day, HOLIDAY, str(name)) for day, name in sorted(china.items())]
    workdays = [
        NationalDay(day, WORKDAY, "调休上班")
        for day in sorted(getattr(china, "weekend_workdays", set()))
        if day.year == year
    ]
    return [*days, *workdays], bool(workdays)


def read_days_csv(text: str, year: int) -> list[NationalDay]:
    """A year's days from a CSV (``date,kind,name``; kind ``holiday`` or ``workday``, or
    休/班). Every problem is named by line and column; nothing is returned with one."""
    kinds = {"holiday": HOLIDAY, "休": HOLIDAY, "workday": WORKDAY, "班": WORKDAY}
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in next(reader, [])]
    if header[:2] != ["date", "kind"]:
        raise Problem(422, "line 1: the header must be date,kind,name", code="invalid")
    problems: list[FieldError] = []
    days = []
    for line, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        text_day = cells[0].strip() if cells else ""
        try:
            day = date.fromisoformat(text_day)
        except ValueError:
            problems.append(FieldError(f"line {line}, column date", f"not a date: {text_day!r}"))
            continue
        if day.year != year:
            problems.append(FieldError(f"line {line}, column date", f"{day} is not in {year}"))
        kind = kinds.get(cells[1].strip().lower() if len(cells) > 1 else "")
        if kind is None:
            problems.append(
                FieldError(f"line {line}, column kind", "must be holiday or workday (休 or 班)")
            )
            continue
        days.append(NationalDay(day, kind, cells[2].strip() if len(cells) > 2 else ""))
    if problems:
        raise Problem(422, "; ".join(f"{p.field}: {p.message}" for p in problems), problems,
                      "invalid")  # fmt: skip
    return days


async def load_year(
    year: int, days: Iterable[NationalDay], *, source: str, adjusted_days_known: bool
) -> int:
    """Replace the year's national days in one transaction; the number of days."""
    rows = list(days)
    async with db.transaction():
        await db.fetch(
            "DELETE FROM bankcrm_calendar_day WHERE day >= $1 AND day < $2",
            date(year, 1, 1),
            date(year + 1, 1, 1),
        )
        for row in rows:
            await db.fetch(
                "INSERT INTO bankcrm_calendar_day (day, kind, name) VALUES ($1, $2, $3)",
                row.day,
                row.kind,
                row.name,
            )
        await db.fetch(
            "INSERT INTO bankcrm_calendar_year (year, source, adjusted_days_known, loaded_at)"
            " VALUES ($1, $2, $3, now()) ON CONFLICT (year) DO UPDATE SET source = $2,"
            " adjusted_days_known = $3, loaded_at = now()",
            year,
            source,
            adjusted_days_known,
        )
    invalidate()
    return len(rows)


async def ensure_years(years: Iterable[int]) -> list[int]:
    """Load from the package every year of ``years`` not loaded yet; the years loaded."""
    loaded = {r["year"] for r in await db.fetch("SELECT year FROM bankcrm_calendar_year")}
    done = []
    for year in years:
        if year in loaded:
            continue
        days, known = package_days(year)
        await load_year(year, days, source="holidays package", adjusted_days_known=known)
        done.append(year)
    return done


def current_years(now: datetime | None = None) -> list[int]:
    year = (now or datetime.now(UTC)).astimezone(DEFAULT_ZONE).year
    return [year, year + 1]


def month_days(calendar: BranchCalendar, year: int, month: int) -> Iterator[dict[str, Any]]:
    day = date(year, month, 1)
    while day.month == month:
        interval = calendar.intervals(day)
        yield {
            "day": day,
            "open": interval is not None,
            "opens": interval[0].timetz() if interval else None,
            "closes": interval[1].timetz() if interval else None,
            "national": calendar.national.get(day),
            "override": day in calendar.overrides,
        }
        day += timedelta(days=1)


__all__ = [
    "BranchCalendar",
    "NationalDay",
    "YearNotLoaded",
    "add_business_time",
    "business_time_between",
    "calendar_for",
    "current_years",
    "ensure_years",
    "invalidate",
    "load_year",
    "month_days",
    "package_days",
    "read_days_csv",
]
