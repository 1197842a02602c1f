"""Business time on weekly calendars: pure functions, no database, no Django.

A calendar lists open intervals per weekday in its own time zone's wall clock;
instants are aware datetimes (any zone in, UTC out). Internally every instant is
an integer count of microseconds since the Unix epoch, so the arithmetic is
exact, and each local date's open intervals are resolved to UTC once and cached
on the calendar, so a due-time computation walks whole intervals, never minutes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

# Minutes after local midnight, start inclusive, end exclusive; 1440 is 24:00.
Interval = tuple[int, int]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 1440

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US_PER_SECOND = 1_000_000
_SPAN = re.compile(r"^\s*(\d{1,2}):(\d\d)\s*-\s*(\d{1,2}):(\d\d)\s*$")
_NEVER = -1  # `_last_open` of a calendar that is never open
_FOREVER = date.max.toordinal()  # `_last_open` of a calendar whose week repeats
_DAY_CACHE_LIMIT = 20_000  # about 55 years of dates per calendar

# Resolved open intervals of one local date: (start_us, end_us) pairs, sorted, disjoint.
_Spans = tuple[tuple[int, int], ...]


class CalendarError(ValueError):
    """A calendar that cannot be built, or that is never open again."""


@dataclass(frozen=True)
class WeeklyCalendar:
    """Open hours per weekday in a time zone, with closed holidays and exceptional days.

    `week` holds seven tuples of intervals, Monday first. A holiday closes its
    date; an exception gives a date its own intervals (an empty tuple closes it)
    and wins over both the weekday and a holiday, so a special opening on a
    holiday is an exception.
    """

    time_zone: str
    week: tuple[tuple[Interval, ...], ...]
    holidays: frozenset[date] = frozenset()
    exceptions: tuple[tuple[date, tuple[Interval, ...]], ...] = ()

    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _by_date: dict[int, tuple[Interval, ...]] = field(init=False, repr=False, compare=False)
    _holiday_ordinals: frozenset[int] = field(init=False, repr=False, compare=False)
    _last_open: int = field(init=False, repr=False, compare=False)
    _days: dict[int, _Spans] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            zone = ZoneInfo(self.time_zone)
        except (KeyError, ValueError, TypeError, OSError) as exc:  # KeyError: not found
            raise CalendarError(f"{self.time_zone!r} is not a time zone") from exc
        if len(self.week) != 7:
            raise CalendarError(f"a week has 7 days, not {len(self.week)}")
        week = tuple(_normalize(day, WEEKDAYS[i]) for i, day in enumerate(self.week))
        exceptions = tuple(
            sorted((d, _normalize(spans, d.isoformat())) for d, spans in self.exceptions)
        )
        if len({d for d, _ in exceptions}) != len(exceptions):
            raise CalendarError("an exceptional date is listed twice")
        by_date = {d.toordinal(): spans for d, spans in exceptions}
        if any(week):
            last_open = _FOREVER
        else:
            last_open = max((o for o, spans in by_date.items() if spans), default=_NEVER)
        object.__setattr__(self, "week", week)
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "exceptions", exceptions)
        object.__setattr__(self, "_zone", zone)
        object.__setattr__(self, "_by_date", by_date)
        object.__setattr__(
            self, "_holiday_ordinals", frozenset(d.toordinal() for d in self.holidays)
        )
        object.__setattr__(self, "_last_open", last_open)
        object.__setattr__(self, "_days", {})

    @classmethod
    def from_hours(
        cls,
        time_zone: str,
        hours: Mapping[str, Sequence[str]],
        holidays: Iterable[str | date] = (),
        exceptions: Mapping[str | date, Sequence[str]] | None = None,
    ) -> WeeklyCalendar:
        """Build from the model's shape: {"mon": ["07:00-24:00"], ...} and "YYYY-MM-DD" dates."""
        unknown = sorted(set(hours) - set(WEEKDAYS))
        if unknown:
            raise CalendarError(f"{', '.join(unknown)}: not a weekday (use mon … sun)")
        for day, spans in hours.items():
            if isinstance(spans, str) or not isinstance(spans, Sequence | type(None)):
                raise CalendarError(f'{day}: {spans!r} is not a list like ["07:00-24:00"]')
        week = tuple(tuple(parse_interval(s) for s in hours.get(day) or ()) for day in WEEKDAYS)
        return cls(
            time_zone=time_zone,
            week=week,
            holidays=frozenset(_parse_date(d) for d in holidays),
            exceptions=tuple(
                (_parse_date(d), tuple(parse_interval(s) for s in spans))
                for d, spans in (exceptions or {}).items()
            ),
        )

    @property
    def zone(self) -> ZoneInfo:
        return self._zone

    @property
    def always_open(self) -> bool:
        """Open every minute of every day: a 24/7 calendar."""
        full = ((0, MINUTES_PER_DAY),)
        return (
            all(day == full for day in self.week)
            and not self.holidays
            and all(spans == full for _, spans in self.exceptions)
        )

    def spans(self, ordinal: int) -> _Spans:
        """The open intervals of one local date (by ordinal), as UTC microseconds."""
        spans = self._days.get(ordinal)
        if spans is None:
            spans = self._resolve_day(ordinal)
        return spans

    def _resolve_day(self, ordinal: int) -> _Spans:
        day = date.fromordinal(ordinal)
        intervals = self._by_date.get(ordinal)
        if intervals is None:
            intervals = () if ordinal in self._holiday_ordinals else self.week[day.weekday()]
        out: list[tuple[int, int]] = []
        for start, end in intervals:
            a = _resolve(self._zone, day, start, end=False)
            b = _resolve(self._zone, day, end, end=True)
            if b <= a:
                continue  # wholly inside a spring-forward gap
            if out and a <= out[-1][1]:
                out[-1] = (out[-1][0], max(out[-1][1], b))
            else:
                out.append((a, b))
        spans = tuple(out)
        if len(self._days) >= _DAY_CACHE_LIMIT:
            self._days.clear()
        self._days[ordinal] = spans
        return spans


