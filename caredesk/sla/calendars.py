"""The service model's Calendar rows as pure WeeklyCalendar objects.

A WeeklyCalendar caches each local date's resolved intervals, so equal rows
share one object: a due time on the second call costs no time-zone work.

A row's public holidays (holiday_country, holiday_subdivision) are resolved for the
years around now (this year - 1 … + 2) and merged into its holidays; its exceptions win
over both. The years are part of the cache key, so a new year brings its holidays.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from caredesk.servicemodel.cache import snapshot
from caredesk.servicemodel.models import Calendar
from caredesk.servicemodel.public_holidays import public_holiday_dates, years_around
from caredesk.sla.business_time import CalendarError, WeeklyCalendar


def from_row(row: Calendar, *, today: date | None = None) -> WeeklyCalendar:
    """The pure calendar of a row; raises CalendarError for hours or dates it cannot read.

    `today` picks the years whose public holidays count (default: the current date).
    """
    hours = tuple(
        sorted((str(day), tuple(spans or ())) for day, spans in (row.hours or {}).items())
    )
    exceptions = tuple(
        sorted((str(day), tuple(spans or ())) for day, spans in (row.exceptions or {}).items())
    )
    country = (row.holiday_country or "").strip()
    years = years_around(today) if country else ()
    return _build(
        row.time_zone,
        hours,
        tuple(row.holidays or ()),
        exceptions,
        country,
        (row.holiday_subdivision or "").strip(),
        years,
    )


def calendar_for(key: str) -> WeeklyCalendar:
    """The pure calendar of the row with this key (Calendar.DoesNotExist when there is none)."""
    row = snapshot().calendars.get(key)
    if row is None:
        raise Calendar.DoesNotExist(f"No calendar {key!r}.")
    return from_row(row)


@lru_cache(maxsize=256)
def _build(
    time_zone: str,
    hours: tuple[tuple[str, tuple[str, ...]], ...],
    holidays: tuple[str, ...],
    exceptions: tuple[tuple[str, tuple[str, ...]], ...] = (),
    country: str = "",
    subdivision: str = "",
    years: tuple[int, ...] = (),
) -> WeeklyCalendar:
    closed: tuple[str, ...] = holidays
    if country:
        try:
            closed = holidays + public_holiday_dates(country, subdivision, years)
        except ValueError as exc:
            raise CalendarError(f"holiday_country: {exc}") from None
    return WeeklyCalendar.from_hours(time_zone, dict(hours), closed, dict(exceptions))
