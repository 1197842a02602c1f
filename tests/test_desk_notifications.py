"""In-desk SLA notices: a case passes its due time, the sweep runs, and the assignee sees
the notice counted in the nav and listed at /desk/notifications/, read once opened."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from caredesk.desk.models import Notification
from caredesk.people.models import User
from caredesk.sla import services as sla
from caredesk.sla.models import Clock
from caredesk.sla.tasks import notify_clock
from caredesk.tickets import services
from caredesk.tickets.models import Ticket

ET = ZoneInfo("America/New_York")
TUESDAY_10 = datetime(2026, 12, 1, 10, 0, tzinfo=ET)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def case(rep: User, rep2: User, alice: User, manager: User) -> Ticket:
    with time_machine.travel(TUESDAY_10, tick=False):
        ticket = services.open_case(
            actor=rep, subject="Reports are empty", channel="email", requester=alice
        )
        services.assign(ticket, actor=rep, agent=rep2)
    return ticket


def _sweep_at(at: datetime, capture) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(at, tick=False), capture(execute=True):
        sla.sweep(at=at)


def test_the_assignee_sees_the_breach_in_the_desk(
    case: Ticket, rep2: User, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(rep2)
    assert "unread</span>" not in client.get("/desk/").content.decode()

    _sweep_at(TUESDAY_10 + timedelta(minutes=8), django_capture_on_commit_callbacks)
    _sweep_at(TUESDAY_10 + timedelta(minutes=10), django_capture_on_commit_callbacks)

    nav = client.get("/desk/").content.decode()
    assert '<span class="count">2<span class="visually-hidden"> unread</span>' in nav
    page = client.get("/desk/notifications/").content.decode()
    assert page.index("SLA breached: first response") < page.index("SLA due soon")
    assert case.number in page and "Reports are empty" in page
    assert "(new)" in page
    breach = Notification.objects.get(user=rep2, kind="breach")
    assert breach.created_at == TUESDAY_10 + timedelta(minutes=10)
    assert breach.read_at is not None  # opened: read, and the nav count is gone
    assert "unread</span>" not in client.get("/desk/").content.decode()
    assert "(new)" not in client.get("/desk/notifications/").content.decode()


def test_the_managers_are_told_too_and_the_customer_never(
    case: Ticket, manager: User, alice: User, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    _sweep_at(TUESDAY_10 + timedelta(minutes=11), django_capture_on_commit_callbacks)
    assert Notification.objects.filter(user=manager, kind="breach").count() == 1
    assert not Notification.objects.filter(user=alice).exists()
    assert signed_in(alice).get("/desk/notifications/").status_code == 404


def test_a_retried_notice_is_not_posted_twice(
    case: Ticket, rep2: User, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    _sweep_at(TUESDAY_10 + timedelta(minutes=11), django_capture_on_commit_callbacks)
    clock = Clock.objects.get(ticket=case, kind="first_response")
    notify_clock.call_local(clock.pk, "breach")  # as Huey's retry would
    assert Notification.objects.filter(user=rep2, kind="breach").count() == 1


def test_an_agent_sees_only_their_own_notices(
    case: Ticket, rep2: User, engineer: User, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    _sweep_at(TUESDAY_10 + timedelta(minutes=11), django_capture_on_commit_callbacks)
    page = signed_in(engineer).get("/desk/notifications/").content.decode()
    assert case.number not in page and "No notices." in page
    assert Notification.objects.get(user=rep2, kind="breach").read_at is None


def test_the_notices_page_reads_a_fixed_number_of_queries(
    rep: User, rep2: User, alice: User, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(rep2)

    def count() -> int:
        client.get("/desk/notifications/")  # the first visit marks read; measure the steady state
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/desk/notifications/").status_code == 200
        return len(ctx.captured_queries)

    def open_and_breach(n: int) -> None:
        for i in range(n):
            with time_machine.travel(TUESDAY_10, tick=False):
                ticket = services.open_case(
                    actor=rep, subject=f"Case {i}", channel="email", requester=alice
                )
                services.assign(ticket, actor=rep, agent=rep2)
        _sweep_at(TUESDAY_10 + timedelta(minutes=11), django_capture_on_commit_callbacks)

    open_and_breach(1)
    one = count()
    open_and_breach(6)
    # A first sweep after the due time marks the warning and the breach of each case.
    assert Notification.objects.filter(user=rep2).count() == 14
    assert count() == one