def parse_interval(text: str) -> Interval:
    """Parse "07:00-24:00" into (420, 1440)."""
    m = _SPAN.match(text) if isinstance(text, str) else None
    if not m:
        raise CalendarError(f'{text!r} is not an interval like "07:00-24:00"')
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if h1 > 23 or m1 > 59 or m2 > 59 or end > MINUTES_PER_DAY:
        raise CalendarError(f"{text!r} is not a time of day (24:00 is the latest end)")
    if end <= start:
        raise CalendarError(f"{text!r} ends before it starts")
    return start, end


def is_open(cal: WeeklyCalendar, instant: datetime) -> bool:
    t = _to_us(instant)
    for start, end in cal.spans(instant.astimezone(cal._zone).toordinal()):
        if start <= t < end:
            return True
    return False


def next_open(cal: WeeklyCalendar, instant: datetime) -> datetime:
    """The first instant at or after `instant` when the calendar is open."""
    return add_business_time(cal, instant, timedelta(0))


def open_until(
    cal: WeeklyCalendar, instant: datetime, *, within: timedelta = timedelta(days=8)
) -> datetime | None:
    """The instant the calendar next closes, when it is open at `instant`.

    Intervals that touch across midnight ("22:00-24:00" then "00:00-07:00") are one
    stretch. None when the calendar is closed at `instant`, or still open `within` later.
    """
    t = _to_us(instant)
    ordinal = instant.astimezone(cal._zone).toordinal()
    end = next((b for a, b in cal.spans(ordinal) if a <= t < b), None)
    if end is None:
        return None
    limit = t + (within.days * 86_400 + within.seconds) * _US_PER_SECOND + within.microseconds
    while end <= limit:
        ordinal += 1
        following = cal.spans(ordinal)
        if not following or following[0][0] > end:
            return _from_us(end)
        end = following[0][1]
    return None


