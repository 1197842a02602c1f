"""Business time against a brute-force reference that walks UTC minute by minute.

The reference knows nothing of folds or gaps: it converts each UTC minute to the
calendar's wall clock and asks whether the wall clock reads inside an interval
of that local date. The one rule it adds is the documented one: an interval is
the contiguous span from the first to the last minute whose wall clock reads
inside it, which fills the hole a repeated fall-back hour would otherwise cut.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache, partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from caredesk.sla.business_time import (
    WEEKDAYS,
    CalendarError,
    Interval,
    WeeklyCalendar,
    add_business_time,
    business_time_between,
    is_open,
    next_open,
    parse_interval,
)

NY = ZoneInfo("America/New_York")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MIN = 60_000_000  # microseconds
MINUTE = timedelta(minutes=1)
MODEL = tomllib.loads((Path(__file__).resolve().parents[1] / "service-model.toml").read_text())


def model_calendar(key: str) -> WeeklyCalendar:
    cal = MODEL["calendars"][key]
    return WeeklyCalendar.from_hours(
        cal["time_zone"], {day: cal[day] for day in WEEKDAYS}, cal["holidays"]
    )


STAFFED = model_calendar("staffed")
ALL_HOURS = model_calendar("all-hours")

# Each zone with its DST change dates in 2026-2027; New York's are the guide's.
DST_DATES = {
    "America/New_York": ["2026-03-08", "2026-11-01", "2027-03-14", "2027-11-07"],
    "Europe/London": ["2026-03-29", "2026-10-25", "2027-03-28", "2027-10-31"],
    "Australia/Lord_Howe": ["2026-04-05", "2026-10-04", "2027-04-04", "2027-10-03"],
    # Santiago changes at midnight and Havana falls back into it: 24:00 is a trap there.
    "America/Santiago": ["2026-04-04", "2026-09-06", "2027-04-03", "2027-09-05"],
    "America/Havana": ["2026-03-08", "2026-11-01", "2027-03-14", "2027-11-07"],
    "UTC": ["2026-06-01"],
}
ZONES = ["America/New_York"] * 4 + sorted(DST_DATES)
# Wall-clock minutes around each zone's changes, where starts and ends need care.
TRAPS = {
    "America/New_York": [0, 60, 75, 90, 105, 120, 150, 180, 1440],
    "Europe/London": [0, 60, 75, 90, 105, 120, 150, 1440],
    "Australia/Lord_Howe": [0, 90, 105, 120, 135, 150, 1440],
    "America/Santiago": [0, 30, 60, 90, 1320, 1380, 1410, 1440],
    "America/Havana": [0, 30, 60, 90, 1410, 1440],
    "UTC": [0, 60, 1440],
}


def local(y: int, mo: int, d: int, h: int = 0, mi: int = 0, *, fold: int = 0) -> datetime:
    """A New York wall-clock time; fold=1 picks the second of a repeated fall-back hour."""
    return datetime(y, mo, d, h, mi, tzinfo=NY, fold=fold)


def us(instant: datetime) -> int:
    delta = instant - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def at(microseconds: int) -> datetime:
    return EPOCH + timedelta(microseconds=microseconds)


# --- the reference -------------------------------------------------------------------------


@cache
def cell(zone_name: str, day: date) -> tuple[int, tuple[int, ...]]:
    """The UTC minutes whose wall clock reads `day`: the first one, and each one's wall minute."""
    zone = ZoneInfo(zone_name)
    base = (day - date(1970, 1, 1)).days * 1440
    offset = (EPOCH + timedelta(minutes=base + 720)).astimezone(zone).utcoffset()
    assert offset is not None
    lo = base - offset // timedelta(minutes=1) - 180  # three hours of slack for any DST change
    first, walls = -1, []
    for m in range(lo, lo + 1440 + 360):
        wall = (EPOCH + timedelta(minutes=m)).astimezone(zone)
        if wall.date() == day:
            first = m if first < 0 else first
            walls.append(wall.hour * 60 + wall.minute)
    assert lo < first and first + len(walls) < lo + 1440 + 360
    return first, tuple(walls)


