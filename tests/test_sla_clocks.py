"""SLA clocks on real tickets, with the clock moved by time-machine.

Times are Eastern (the guide's "ET"); late November and early December 2026 are EST.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from caredesk.people.models import User
from caredesk.sla.models import Clock
from caredesk.tickets import services
from caredesk.tickets.models import Event, Ticket

ET = ZoneInfo("America/New_York")


def et(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=ET)


def clock(ticket: Ticket, kind: str) -> Clock:
    return Clock.objects.get(ticket=ticket, kind=kind)


def email_case(rep: User, alice: User, **kw: object) -> Ticket:
    return services.open_case(
        actor=rep, subject="Reports are empty", channel="email", requester=alice, **kw
    )


@pytest.mark.parametrize(
    ("reply_minute", "outcome"), [(9, "met"), (11, "breached")], ids=["10:09", "10:11"]
)
def test_email_on_tuesday_morning_is_due_ten_minutes_later(
    rep: User, alice: User, reply_minute: int, outcome: str
) -> None:
    with time_machine.travel(et(1, 10, month=12), tick=False) as traveller:
        case = email_case(rep, alice)
        first = clock(case, "first_response")
        assert first.due_at == et(1, 10, 10, month=12)
        traveller.move_to(et(1, 10, reply_minute, month=12))
        services.reply(case, actor=rep, body="We are on it.")
    first.refresh_from_db()
    assert first.stopped_at == et(1, 10, reply_minute, month=12)
    assert first.outcome == outcome
    assert first.breached_at == (et(1, 10, 10, month=12) if outcome == "breached" else None)


def test_email_on_saturday_night_waits_for_sunday_morning(rep: User, alice: User) -> None:
    with time_machine.travel(et(28, 22, 5), tick=False):
        case = email_case(rep, alice)
    first = clock(case, "first_response")
    assert first.due_at == et(29, 7, 10)
    assert "Saturday 22:05 ET" in first.explanation
    assert "07:10" in first.explanation


def test_customer_reply_or_note_does_not_stop_the_first_response_clock(
    rep: User, alice: User
) -> None:
    with time_machine.travel(et(1, 10, month=12), tick=False) as traveller:
        case = email_case(rep, alice)
        traveller.shift(timedelta(minutes=2))
        services.reply(case, actor=alice, body="Any news?")
        services.add_note(case, actor=rep, body="Looking into the report job.")
    assert clock(case, "first_response").stopped_at is None


def test_high_phone_case_at_two_in_the_night_escalated_and_assigned(
    rep: User, emergency: User, engineer: User, alice: User
) -> None:
    with time_machine.travel(et(1, 2, month=12), tick=False) as traveller:
        case = services.open_case(
            actor=emergency,
            subject="Dialer down",
            channel="phone",
            requester=alice,
            priority="high",
        )
        assert clock(case, "first_response").outcome == "met"
        traveller.move_to(et(1, 2, 20, month=12))
        tsup = services.escalate(case, actor=emergency, to="technical-support", reason="outage")
        escalation = clock(tsup, "escalation")
        assert escalation.started_at == et(1, 2, month=12)
        assert escalation.emergency is True
        assert escalation.due_at == et(1, 4, month=12)  # the model's 2 h emergency target
        traveller.move_to(et(1, 2, 50, month=12))
        services.assign(tsup, actor=emergency, agent=engineer)
    escalation.refresh_from_db()
    assert (escalation.outcome, escalation.stopped_at) == ("met", et(1, 2, 50, month=12))


def test_medium_case_on_friday_night_runs_on_into_saturday(rep: User, alice: User) -> None:
    with time_machine.travel(et(27, 23, 30), tick=False):
        case = email_case(rep, alice)
        tsup = services.escalate(case, actor=rep, to="technical-support", reason="broken export")
    escalation = clock(tsup, "escalation")
    assert escalation.emergency is False
    # 30 staffed minutes on Friday, then 3 h 30 from Saturday 07:00.
    assert escalation.due_at == et(28, 10, 30)
    assert clock(case, "first_response").due_at == et(27, 23, 40)


def test_waiting_on_the_customer_pauses_the_escalation_clock(
    rep: User, engineer: User, alice: User
) -> None:
    with time_machine.travel(et(1, 10, month=12), tick=False) as traveller:
        case = email_case(rep, alice, priority="critical")
        tsup = services.escalate(case, actor=rep, to="technical-support", reason="outage")
        assert clock(tsup, "escalation").due_at == et(1, 11, month=12)
        traveller.move_to(et(1, 10, 20, month=12))
        services.set_status(tsup, actor=engineer, status="waiting_on_customer")
        assert clock(tsup, "escalation").due_at is None
        traveller.move_to(et(1, 11, month=12))
        services.set_status(tsup, actor=engineer, status="open")
    assert clock(tsup, "escalation").due_at == et(1, 11, 40, month=12)


def test_raising_low_to_critical_mid_clock_recomputes_the_due_time(rep: User, alice: User) -> None:
    with time_machine.travel(et(1, 10, month=12), tick=False) as traveller:
        case = email_case(rep, alice, priority="low")
        tsup = services.escalate(case, actor=rep, to="technical-support", reason="slow")
        assert clock(tsup, "escalation").due_at == et(1, 18, month=12)
        traveller.move_to(et(1, 10, 30, month=12))
        services.set_priority(tsup, actor=rep, priority="critical")
    assert clock(tsup, "escalation").due_at == et(1, 11, month=12)


def test_resolving_stops_every_running_clock(rep: User, alice: User) -> None:
    with time_machine.travel(et(1, 10, month=12), tick=False):
        case = email_case(rep, alice)
        services.resolve(case, actor=rep)
    assert clock(case, "first_response").outcome == "met"


def test_clocks_show_in_the_ticket_json(api, rep: User, alice: User) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(et(28, 22, 5), tick=False):
        case = email_case(rep, alice)
        body = api(rep).get(f"/api/v1/tickets/{case.number}").json()
    [first] = body["clocks"]
    assert first["kind"] == "first_response"
    assert first["due_at"].startswith("2026-11-29T12:10")  # 07:10 EST in UTC
    assert first["outcome"] is None
    assert "07:10" in first["explanation"]
    assert Event.objects.filter(ticket=case).exists()