def add_business_time(cal: WeeklyCalendar, start: datetime, duration: timedelta) -> datetime:
    """The instant by which `duration` of open time has passed since `start`.

    A zero duration answers `next_open(start)`; a duration that ends exactly
    where an interval closes answers that closing instant.
    """
    t = _to_us(start)
    remaining = (duration.days * 86_400 + duration.seconds) * _US_PER_SECOND + duration.microseconds
    if remaining < 0:
        raise ValueError(f"a duration cannot be negative ({duration})")
    ordinal = start.astimezone(cal._zone).toordinal()
    days = cal._days
    last_open = cal._last_open
    while True:
        if ordinal > last_open:
            raise CalendarError(f"the calendar is never open after {start.isoformat()}")
        spans = days.get(ordinal)
        if spans is None:
            spans = cal._resolve_day(ordinal)
        for a, b in spans:
            if b > t:
                if a > t:
                    t = a
                available = b - t
                if remaining <= available:
                    return _EPOCH + timedelta(microseconds=t + remaining)
                remaining -= available
                t = b
        ordinal += 1


def business_time_between(cal: WeeklyCalendar, a: datetime, b: datetime) -> timedelta:
    """Open time in [a, b); zero when b is not after a."""
    ta, tb = _to_us(a), _to_us(b)
    if tb <= ta:
        return timedelta(0)
    zone = cal._zone
    ordinal, last = a.astimezone(zone).toordinal(), b.astimezone(zone).toordinal()
    total = 0
    while ordinal <= last:
        for start, end in cal.spans(ordinal):
            if start >= tb:
                break
            if end > ta:
                total += min(end, tb) - max(start, ta)
        ordinal += 1
    return timedelta(microseconds=total)


def _to_us(instant: datetime) -> int:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{instant.isoformat()} has no time zone; pass an aware datetime")
    delta = instant - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * _US_PER_SECOND + delta.microseconds


def _from_us(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def _wall(zone: ZoneInfo, us: int) -> datetime:
    return _from_us(us).astimezone(zone).replace(tzinfo=None)


def _resolve(zone: ZoneInfo, day: date, minute: int, *, end: bool) -> int:
    """The UTC instant (microseconds) of wall-clock `minute` on local `day`.

    An interval covers, without holes, every instant from the first moment the
    wall clock reads its start to the last moment it still reads before its end:
    so a time in a spring-forward gap (either end) moves to the first instant
    after the gap, and in a repeated fall-back hour a start takes the earlier
    instant (fold=0) and an end the later one (fold=1), except an end exactly at
    the start of the repeat (01:00 in New York), which the wall clock never
    reads from below a second time.
    """
    naive = datetime(day.year, day.month, day.day) + timedelta(minutes=minute)
    raw = [_to_us(naive.replace(tzinfo=zone, fold=fold)) for fold in (0, 1)]
    found = sorted({us for us in raw if _wall(zone, us) == naive})
    if not found:
        # In a gap zoneinfo reads fold=0 with the old offset and fold=1 with the
        # new one: the transition lies between the two, found to the second.
        lo, hi = min(raw) // _US_PER_SECOND, max(raw) // _US_PER_SECOND
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if _wall(zone, mid * _US_PER_SECOND) >= naive:
                hi = mid
            else:
                lo = mid
        return hi * _US_PER_SECOND
    if end:
        for us in reversed(found):
            if _wall(zone, us - 1) < naive:
                return us
    return found[0]


def _normalize(intervals: Iterable[Interval], where: str) -> tuple[Interval, ...]:
    """Sorted, validated, with touching or overlapping intervals merged."""
    out: list[Interval] = []
    for pair in sorted(tuple(p) for p in intervals):
        if len(pair) != 2:
            raise CalendarError(f"{where}: {pair!r} is not a (start, end) pair of minutes")
        start, end = pair
        if not (0 <= start < end <= MINUTES_PER_DAY):
            raise CalendarError(f"{where}: {pair!r} is not an interval within a day")
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return tuple(out)


def _parse_date(value: str | date) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise CalendarError(f'{value!r} is not a date like "2026-12-25"') from exc