@dataclass
class Spec:
    """A calendar as plain data, read by the reference and built into a WeeklyCalendar."""

    zone: str
    week: list[list[Interval]]
    holidays: set[date] = field(default_factory=set)
    exceptions: dict[date, list[Interval]] = field(default_factory=dict)

    def build(self) -> WeeklyCalendar:
        return WeeklyCalendar(
            time_zone=self.zone,
            week=tuple(tuple(day) for day in self.week),
            holidays=frozenset(self.holidays),
            exceptions=tuple((d, tuple(v)) for d, v in self.exceptions.items()),
        )


class Reference:
    def __init__(self, spec: Spec) -> None:
        self.spec, self.zone = spec, ZoneInfo(spec.zone)
        self.hulls: dict[date, list[tuple[int, int]]] = {}

    def day_hulls(self, day: date) -> list[tuple[int, int]]:
        if day not in self.hulls:
            spec = self.spec
            if day in spec.exceptions:
                intervals = spec.exceptions[day]
            elif day in spec.holidays:
                intervals = []
            else:
                intervals = spec.week[day.weekday()]
            first, walls = cell(spec.zone, day)
            hulls = []
            for start, end in intervals:
                inside = [i for i, w in enumerate(walls) if start <= w < end]
                if inside:
                    hulls.append((first + inside[0], first + inside[-1] + 1))
            self.hulls[day] = hulls
        return self.hulls[day]

    def open_minute(self, m: int) -> bool:
        day = (EPOCH + timedelta(minutes=m)).astimezone(self.zone).date()
        return any(lo <= m < hi for lo, hi in self.day_hulls(day))

    def add(self, start: int, duration: int) -> int:
        t, m, remaining = start, start // MIN, duration
        for _ in range(60 * 24 * 60):
            if self.open_minute(m):
                available = (m + 1) * MIN - t
                if remaining <= available:
                    return t + remaining
                remaining -= available
            m += 1
            t = m * MIN
        raise AssertionError("the reference walked 60 days")

    def between(self, a: int, b: int) -> int:
        total = 0
        for m in range(a // MIN, -(-b // MIN)):
            if self.open_minute(m):
                total += max(0, min(b, (m + 1) * MIN) - max(a, m * MIN))
        return total


# --- strategies ----------------------------------------------------------------------------


@dataclass
class Case:
    spec: Spec
    start: datetime
    duration: timedelta

    def __post_init__(self) -> None:
        self.cal = self.spec.build()
        self.ref = Reference(self.spec)


def spec_of(cal: WeeklyCalendar) -> Spec:
    return Spec(cal.time_zone, [list(day) for day in cal.week])


@st.composite
def interval_lists(draw: st.DrawFn, points: list[int], least: int = 0) -> list[Interval]:
    """Up to three intervals, often touching, mostly at the given minutes (DST traps, 24:00)."""
    n = draw(st.integers(least, 3))
    minute = st.one_of(st.sampled_from(points), st.sampled_from(points), st.integers(0, 1440))
    ends = sorted(draw(st.lists(minute, min_size=2 * n, max_size=2 * n)))
    return [(ends[i], ends[i + 1]) for i in range(0, 2 * n, 2) if ends[i] < ends[i + 1]]


@st.composite
def instants(draw: st.DrawFn, zone: str, day: date, points: list[int]) -> datetime:
    """An instant at or near one of the wall-clock minutes, either fold, often off the minute."""
    minute = draw(st.one_of(st.sampled_from(points), st.integers(0, 1439)))
    wall = datetime(day.year, day.month, day.day) + timedelta(minutes=min(minute, 1439))
    instant = wall.replace(tzinfo=ZoneInfo(zone), fold=draw(st.integers(0, 1))).astimezone(UTC)
    return instant + timedelta(microseconds=draw(st.sampled_from([0, 0, 1, 30_000_000, MIN - 1])))


@st.composite
def specs(draw: st.DrawFn, zone: str, near: date, points: list[int], trap: date | None) -> Spec:
    week = [draw(interval_lists(points)) for _ in WEEKDAYS]
    if trap is not None:
        week[trap.weekday()] = draw(interval_lists(points, least=1))
    if not any(week):
        week[draw(st.integers(0, 6))] = [(420, 1440)]
    nearby = st.integers(-1, 9).map(lambda k: near + timedelta(days=k))
    holidays = draw(st.sets(nearby, max_size=4))
    exceptions = draw(st.dictionaries(nearby, interval_lists(points), max_size=2))
    return Spec(zone, week, holidays, exceptions)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    """A calendar (a default one or random), a start and a duration.

    Half the starts fall on a DST change or the day before it; there random
    calendars put their interval ends at the minutes that change skips or repeats,
    and durations stay short enough to end near it.
    """
    kind = draw(st.sampled_from(["staffed", "all-hours", "random", "random", "random"]))
    zone = "America/New_York" if kind != "random" else draw(st.sampled_from(ZONES))
    change: date | None = None
    if draw(st.booleans()):
        change = date.fromisoformat(draw(st.sampled_from(DST_DATES[zone])))
        day = change - timedelta(days=draw(st.sampled_from([0, 0, 0, 1])))
        points = TRAPS[zone]
    else:
        day = draw(st.dates(date(2026, 1, 1), date(2027, 12, 31)))
        points = [0, 60, 420, 1320, 1440]
    start = draw(instants(zone, day, points))
    spec = (
        draw(specs(zone, day, points, change))
        if kind == "random"
        else spec_of(STAFFED if kind == "staffed" else ALL_HOURS)
    )
    weekly = sum(e - s for intervals in spec.week for s, e in intervals)
    cap = min(6 * 60 if change else 3 * 1440, weekly)
    if draw(st.integers(0, 9)) == 0:
        return Case(spec, start, timedelta(0))
    minutes = cap * draw(st.sampled_from(range(1001))) // 1000
    extra = draw(st.sampled_from([0, 0, 1, MIN // 2]))
    return Case(spec, start, timedelta(minutes=minutes, microseconds=extra))


# Hypothesis favours small integers; spans of hours to days are what cross closures and DST.
spans = st.builds(
    lambda minutes, extra: minutes * MIN + extra,
    st.sampled_from(range(0, 4 * 1440, 7)),
    st.sampled_from([0, 0, 1, MIN // 2]),
)


def case(cal: WeeklyCalendar, start: datetime, minutes: int) -> Case:
    return Case(spec_of(cal), start.astimezone(UTC), timedelta(minutes=minutes))


# The DST changes in New York, on both default calendars, straddled and started inside.
DST_EXAMPLES = [
    case(ALL_HOURS, local(2026, 3, 7, 23, 30), 240),  # through the spring gap: 04:30 EDT
    case(ALL_HOURS, local(2026, 11, 1, 1, 30), 60),  # 01:30 EDT + 1 h = 01:30 EST
    case(ALL_HOURS, local(2027, 3, 14, 1, 59), 2),
    case(ALL_HOURS, local(2027, 11, 7, 0, 45, fold=1), 24 * 60),
    case(STAFFED, local(2026, 3, 7, 21, 50), 240),  # Saturday evening into spring-forward Sunday
    case(STAFFED, local(2026, 11, 1, 1, 30, fold=1), 10),
    case(STAFFED, local(2027, 3, 13, 22, 5), 0),
    case(STAFFED, local(2027, 11, 6, 21, 0), 3 * 1440),
    # An end at 01:00, where New York's repeat begins, is the first 01:00.
    Case(Spec("America/New_York", [[]] * 6 + [[(0, 60)]]), local(2026, 11, 1, 1, 30), MINUTE),
    # Havana repeats midnight itself: Saturday's 24:00 is the first midnight.
    Case(
        Spec("America/Havana", [[]] * 5 + [[(1380, 1440)], [(0, 30)]]),
        datetime(2026, 11, 1, 3, 30, tzinfo=UTC),  # Saturday 23:30 CDT (Cuba)
        timedelta(minutes=90),
    ),
]
PROPERTY = settings(max_examples=200, deadline=None)


def with_examples(test: Any, **more: object) -> Any:
    for c in DST_EXAMPLES:
        test = example(c=c, **more)(test)
    return test


# --- properties ----------------------------------------------------------------------------


@PROPERTY
@given(c=cases())
@with_examples
@example(c=case(STAFFED, local(2026, 5, 16, 21, 50), 10))  # due exactly at closing
def test_add_business_time_matches_the_minute_by_minute_reference(c: Case) -> None:
    due = add_business_time(c.cal, c.start, c.duration)
    assert due.tzinfo is UTC
    assert us(due) == c.ref.add(us(c.start), us(EPOCH + c.duration))


@PROPERTY
@given(c=cases(), span=spans)
@partial(with_examples, span=2 * 1440 * MIN)
@example(c=case(ALL_HOURS, local(2026, 11, 1), 0), span=25 * 60 * MIN)
@example(c=case(STAFFED, local(2026, 3, 7, 21), 0), span=12 * 60 * MIN)
@example(
    c=Case(
        Spec("America/New_York", [[]] * 6 + [[(0, 75), (105, 150)]]),
        local(2026, 11, 1).astimezone(UTC),
        timedelta(0),
    ),
    span=1440 * MIN,
)
def test_business_time_between_matches_the_reference(c: Case, span: int) -> None:
    a = c.start
    b = a + timedelta(microseconds=span)
    assert us(EPOCH + business_time_between(c.cal, a, b)) == c.ref.between(us(a), us(b))
    assert business_time_between(c.cal, b, a) == timedelta(0)


@PROPERTY
@given(c=cases())
@with_examples
def test_is_open_and_next_open_match_the_reference(c: Case) -> None:
    assert is_open(c.cal, c.start) == c.ref.open_minute(us(c.start) // MIN)
    opening = next_open(c.cal, c.start)
    assert us(opening) == c.ref.add(us(c.start), 0)
    assert is_open(c.cal, opening)


@PROPERTY
@given(c=cases())
@with_examples
def test_business_time_between_a_start_and_its_due_time_is_the_duration(c: Case) -> None:
    due = add_business_time(c.cal, c.start, c.duration)
    assert business_time_between(c.cal, c.start, due) == c.duration
    assert due >= c.start


# --- the guide's scenarios -----------------------------------------------------------------


def due(cal: WeeklyCalendar, start: datetime, **target: float) -> datetime:
    return add_business_time(cal, start.astimezone(UTC), timedelta(**target)).astimezone(NY)


def test_email_on_tuesday_at_10_is_due_10_10_because_staffed_hours_are_running() -> None:
    assert due(STAFFED, local(2026, 5, 12, 10, 0), minutes=10) == local(2026, 5, 12, 10, 10)


def test_email_on_saturday_22_05_waits_for_sunday_07_00_so_is_due_07_10() -> None:
    assert due(STAFFED, local(2026, 5, 16, 22, 5), minutes=10) == local(2026, 5, 17, 7, 10)
    # The same on the spring-forward night: Sunday's 07:00 is EDT, 8 h 55 min later.
    assert due(STAFFED, local(2026, 3, 7, 22, 5), minutes=10) == local(2026, 3, 8, 7, 10)


def test_medium_case_on_friday_23_30_gets_30_min_to_midnight_then_3_h_30_from_saturday_07() -> None:
    assert due(STAFFED, local(2026, 5, 15, 23, 30), hours=4) == local(2026, 5, 16, 10, 30)


def test_low_case_on_saturday_21_00_gets_1_h_then_7_h_of_sunday_so_is_due_14_00() -> None:
    assert due(STAFFED, local(2026, 5, 16, 21, 0), hours=8) == local(2026, 5, 17, 14, 0)


def test_one_hour_around_the_clock_through_fall_back_ends_at_the_same_wall_time_in_est() -> None:
    received = local(2026, 11, 1, 1, 30)  # EDT, the first 01:30
    answer = add_business_time(ALL_HOURS, received, timedelta(hours=1))
    assert answer == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    assert answer.astimezone(NY).replace(tzinfo=None) == datetime(2026, 11, 1, 1, 30)
    assert answer.astimezone(NY).tzname() == "EST"


def test_a_whole_day_around_the_clock_lasts_23_h_in_spring_and_25_h_in_autumn() -> None:
    for day, hours in [
        ((2026, 3, 8), 23),
        ((2026, 11, 1), 25),
        ((2027, 3, 14), 23),
        ((2027, 11, 7), 25),
        ((2026, 6, 1), 24),
    ]:
        start = local(*day)
        assert business_time_between(ALL_HOURS, start, start + timedelta(days=2)) == timedelta(
            hours=hours + 24
        )


def test_an_interval_starting_in_the_spring_gap_opens_at_03_00_edt() -> None:
    cal = WeeklyCalendar.from_hours("America/New_York", {"sun": ["02:30-05:00"]})
    assert next_open(cal, local(2026, 3, 8, 0, 0)) == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)
    assert business_time_between(cal, local(2026, 3, 8), local(2026, 3, 9)) == timedelta(hours=2)


def test_fall_back_starts_take_the_first_01_30_and_ends_the_second() -> None:
    def hours_open(span: str) -> timedelta:
        cal = WeeklyCalendar.from_hours("America/New_York", {"sun": [span]})
        return business_time_between(cal, local(2026, 11, 1), local(2026, 11, 2))

    assert hours_open("01:30-03:00") == timedelta(hours=2, minutes=30)
    assert hours_open("00:00-01:30") == timedelta(hours=2, minutes=30)
    assert hours_open("01:15-01:45") == timedelta(hours=1, minutes=30)
    # The wall clock never reads before 01:00 again once it has, so 00:00-01:00 stays one hour.
    assert hours_open("00:00-01:00") == timedelta(hours=1)


def test_intervals_across_midnight_are_one_stretch() -> None:
    cal = WeeklyCalendar.from_hours(
        "America/New_York", {"mon": ["07:00-24:00"], "tue": ["00:00-02:00"]}
    )
    assert due(cal, local(2026, 5, 11, 23, 55), minutes=10) == local(2026, 5, 12, 0, 5)
    assert is_open(cal, local(2026, 5, 12, 0, 0))
    assert not is_open(cal, local(2026, 5, 12, 2, 0))


def test_a_holiday_closes_its_date_and_an_exception_opens_it_again() -> None:
    cal = WeeklyCalendar.from_hours(
        "America/New_York",
        {day: ["09:00-17:00"] for day in WEEKDAYS[:5]},
        holidays=["2026-12-25"],
        exceptions={"2026-12-26": ["10:00-12:00"]},
    )
    # Thursday 16:55 + 10 min: 5 min on Thursday, Christmas closed, 5 min on Saturday's opening.
    assert due(cal, local(2026, 12, 24, 16, 55), minutes=10) == local(2026, 12, 26, 10, 5)
    assert not is_open(cal, local(2026, 12, 25, 12, 0))


def test_a_target_that_runs_out_at_closing_time_is_due_at_closing_not_next_morning() -> None:
    assert due(STAFFED, local(2026, 5, 16, 21, 50), minutes=10) == local(2026, 5, 16, 22, 0)


def test_zero_duration_at_a_closed_instant_is_the_next_opening() -> None:
    assert due(STAFFED, local(2026, 5, 12, 3, 0), minutes=0) == local(2026, 5, 12, 7, 0)
    assert due(STAFFED, local(2026, 5, 12, 23, 0), minutes=0) == local(2026, 5, 12, 23, 0)
    assert due(STAFFED, local(2026, 5, 16, 22, 0), minutes=0) == local(2026, 5, 17, 7, 0)


def test_answers_are_utc_whatever_zone_the_question_was_in() -> None:
    answer = add_business_time(STAFFED, local(2026, 5, 12, 10, 0), timedelta(minutes=10))
    assert answer.tzinfo is UTC
    assert answer == datetime(2026, 5, 12, 14, 10, tzinfo=UTC)


# --- bad input -----------------------------------------------------------------------------


def test_naive_instants_and_negative_durations_are_refused() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        is_open(STAFFED, datetime(2026, 5, 12, 10, 0))
    with pytest.raises(ValueError, match="negative"):
        add_business_time(STAFFED, local(2026, 5, 12), timedelta(minutes=-1))


def test_a_calendar_that_never_opens_again_says_so_instead_of_looping() -> None:
    closed = WeeklyCalendar.from_hours("UTC", {}, exceptions={"2026-05-12": ["09:00-10:00"]})
    assert next_open(closed, local(2026, 5, 1)) == datetime(2026, 5, 12, 9, 0, tzinfo=UTC)
    with pytest.raises(CalendarError, match="never open"):
        next_open(closed, local(2026, 5, 13))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("7-9", "is not an interval"),
        ("09:00-08:00", "ends before"),
        ("23:00-24:30", "24:00"),
        ("24:00-24:00", "time of day"),
        ("09:60-10:00", "time of day"),
    ],
)
def test_bad_intervals_are_named_with_the_problem(text: str, problem: str) -> None:
    with pytest.raises(CalendarError, match=problem):
        parse_interval(text)


def test_bad_calendars_are_refused_with_a_clear_error() -> None:
    with pytest.raises(CalendarError, match="not a time zone"):
        WeeklyCalendar.from_hours("Mars/Olympus", {})
    with pytest.raises(CalendarError, match="not a weekday"):
        WeeklyCalendar.from_hours("UTC", {"monday": ["09:00-17:00"]})
    with pytest.raises(CalendarError, match="is not a list"):
        WeeklyCalendar.from_hours("UTC", {"mon": "09:00-17:00"})
    with pytest.raises(CalendarError, match="not a date"):
        WeeklyCalendar.from_hours("UTC", {}, holidays=["25/12/2026"])


def test_touching_and_overlapping_intervals_merge() -> None:
    cal = WeeklyCalendar.from_hours("UTC", {"mon": ["09:00-12:00", "12:00-13:00", "10:00-11:00"]})
    assert cal.week[0] == ((540, 780),)
    assert cal == WeeklyCalendar.from_hours("UTC", {"mon": ["09:00-13:00"]})
    assert hash(cal) == hash(WeeklyCalendar.from_hours("UTC", {"mon": ["09:00-13:00"]}))


# --- rows of the service model -------------------------------------------------------------


def test_calendar_rows_become_the_same_pure_calendars(model: None) -> None:
    from caredesk.servicemodel.models import Calendar
    from caredesk.sla.calendars import calendar_for, from_row

    assert calendar_for("staffed") == STAFFED
    assert calendar_for("all-hours") == ALL_HOURS
    assert calendar_for("all-hours").always_open and not STAFFED.always_open
    assert calendar_for("staffed") is calendar_for("staffed")  # one cache of resolved days
    row = Calendar(
        key="x", name="x", time_zone="UTC", hours={"mon": ["09:00-17:00"]}, holidays=["2026-05-11"]
    )
    assert not is_open(from_row(row), datetime(2026, 5, 11, 10, 0, tzinfo=UTC))
    assert is_open(from_row(row), datetime(2026, 5, 18, 10, 0, tzinfo=UTC))
