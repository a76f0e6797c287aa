"""The national calendar (public holidays and 调休) as the ``holidays`` package knows it.

Only the package's default ``public`` category is read: it holds the statutory days off,
while the partial-day observances (Women's Day, Youth Day, ...) that close no bank are in
``half_day``. Make-up working days come from ``weekend_workdays``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import holidays

from bankcrm.business_calendar.engine import DayKind


@dataclass(frozen=True)
class NationalDay:
    day: date
    kind: DayKind
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class PackageYear:
    year: int
    days: tuple[NationalDay, ...]
    adjusted_days_known: bool
    """False when the package has the fixed holidays of ``year`` but no 调休 table: the
    State Council publishes it each November, and the package follows later."""
    source: str


def from_package(year: int) -> PackageYear:
    zh = holidays.country_holidays("CN", years=year, language="zh_CN")
    en = holidays.country_holidays("CN", years=year, language="en_US")
    days: list[NationalDay] = []
    for day in sorted(zh):
        days.append(NationalDay(day, DayKind.HOLIDAY, zh[day], en[day]))
    workdays = sorted(d for d in zh.weekend_workdays if d.year == year)
    for day in workdays:
        days.append(NationalDay(day, DayKind.ADJUSTED_WORKDAY, "调休上班", "Make-up working day"))
    days.sort(key=lambda item: item.day)
    return PackageYear(
        year=year,
        days=tuple(days),
        adjusted_days_known=bool(workdays),
        source=f"holidays {holidays.__version__}",
    )
