"""Shifts: an agent with a rota is on duty only inside one of their shifts, overnight and
across the DST changes; coverage, the suggestion of who takes a ticket and phone routing
follow it, with query counts that do not grow with the number of agents."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st
from phone_helpers import Pbx

from caredesk.core.clock import now
from caredesk.desk.models import Notification
from caredesk.people import services as people
from caredesk.people.coverage import coming_on, on_duty, who_should_take
from caredesk.people.models import Shift, User
from caredesk.people.presence import set_presence
from caredesk.people.shifts import Rota, add_shift, parse_weekly, rota
from caredesk.phone.models import Call
from caredesk.phone.routing import route
from caredesk.sla.business_time import WEEKDAYS
from caredesk.sla.models import Clock
from caredesk.sla.tasks import notify_clock
from caredesk.tickets import services

ET = ZoneInfo("America/New_York")
NY = "America/New_York"
MONDAY_23 = datetime(2026, 11, 30, 23, 0, tzinfo=ET)
TUESDAY_02 = datetime(2026, 12, 1, 2, 0, tzinfo=ET)
TUESDAY_10 = datetime(2026, 12, 1, 10, 0, tzinfo=ET)
TUESDAY_12 = datetime(2026, 12, 1, 12, 0, tzinfo=ET)
SATURDAY_10 = datetime(2026, 12, 5, 10, 0, tzinfo=ET)


def weekly(spec: str) -> Shift:
    days, start, end = parse_weekly(spec)
    return Shift(days=days, start=start, end=end)


def dated(start: datetime, end: datetime) -> Shift:
    return Shift(starts_at=start, ends_at=end)


def rota_of_specs(*specs: str) -> Rota:
    found = rota([weekly(s) for s in specs], NY)
    assert found is not None
    return found


# --- the rota on its own: overnight, midnight, DST ------------------------------------------


def test_an_overnight_shift_splits_across_midnight() -> None:
    nights = rota_of_specs("mon-fri 22:00-07:00")
    on = [
        MONDAY_23,
        TUESDAY_02,
        datetime(2026, 12, 1, 6, 59, tzinfo=ET),
        # Friday night runs into Saturday morning.
        datetime(2026, 12, 5, 6, 30, tzinfo=ET),
    ]
    off = [
        datetime(2026, 11, 30, 21, 59, tzinfo=ET),
        datetime(2026, 12, 1, 7, 0, tzinfo=ET),
        TUESDAY_12,
        # Sunday night is not in the rota, so Monday 02:00 is off.
        datetime(2026, 11, 30, 2, 0, tzinfo=ET),
        datetime(2026, 12, 5, 22, 30, tzinfo=ET),
    ]
    assert [nights.on(t) for t in on] == [True] * len(on)
    assert [nights.on(t) for t in off] == [False] * len(off)
    assert nights.until(TUESDAY_02) == datetime(2026, 12, 1, 7, 0, tzinfo=ET)
    # Monday 23:00 to Tuesday 07:00 is one stretch, across midnight.
    assert nights.until(MONDAY_23) == datetime(2026, 12, 1, 7, 0, tzinfo=ET)
    assert nights.next_start(TUESDAY_12) == datetime(2026, 12, 1, 22, 0, tzinfo=ET)
    assert nights.next_start(TUESDAY_02) == datetime(2026, 12, 1, 22, 0, tzinfo=ET)
    assert nights.until(TUESDAY_12) is None


def test_an_end_of_24_00_is_midnight_and_touching_shifts_join() -> None:
    evening = rota_of_specs("sun 18:00-24:00", "mon 00:00-06:00")
    sunday_20 = datetime(2026, 11, 29, 20, 0, tzinfo=ET)
    assert evening.on(sunday_20) and evening.on(datetime(2026, 11, 30, 0, 0, tzinfo=ET))
    assert evening.until(sunday_20) == datetime(2026, 11, 30, 6, 0, tzinfo=ET)


def test_a_spring_forward_night_is_an_hour_shorter() -> None:
    # 2026-03-08: New York's clocks jump from 02:00 EST to 03:00 EDT.
    nights = rota_of_specs("sat 22:00-07:00")
    start = datetime(2026, 3, 7, 22, 0, tzinfo=ET)
    end = nights.until(start)
    assert end == datetime(2026, 3, 8, 7, 0, tzinfo=ET)
    assert end is not None and end - start == timedelta(hours=8)
    assert nights.on(datetime(2026, 3, 8, 3, 30, tzinfo=ET))
    assert not nights.on(datetime(2026, 3, 8, 7, 0, tzinfo=ET))


def test_a_fall_back_night_is_an_hour_longer_and_covers_both_half_past_ones() -> None:
    # 2026-11-01: 02:00 EDT becomes 01:00 EST; 01:30 happens twice.
    nights = rota_of_specs("sat 22:00-07:00")
    start = datetime(2026, 10, 31, 22, 0, tzinfo=ET)
    end = nights.until(start)
    assert end is not None and end - start == timedelta(hours=10)
    first = datetime(2026, 11, 1, 1, 30, tzinfo=ET)  # EDT
    second = first.replace(fold=1)  # EST
    assert first.utcoffset() != second.utcoffset()
    assert nights.on(first) and nights.on(second)


def test_a_dated_shift_counts_between_its_instants_and_joins_a_weekly_one() -> None:
    extra = rota(
        [
            weekly("thu 22:00-07:00"),
            dated(
                datetime(2026, 12, 25, 7, 0, tzinfo=ET), datetime(2026, 12, 25, 12, 0, tzinfo=ET)
            ),
        ],
        NY,
    )
    assert extra is not None
    christmas_eve_23 = datetime(2026, 12, 24, 23, 0, tzinfo=ET)
    assert extra.until(christmas_eve_23) == datetime(2026, 12, 25, 12, 0, tzinfo=ET)
    assert not extra.on(datetime(2026, 12, 25, 12, 0, tzinfo=ET))


def test_no_shifts_is_no_rota() -> None:
    assert rota([], NY) is None


def _wall_reference(lines: list[tuple[set[int], int, int]], instant: datetime) -> bool:
    """On duty by reading the wall clock minute by minute: the definition, away from DST."""
    local = instant.astimezone(ET)
    day, minute = local.weekday(), local.hour * 60 + local.minute
    for days, start, end in lines:
        if end > start and day in days and start <= minute < end:
            return True
        if end <= start and day in days and minute >= start:
            return True
        if end <= start and (day - 1) % 7 in days and minute < end:
            return True
    return False


_LINE = st.tuples(
    st.sets(st.integers(0, 6), min_size=1),
    st.integers(0, 23 * 4 + 3).map(lambda q: q * 15),
    st.integers(0, 24 * 4).map(lambda q: q * 15 % 1440),
)


@settings(max_examples=150, deadline=None)
@given(
    lines=st.lists(_LINE, min_size=1, max_size=3),
    minute=st.integers(0, 60 * 24 * 210),
)
def test_the_rota_matches_the_wall_clock_and_its_end_is_the_first_minute_off(
    lines: list[tuple[set[int], int, int]], minute: int
) -> None:
    shifts = [
        weekly(f"{','.join(WEEKDAYS[d] for d in sorted(days))} {_hhmm(start)}-{_hhmm(end)}")
        for days, start, end in lines
    ]
    found = rota(shifts, NY)
    assert found is not None
    # Between the 2027 DST changes (with a stretch's 8 days to spare), where the wall clock
    # reads each minute once; the DST nights have their own tests above.
    instant = datetime(2027, 3, 22, tzinfo=UTC) + timedelta(minutes=minute)
    assert found.on(instant) == _wall_reference(lines, instant)
    end = found.until(instant)
    if end is None:
        return
    t = instant
    while t < end:
        assert _wall_reference(lines, t)
        t += timedelta(minutes=15)
    assert _wall_reference(lines, end - timedelta(minutes=1))
    assert not _wall_reference(lines, end)


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


# --- coverage by the clock ------------------------------------------------------------------


@pytest.fixture
def night(emergency: User) -> User:
    """Robin of Emergency Care works nights, Monday to Friday, and left the desk available."""
    add_shift(emergency, actor=None, source="cli", weekly="mon-fri 22:00-07:00")
    set_presence(emergency, "available", actor=emergency, at=MONDAY_23 - timedelta(days=3))
    return emergency


def test_an_emergency_agent_on_nights_is_on_duty_at_two_and_not_at_noon(
    night: User, rep: User
) -> None:
    other = people.add_user("ec2@caredesk.test", role="emergency", name="Ari Days")
    set_presence(rep, "busy", actor=rep, at=TUESDAY_02 - timedelta(days=1))
    set_presence(other, "available", actor=other, at=TUESDAY_02 - timedelta(days=1))
    with time_machine.travel(TUESDAY_02, tick=False):
        assert set(on_duty("customer-care", at=now())) == {night, other}
        assert night in who_should_take("customer-care", at=now()).agents
    with time_machine.travel(TUESDAY_12, tick=False):
        # Every representative busy: the overflow goes to Emergency Care's day member only.
        found = who_should_take("customer-care", at=now())
        assert (found.team, found.overflow, found.agents) == ("emergency-care", True, [other])
        assert list(on_duty("emergency-care", at=now())) == [other]


def test_a_night_agent_alone_leaves_noon_to_the_representatives(night: User, rep: User) -> None:
    set_presence(rep, "busy", actor=rep, at=TUESDAY_10)
    found = who_should_take("customer-care", at=TUESDAY_12)
    assert (found.team, found.overflow, found.agents) == ("customer-care", False, [rep])
    assert "busy members" in found.reason
    assert list(on_duty("customer-care", at=TUESDAY_12)) == [rep]


def test_a_representative_on_saturdays_only_is_not_suggested_on_tuesday(
    rep: User, rep2: User
) -> None:
    add_shift(rep, actor=None, source="cli", weekly="sat 07:00-22:00")
    set_presence(rep, "available", actor=rep, at=TUESDAY_10 - timedelta(hours=1))
    set_presence(rep2, "busy", actor=rep2, at=TUESDAY_10 - timedelta(hours=1))
    with time_machine.travel(TUESDAY_10, tick=False):
        assert who_should_take("customer-care", at=now()).agents == [rep2]
    with time_machine.travel(SATURDAY_10, tick=False):
        assert who_should_take("customer-care", at=now()).agents == [rep, rep2]


def test_without_presence_the_roster_still_goes_by_shifts(rep: User, rep2: User) -> None:
    add_shift(rep, actor=None, source="cli", weekly="sat 07:00-22:00")
    assert list(on_duty("customer-care", at=TUESDAY_10)) == [rep2]
    assert set(on_duty("customer-care", at=SATURDAY_10)) == {rep, rep2}


def test_a_dated_shift_is_history_once_over(emergency: User) -> None:
    eve = datetime(2026, 12, 24, 22, 0, tzinfo=ET)
    with time_machine.travel(eve - timedelta(days=2), tick=False):
        add_shift(
            emergency, actor=None, source="cli", starts_at=eve, ends_at=eve + timedelta(hours=9)
        )
        set_presence(emergency, "available", actor=emergency)
    assert list(on_duty("emergency-care", at=eve - timedelta(hours=20))) == []
    assert list(on_duty("emergency-care", at=eve + timedelta(hours=4))) == [emergency]
    # Once over it no longer narrows anything: the agent follows the team again.
    assert list(on_duty("emergency-care", at=eve + timedelta(days=2))) == [emergency]


def test_shifts_never_extend_the_staffed_hours(rep: User, emergency: User) -> None:
    # A representative rostered at night is not the one who covers: Emergency Care is.
    add_shift(rep, actor=None, source="cli", weekly="mon-sun 00:00-24:00")
    set_presence(rep, "available", actor=rep, at=TUESDAY_02 - timedelta(hours=1))
    set_presence(emergency, "available", actor=emergency, at=TUESDAY_02 - timedelta(hours=1))
    assert who_should_take("customer-care", at=TUESDAY_02).agents == [emergency]


def test_who_comes_on_next(night: User, rep: User, rep2: User) -> None:
    add_shift(rep, actor=None, source="cli", weekly="mon-fri 07:00-15:00")
    add_shift(rep2, actor=None, source="cli", weekly="tue 07:00-15:00")
    upcoming = coming_on(at=TUESDAY_02)
    assert upcoming["customer-care"].at == datetime(2026, 12, 1, 7, 0, tzinfo=ET)
    assert upcoming["customer-care"].agents == [rep, rep2]
    # Robin is on now, so does not "come on"; at noon Robin is next, at 22:00.
    assert "emergency-care" not in upcoming
    assert coming_on(at=TUESDAY_12)["emergency-care"].agents == [night]
    assert coming_on(at=TUESDAY_12)["emergency-care"].at == datetime(2026, 12, 1, 22, tzinfo=ET)


# --- query counts stay flat as agents grow --------------------------------------------------


def _staff(n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        for role, spec in (
            ("representative", "mon-fri 07:00-15:00"),
            ("emergency", "sat 22:00-07:00"),
        ):
            agent = people.add_user(f"{role}{i}@caredesk.test", role=role, name=f"{role} {i}")
            add_shift(agent, actor=None, source="cli", weekly=spec)
            set_presence(agent, "available" if i % 2 else "busy", actor=agent, at=TUESDAY_02)


def _count(fn: Callable[[], object]) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


@pytest.mark.parametrize("at", [TUESDAY_02, TUESDAY_10])
def test_coverage_queries_do_not_grow_with_agents(
    rep: User, emergency: User, at: datetime, django_assert_max_num_queries: Callable[..., object]
) -> None:
    who_should_take("customer-care", at=at)  # the service model's cache, warm
    _staff(2)
    few = (
        _count(lambda: who_should_take("customer-care", at=at)),
        _count(lambda: list(on_duty("customer-care", at=at))),
        _count(lambda: coming_on(at=at)),
    )
    _staff(20, start=2)
    with django_assert_max_num_queries(2):
        found = who_should_take("customer-care", at=at)
    with django_assert_max_num_queries(5):
        present = list(on_duty("customer-care", at=at))
    with django_assert_max_num_queries(2):
        coming_on(at=at)
    if at == TUESDAY_10:  # the representatives' day shift
        assert len(found.agents) == len(present) == 22
    else:  # nobody present is on a shift at 02:00: the roster's members without shifts
        assert (found.agents, present) == ([], [emergency])
    assert few == (
        _count(lambda: who_should_take("customer-care", at=at)),
        _count(lambda: list(on_duty("customer-care", at=at))),
        _count(lambda: coming_on(at=at)),
    )


# --- phone routing follows the rota ---------------------------------------------------------


def test_a_call_on_tuesday_skips_the_saturday_representative(
    manager: User, rep: User, emergency: User
) -> None:
    add_shift(rep, actor=None, source="cli", weekly="sat 07:00-22:00")
    for agent in (rep, emergency):
        set_presence(agent, "available", actor=agent, at=TUESDAY_10 - timedelta(hours=1))
    pbx = Pbx(manager)
    with time_machine.travel(TUESDAY_10, tick=False):
        reply = pbx.send("newCall", "s-1", direction="in", from_="+12125550142", to="8884773448")
    assert (reply["routed_to"], reply["overflow"]) == ("emergency-care", True)
    with time_machine.travel(SATURDAY_10, tick=False):
        pbx.send("newCall", "s-2", direction="in", from_="+12125550142", to="8884773448")
    assert Call.objects.get(call_id="s-2").routed_to == "customer-care"


def test_a_night_call_goes_to_the_agent_on_the_night_shift(night: User) -> None:
    days = people.add_user("ec2@caredesk.test", role="emergency", name="Ari Days")
    add_shift(days, actor=None, source="cli", weekly="mon-fri 07:00-15:00")
    set_presence(days, "available", actor=days, at=TUESDAY_02 - timedelta(hours=1))
    decided = route(at=TUESDAY_02)
    assert (decided.team, decided.emergency_hours, decided.agent) == ("emergency-care", True, night)


# --- breach notices follow the rota ---------------------------------------------------------


def test_a_breach_notice_reaches_the_representatives_on_shift_only(
    rep: User, rep2: User, alice: User
) -> None:
    add_shift(rep, actor=None, source="cli", weekly="sat 07:00-22:00")
    with time_machine.travel(TUESDAY_10, tick=False):
        ticket = services.open_case(
            actor=rep2, subject="Reports are empty", channel="email", requester=alice
        )
    clock = Clock.objects.get(ticket=ticket, kind="first_response")
    with time_machine.travel(TUESDAY_10 + timedelta(minutes=11), tick=False):
        notify_clock.call_local(clock.pk, "breach")
    assert list(Notification.objects.values_list("user__email", flat=True)) == [rep2.email]
