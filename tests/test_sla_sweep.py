"""The sweep marks warnings and breaches once, writes events and notifies by email."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.test import Client

from caredesk.people.models import User
from caredesk.sla import services as sla
from caredesk.sla.models import Clock
from caredesk.tickets import services
from caredesk.tickets.models import Event

ET = ZoneInfo("America/New_York")
TUESDAY_10 = datetime(2026, 12, 1, 10, 0, tzinfo=ET)


@pytest.fixture
def case(rep: User, alice: User, manager: User):  # type: ignore[no-untyped-def]
    with time_machine.travel(TUESDAY_10, tick=False):
        return services.open_case(
            actor=rep, subject="Reports are empty", channel="email", requester=alice
        )


def test_warning_at_eighty_percent_then_breach_at_due(
    case, rep, manager, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    # The worker's notice goes to whoever is on duty when it runs: Tuesday morning here.
    at_eight = time_machine.travel(TUESDAY_10 + timedelta(minutes=8), tick=False)
    with at_eight, django_capture_on_commit_callbacks(execute=True):
        assert sla.sweep(at=TUESDAY_10 + timedelta(minutes=7)).warned == []
        warned = sla.sweep(at=TUESDAY_10 + timedelta(minutes=8))
    assert len(warned.warned) == 1 and warned.breached == []
    assert Event.objects.filter(ticket=case, kind="sla.warning").count() == 1
    assert len(mail.outbox) == 1
    assert "SLA due soon" in mail.outbox[0].subject and case.number in mail.outbox[0].subject
    assert {rep.email, manager.email} <= set(mail.outbox[0].to)

    at_ten = time_machine.travel(TUESDAY_10 + timedelta(minutes=10), tick=False)
    with at_ten, django_capture_on_commit_callbacks(execute=True):
        breached = sla.sweep(at=TUESDAY_10 + timedelta(minutes=10))
        again = sla.sweep(at=TUESDAY_10 + timedelta(minutes=30))
    assert len(breached.breached) == 1 and again.breached == [] and again.warned == []
    clock = Clock.objects.get(ticket=case, kind="first_response")
    assert (clock.outcome, clock.breached_at) == ("breached", TUESDAY_10 + timedelta(minutes=10))
    assert Event.objects.filter(ticket=case, kind="sla.breached").count() == 1
    assert "SLA breached" in mail.outbox[1].subject
    assert "email-monitoring hours" in mail.outbox[1].body

    # The desk's timeline says both in words, in the service's time zone.
    desk = Client()
    desk.force_login(rep)
    page = desk.get(f"/desk/tickets/{case.number}/").content.decode()
    assert "warned that the first-response target is close (due Dec 1, 10:10 AM)" in page
    assert "marked the first-response target missed (due Dec 1, 10:10 AM)" in page


def test_a_reply_after_the_breach_keeps_the_breach(case, rep) -> None:  # type: ignore[no-untyped-def]
    sla.sweep(at=TUESDAY_10 + timedelta(minutes=11))
    with time_machine.travel(TUESDAY_10 + timedelta(minutes=12), tick=False):
        services.reply(case, actor=rep, body="Sorry for the wait.")
    clock = Clock.objects.get(ticket=case, kind="first_response")
    assert clock.outcome == "breached" and clock.stopped_at is not None


def test_stopped_clocks_are_never_swept(case, rep) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(TUESDAY_10 + timedelta(minutes=5), tick=False):
        services.reply(case, actor=rep, body="On it.")
    result = sla.sweep(at=TUESDAY_10 + timedelta(hours=2))
    assert result.warned == [] and result.breached == []
    assert Clock.objects.get(ticket=case).outcome == "met"


def test_the_sweep_reads_a_fixed_number_of_queries_when_nothing_is_due(
    case,
    django_assert_max_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    with django_assert_max_num_queries(2):
        sla.sweep(at=TUESDAY_10 + timedelta(minutes=1))
