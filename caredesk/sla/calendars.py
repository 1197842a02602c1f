"""The service model's Calendar rows as pure WeeklyCalendar objects.

A WeeklyCalendar caches each local date's resolved intervals, so equal rows
share one object: a due time on the second call costs no time-zone work.
"""

from __future__ import annotations

from functools import lru_cache

from caredesk.servicemodel.cache import snapshot
from caredesk.servicemodel.models import Calendar
from caredesk.sla.business_time import WeeklyCalendar


def from_row(row: Calendar) -> WeeklyCalendar:
    """The pure calendar of a row; raises CalendarError for hours or dates it cannot read."""
    hours = tuple(
        sorted((str(day), tuple(spans or ())) for day, spans in (row.hours or {}).items())
    )
    return _build(row.time_zone, hours, tuple(row.holidays or ()))


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
) -> WeeklyCalendar:
    return WeeklyCalendar.from_hours(time_zone, dict(hours), holidays)
