"""The managers' dashboard: open tickets by team and age, compliance, breaches, charts."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from caredesk.people.models import User
from caredesk.servicemodel.choices import Channel
from caredesk.sla.services import sweep
from caredesk.tickets import services
from caredesk.tickets.models import Ticket

# Wednesday 10:00 in New York.
WEDNESDAY_10 = datetime(2026, 3, 11, 14, 0, tzinfo=UTC)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def email_case(rep: User, requester: User, subject: str, at: datetime) -> Ticket:
    return services.open_case(
        actor=rep, subject=subject, channel=Channel.EMAIL, requester=requester, at=at
    )


def breaches(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-breaches="\d">(\d+)<', page)]


def test_manager_sees_breaches_compliance_and_open_work(manager, rep, alice):
    with time_machine.travel(WEDNESDAY_10, tick=False) as clock:
        late = email_case(rep, alice, "Nobody answered", WEDNESDAY_10 - timedelta(minutes=30))
        answered = email_case(rep, alice, "Answered at once", WEDNESDAY_10 - timedelta(minutes=2))
        services.reply(answered, actor=rep, body="Here you are.", channel=Channel.EMAIL)
        email_case(rep, alice, "Old and open", WEDNESDAY_10 - timedelta(days=2))
        clock.move_to(WEDNESDAY_10 + timedelta(minutes=1))
        sweep()
        response = signed_in(manager).get("/desk/dashboard/")
    assert response.status_code == 200
    page = response.content.decode()
    # Today: the late case breached; this week also holds Monday's case, breached long ago.
    assert breaches(page) == [1, 2]
    assert re.search(r'id="overdue-count">2<', page)
    rows = {r.team.key: r.counts for r in response.context["open_rows"]}
    assert rows["customer-care"] == [2, 0, 0, 1, 0]
    assert rows["technical-support"] == [0, 0, 0, 0, 0]
    today = response.context["periods"][0]
    assert today.first_response.met == 1 and today.first_response.percent_met == 50.0
    assert 'id="fr-chart-title"' in page and 'id="esc-chart-title"' in page
    assert late.number  # the breach is the late case's


@pytest.mark.parametrize("who", ["rep", "engineer", "alice"])
def test_dashboard_is_for_managers_only(who, request):
    assert signed_in(request.getfixturevalue(who)).get("/desk/dashboard/").status_code == 404


def test_dashboard_link_only_for_managers(manager, rep):
    assert 'href="/desk/dashboard/"' in signed_in(manager).get("/desk/").content.decode()
    assert 'href="/desk/dashboard/"' not in signed_in(rep).get("/desk/").content.decode()


def test_dashboard_query_count_is_flat(manager, rep, alice, bob):
    client = signed_in(manager)
    with time_machine.travel(WEDNESDAY_10, tick=False):

        def fill(n: int) -> None:
            for i in range(n):
                ticket = email_case(rep, (alice, bob)[i % 2], f"Q {i}", WEDNESDAY_10)
                if i % 3 == 0:
                    services.escalate(ticket, actor=rep, to="technical-support", reason="x")

        fill(5)
        with CaptureQueriesContext(connection) as few:
            assert client.get("/desk/dashboard/").status_code == 200
        fill(40)
        with CaptureQueriesContext(connection) as many:
            assert client.get("/desk/dashboard/").status_code == 200
    assert len(many) == len(few)
