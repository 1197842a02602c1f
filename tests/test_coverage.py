"""Coverage: who is on duty, and who should take a team's next ticket, by the clock and by
the agents' presence."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from caredesk.core.clock import now
from caredesk.people import services as people
from caredesk.people.coverage import on_duty, who_should_take
from caredesk.people.models import User
from caredesk.people.presence import set_presence
from caredesk.tickets import services

ET = ZoneInfo("America/New_York")
TUESDAY_10 = datetime(2026, 12, 1, 10, 0, tzinfo=ET)
SATURDAY_2159 = datetime(2026, 12, 5, 21, 59, tzinfo=ET)
SATURDAY_2200 = datetime(2026, 12, 5, 22, 0, tzinfo=ET)
SUNDAY_23 = datetime(2026, 12, 6, 23, 0, tzinfo=ET)


@pytest.fixture
def present() -> Callable[..., None]:
    def mark(*pairs: tuple[User, str]) -> None:
        for agent, status in pairs:
            set_presence(agent, status, actor=agent, at=TUESDAY_10)

    return mark


def test_tuesday_morning_an_available_representative_takes_it(
    rep: User, rep2: User, emergency: User, present: Callable[..., None]
) -> None:
    present((rep, "busy"), (rep2, "available"), (emergency, "available"))
    with time_machine.travel(TUESDAY_10, tick=False):
        found = who_should_take("customer-care", at=now())
    assert found.team == "customer-care" and not found.overflow
    # Available before busy; Emergency Care is not suggested while the team has someone free.
    assert found.agents == [rep2, rep]
    assert found.first == rep2


def test_when_every_representative_is_busy_emergency_care_takes_the_overflow(
    rep: User, rep2: User, emergency: User, present: Callable[..., None]
) -> None:
    present((rep, "busy"), (rep2, "busy"), (emergency, "available"))
    with time_machine.travel(TUESDAY_10, tick=False):
        found = who_should_take("customer-care", at=now())
    assert (found.team, found.overflow, found.agents) == ("emergency-care", True, [emergency])
    assert "overflow" in found.reason


def test_sunday_night_emergency_care_covers(
    rep: User, emergency: User, present: Callable[..., None]
) -> None:
    present((rep, "available"), (emergency, "available"))
    with time_machine.travel(SUNDAY_23, tick=False):
        found = who_should_take("customer-care", at=now())
        assert list(on_duty("customer-care", at=now())) == [emergency]
    assert (found.team, found.agents, found.overflow) == ("emergency-care", [emergency], False)
    assert "Outside staffed hours" in found.reason


def test_saturday_until_ten_pm_customer_care_is_on(
    rep: User, emergency: User, present: Callable[..., None]
) -> None:
    present((rep, "available"), (emergency, "available"))
    with time_machine.travel(SATURDAY_2159, tick=False):
        assert who_should_take("customer-care", at=now()).agents == [rep]
        assert list(on_duty("customer-care", at=now())) == [rep]
    with time_machine.travel(SATURDAY_2200, tick=False):
        assert who_should_take("customer-care", at=now()).team == "emergency-care"


def test_the_least_loaded_available_agent_comes_first_in_one_query(
    rep: User,
    rep2: User,
    alice: User,
    present: Callable[..., None],
    django_assert_num_queries: Callable[..., object],
) -> None:
    present((rep, "available"), (rep2, "available"))
    for subject in ("Reports are empty", "Login fails"):
        case = services.open_case(actor=rep, subject=subject, channel="email", requester=alice)
        services.assign(case, actor=rep, agent=rep)
    resolved = services.open_case(actor=rep, subject="Old", channel="email", requester=alice)
    services.assign(resolved, actor=rep, agent=rep2)
    services.resolve(resolved, actor=rep2)
    services.assign(
        services.open_case(actor=rep, subject="Export", channel="email", requester=alice),
        actor=rep,
        agent=rep2,
    )
    # The service model comes from the per-process cache: one ranking query, one for shifts.
    with django_assert_num_queries(2):
        found = who_should_take("customer-care", at=TUESDAY_10)
    assert found.agents == [rep2, rep]
    assert [a.open_tickets for a in found.agents] == [1, 2]  # type: ignore[attr-defined]


def test_away_and_offline_agents_are_not_on_duty(
    rep: User, rep2: User, emergency: User, present: Callable[..., None]
) -> None:
    third = people.add_user("rep3@caredesk.test", role="representative", name="Lee Rep")
    present((rep, "away"), (rep2, "available"), (third, "busy"))
    assert set(on_duty("customer-care", at=TUESDAY_10)) == {rep2, third}
    present((rep2, "offline"), (third, "offline"), (emergency, "busy"))
    # Nobody of the team at work: Emergency Care's present members cover.
    assert list(on_duty("customer-care", at=TUESDAY_10)) == [emergency]


def test_without_any_presence_the_roster_is_on_duty(rep: User, rep2: User) -> None:
    # A desk that keeps no presence still notifies the team in its hours.
    assert set(on_duty("customer-care", at=TUESDAY_10)) == {rep, rep2}


def test_nobody_on_duty_at_night_is_said_plainly(rep: User) -> None:
    found = who_should_take("customer-care", at=SUNDAY_23)
    assert (found.team, found.agents, found.first) == ("emergency-care", [], None)
