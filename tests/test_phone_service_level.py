"""Answer-time service level from replayed calls, and the Erlang C staffing forecast."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from hypothesis import given
from hypothesis import strategies as st
from phone_helpers import Pbx

from caredesk.people.models import User
from caredesk.people.presence import set_presence
from caredesk.phone import erlang
from caredesk.phone.service_level import compute

ET = ZoneInfo("America/New_York")
TUESDAY_10 = datetime(2026, 12, 1, 10, 0, tzinfo=ET)


# --- Erlang C, against known values -------------------------------------------------------


def test_erlang_c_exact_small_cases() -> None:
    assert erlang.erlang_c(1, 0.5) == pytest.approx(0.5)  # M/M/1: the load itself
    assert erlang.erlang_c(2, 1.0) == pytest.approx(1 / 3)
    assert erlang.erlang_c(5, 5.0) == 1.0  # agents that cannot keep up: everyone waits
    assert erlang.erlang_c(3, 0.0) == 0.0


def test_the_textbook_example_100_calls_in_30_minutes_at_180_seconds() -> None:
    # 10 Erlangs; the published worked example: 14 agents answer 88.84% within 20 s,
    # with 17.41% of callers waiting at all; 13 agents reach only 79.56%.
    assert erlang.erlang_c(14, 10.0) == pytest.approx(0.1741, abs=5e-5)
    assert erlang.service_level(14, 10.0, 180, 20) == pytest.approx(0.8884, abs=5e-5)
    assert erlang.service_level(13, 10.0, 180, 20) == pytest.approx(0.7956, abs=5e-5)
    needed = erlang.agents_needed(
        calls=100, interval_seconds=1800, handle_seconds=180, target_seconds=20
    )
    assert needed == 14


def test_no_calls_need_no_agents() -> None:
    assert erlang.agents_needed(calls=0, interval_seconds=900, handle_seconds=200) == 0


def _erlang_c_by_factorials(agents: int, traffic: float) -> float:
    top = traffic**agents / math.factorial(agents) * agents / (agents - traffic)
    return top / (sum(traffic**k / math.factorial(k) for k in range(agents)) + top)


@given(st.integers(min_value=1, max_value=60), st.floats(min_value=0.05, max_value=0.95))
def test_the_recurrence_agrees_with_the_factorial_formula(agents: int, load: float) -> None:
    traffic = agents * load
    assert erlang.erlang_c(agents, traffic) == pytest.approx(
        _erlang_c_by_factorials(agents, traffic), rel=1e-9
    )


@given(
    st.floats(min_value=1, max_value=500),
    st.floats(min_value=30, max_value=900),
)
def test_the_forecast_meets_the_goal_and_one_agent_fewer_does_not(
    calls: float, handle: float
) -> None:
    needed = erlang.agents_needed(calls=calls, interval_seconds=1800, handle_seconds=handle)
    traffic = calls * handle / 1800
    assert erlang.service_level(needed, traffic, handle, 30) >= 0.8
    if needed > 1:
        assert erlang.service_level(needed - 1, traffic, handle, 30) < 0.8


# --- figures from calls ------------------------------------------------------------------------


@pytest.fixture
def morning(manager: User, rep: User, emergency: User) -> None:
    """10:00-10:30 on site: answered in 10 s and in 50 s, an abandon after 40 s, a short
    abandon after 2 s, a busy; 10:30: one overflow to Emergency Care answered in 20 s;
    and a transfer leg, which is not a new offered call."""
    rep.extension = "201"
    rep.save(update_fields=["extension"])
    set_presence(rep, "available", actor=rep, at=TUESDAY_10)
    set_presence(emergency, "available", actor=emergency, at=TUESDAY_10)
    pbx = Pbx(manager)

    def call(call_id: str, start: float, wait: float, talk: float | None, cause: str) -> None:
        with time_machine.travel(TUESDAY_10 + timedelta(seconds=start), tick=False) as clock:
            pbx.send("newCall", call_id, direction="in", from_="+12125550142")
            clock.shift(wait)
            if talk is not None:
                pbx.send("answer", call_id, answeringNumber="201")
                clock.shift(talk)
            pbx.send("hangup", call_id, cause=cause)

    call("a", 0, 10, 200, "normalClearing")
    call("b", 300, 50, 400, "normalClearing")
    call("c", 600, 40, None, "cancel")
    call("d", 900, 2, None, "cancel")
    call("e", 1000, 1, None, "busy")
    with time_machine.travel(TUESDAY_10 + timedelta(seconds=1100), tick=False):
        pbx.send("newCall", "a2", direction="in", from_="201", origCallId="a")
    set_presence(rep, "busy", actor=rep, at=TUESDAY_10)
    call("f", 1800, 20, 300, "normalClearing")


def test_figures_per_interval_and_staffing(morning: None) -> None:
    with time_machine.travel(TUESDAY_10 + timedelta(hours=2), tick=False):
        report = compute(interval=30)
    on_site, overflow = report.rows
    assert (on_site.interval, on_site.routed_to) == ("2026-12-01T10:00:00-05:00", "customer-care")
    assert (on_site.offered, on_site.answered, on_site.abandoned) == (4, 2, 1)
    assert (on_site.short_abandoned, on_site.other_missed) == (1, 1)
    assert on_site.answered_in_target == 1 and on_site.service_level == 25.0
    assert on_site.asa_seconds == 30.0 and on_site.handle_seconds == 300.0
    assert on_site.agents_needed == 2  # 4 calls x 300 s in 30 min: 0.67 Erlangs
    assert (overflow.interval, overflow.routed_to) == (
        "2026-12-01T10:30:00-05:00",
        "emergency-care",
    )
    assert (overflow.offered, overflow.answered_in_target, overflow.service_level) == (1, 1, 100.0)
    assert report.overall.offered == 5 and report.overall.service_level == 40.0
    assert [t.routed_to for t in report.totals] == ["customer-care", "emergency-care"]


def test_fifteen_minute_intervals_split_the_half_hour(morning: None) -> None:
    with time_machine.travel(TUESDAY_10 + timedelta(hours=2), tick=False):
        rows = compute(interval=15).rows
    assert [(r.interval[11:16], r.offered) for r in rows] == [
        ("10:00", 3),
        ("10:15", 1),
        ("10:30", 1),
    ]


def test_service_level_in_the_api_and_as_csv(
    api: Callable[..., Any], rep: User, alice: User, morning: None
) -> None:
    client = api(rep, scope="read")
    with time_machine.travel(TUESDAY_10 + timedelta(hours=2), tick=False):
        resp = client.get("/api/v1/calls/service-level", {"interval": 30})
        assert resp.status_code == 200, resp.content
        body = resp.json()
        assert body["overall"]["service_level"] == 40.0 and len(body["rows"]) == 2
        assert body["target_seconds"] == 30.0 and body["from"] == "2026-12-01"
        csv_resp = client.get("/api/v1/calls/service-level.csv", {"from": "2026-12-01"})
        assert csv_resp.status_code == 200
        lines = csv_resp.content.decode().splitlines()
        assert lines[0].startswith("interval,queue,routed_to,offered") and len(lines) == 3
        bad = client.get("/api/v1/calls/service-level", {"interval": 7})
        assert bad.status_code == 422 and bad.json()["field"] == "interval"
        assert api(alice).get("/api/v1/calls/service-level").status_code == 404
