"""Explanations of due times: exact sentences for the guide's scenarios."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import example, given, settings
from hypothesis import strategies as st

from caredesk.sla.business_time import WEEKDAYS, WeeklyCalendar, add_business_time
from caredesk.sla.explain import (
    DAY_NAMES,
    describe_target,
    explain,
    explain_due,
    format_duration,
    hours_words,
    zone_label,
)

NY = ZoneInfo("America/New_York")
STAFFED = WeeklyCalendar.from_hours(
    "America/New_York",
    {day: ["07:00-22:00"] if day in ("sat", "sun") else ["07:00-24:00"] for day in WEEKDAYS},
)
ALL_HOURS = WeeklyCalendar.from_hours(
    "America/New_York", {day: ["00:00-24:00"] for day in WEEKDAYS}
)
EMAIL = hours_words("first_response", "email")


def local(y: int, mo: int, d: int, h: int = 0, mi: int = 0, *, fold: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=NY, fold=fold)


def why(cal: WeeklyCalendar, received: datetime, words: str = EMAIL, **target: float) -> str:
    due = add_business_time(cal, received.astimezone(UTC), timedelta(**target))
    return explain_due(received=received.astimezone(UTC), due=due, calendar=cal, hours=words)


def test_email_on_tuesday_at_10_is_answered_within_hours_by_10_10() -> None:
    assert why(STAFFED, local(2026, 5, 12, 10, 0), minutes=10) == (
        "received Tuesday 10:00 ET, within email-monitoring hours; due 10:10"
    )


def test_email_on_saturday_at_22_05_reads_exactly_as_the_issue_promises() -> None:
    assert why(STAFFED, local(2026, 5, 16, 22, 5), minutes=10) == (
        "received Saturday 22:05 ET, outside email-monitoring hours;"
        " the clock starts Sunday 07:00; due 07:10"
    )


def test_the_same_saturday_email_on_the_spring_forward_night_reads_the_same() -> None:
    assert why(STAFFED, local(2026, 3, 7, 22, 5), minutes=10) == (
        "received Saturday 22:05 ET, outside email-monitoring hours;"
        " the clock starts Sunday 07:00; due 07:10"
    )


def test_an_early_email_names_no_day_for_a_clock_that_starts_the_same_day() -> None:
    assert why(STAFFED, local(2026, 5, 12, 5, 0), minutes=10) == (
        "received Tuesday 05:00 ET, outside email-monitoring hours; the clock starts 07:00;"
        " due 07:10"
    )


def test_medium_case_on_friday_23_30_names_saturday_because_it_is_due_the_next_day() -> None:
    assert why(STAFFED, local(2026, 5, 15, 23, 30), "staffed hours", hours=4) == (
        "received Friday 23:30 ET, within staffed hours; due Saturday 10:30"
    )


def test_high_case_at_2_am_says_emergency_staffing_and_counts_around_the_clock() -> None:
    received = local(2026, 5, 12, 2, 0).astimezone(UTC)
    due = add_business_time(ALL_HOURS, received, timedelta(hours=2))
    assert explain(
        target="escalation",
        priority="high",
        received=received,
        calendar=ALL_HOURS,
        duration=timedelta(hours=2),
        due=due,
        emergency=True,
    ) == (
        "high escalation within 2 h, counted around the clock:"
        " received Tuesday 02:00 ET, during emergency staffing; due 04:00"
    )


def test_an_hour_across_fall_back_tells_the_two_01_30s_apart() -> None:
    assert why(ALL_HOURS, local(2026, 11, 1, 1, 30), hours=1) == (
        "received Sunday 01:30 EDT; due 01:30 EST"
    )
    assert why(ALL_HOURS, local(2026, 11, 1, 0, 45), hours=1) == (
        "received Sunday 00:45 ET; due 01:45 EDT"
    )


def test_a_phone_answer_target_shows_seconds() -> None:
    received = local(2026, 5, 12, 2, 0).astimezone(UTC)
    due = add_business_time(ALL_HOURS, received, timedelta(seconds=30))
    assert explain(
        target="first_response",
        channel="phone",
        received=received,
        calendar=ALL_HOURS,
        duration=timedelta(seconds=30),
        due=due,
    ) == (
        "phone first response within 30 s, counted around the clock:"
        " received Tuesday 02:00 ET; due 02:00:30"
    )


def test_the_full_email_explanation_states_the_promise_first() -> None:
    received = local(2026, 5, 16, 22, 5).astimezone(UTC)
    due = add_business_time(STAFFED, received, timedelta(minutes=10))
    assert explain(
        target="first_response",
        channel="email",
        received=received,
        calendar=STAFFED,
        duration=timedelta(minutes=10),
        due=due,
    ) == (
        "email first response within 10 min, counted in email-monitoring hours:"
        " received Saturday 22:05 ET, outside email-monitoring hours;"
        " the clock starts Sunday 07:00; due 07:10"
    )


def test_a_clock_held_up_more_than_a_week_gives_the_date() -> None:
    closed = {date(2026, 12, 24) + timedelta(days=k) for k in range(10)}
    cal = WeeklyCalendar(time_zone=STAFFED.time_zone, week=STAFFED.week, holidays=frozenset(closed))
    assert why(cal, local(2026, 12, 23, 23, 55), "staffed hours", hours=1) == (
        "received Wednesday 23:55 ET, within staffed hours; due Sunday 2027-01-03 07:55"
    )


def test_zones_without_a_generic_name_keep_their_abbreviation_and_say_when_it_changes() -> None:
    london = WeeklyCalendar.from_hours("Europe/London", {day: ["00:00-24:00"] for day in WEEKDAYS})
    received = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)
    due = add_business_time(london, received, timedelta(hours=4))
    assert explain_due(received=received, due=due, calendar=london) == (
        "received Saturday 23:30 GMT; due Sunday 04:30 BST"
    )


def test_zone_labels() -> None:
    assert zone_label(local(2026, 1, 5, 12), "America/New_York") == "ET"
    assert zone_label(local(2026, 7, 5, 12), "America/New_York") == "ET"
    assert zone_label(local(2026, 11, 1, 1, 30, fold=1), "America/New_York") == "EST"
    chicago = datetime(2026, 7, 5, 12, tzinfo=ZoneInfo("America/Chicago"))
    assert zone_label(chicago, "America/Chicago") == "CT"
    shanghai = datetime(2026, 7, 5, 12, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert zone_label(shanghai, "Asia/Shanghai") == "CST"  # China's, not Central


def test_describe_target_and_durations() -> None:
    assert (
        describe_target(
            target="escalation", priority="medium", duration=timedelta(hours=4), calendar=STAFFED
        )
        == "medium escalation within 4 h, counted in staffed hours"
    )
    assert (
        describe_target(
            target="escalation", priority="critical", duration=timedelta(hours=2), emergency=True
        )
        == "critical escalation during emergency staffing within 2 h"
    )
    assert [format_duration(timedelta(seconds=s)) for s in (0, 30, 600, 5400, 3600, 187_200)] == [
        "0 s",
        "30 s",
        "10 min",
        "1 h 30 min",
        "1 h",
        "2 d 4 h",
    ]
    assert hours_words("escalation", "email") == "staffed hours"


@settings(max_examples=200, deadline=None)
@example(received=datetime(2027, 11, 7, 5, 0, tzinfo=UTC), minutes=0, cal=STAFFED)  # 01:00 EDT
@example(received=datetime(2026, 11, 1, 5, 30, tzinfo=UTC), minutes=60, cal=ALL_HOURS)
@given(
    received=st.datetimes(datetime(2026, 1, 1), datetime(2027, 12, 31), timezones=st.just(UTC)),
    minutes=st.integers(0, 3 * 1440),
    cal=st.sampled_from([STAFFED, ALL_HOURS]),
)
def test_every_explanation_ends_with_the_due_wall_clock(
    received: datetime, minutes: int, cal: WeeklyCalendar
) -> None:
    received = received.replace(microsecond=0)
    due = add_business_time(cal, received, timedelta(minutes=minutes))
    text = explain_due(received=received, due=due, calendar=cal, hours=EMAIL)
    wall = due.astimezone(NY)
    clock = f"{wall:%H:%M}" + (f":{wall.second:02d}" if wall.second else "")
    assert text.startswith(f"received {DAY_NAMES[received.astimezone(NY).weekday()]} ")
    assert text.rsplit("; due ", 1)[1].split(" ")[-1] in (clock, "EST", "EDT")
    assert clock in text.rsplit("; due ", 1)[1]
    assert ("the clock starts" in text) == (not cal.always_open and "outside" in text)
