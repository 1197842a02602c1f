"""The desk's ticket lists: SLA-urgency order with countdowns, filters, search, bulk changes,
keyset pages over the urgency order, the in-place refresh, and flat query counts."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from caredesk.desk import views
from caredesk.people.models import User
from caredesk.servicemodel.choices import Channel
from caredesk.tickets import services
from caredesk.tickets.models import Event, Ticket

# Tuesday 10:00 in New York: inside staffed and email-monitored hours.
TUESDAY_10 = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def email_case(rep: User, requester: User, subject: str, *, at: datetime, **kw: object) -> Ticket:
    """A case by email: its first-response clock runs (10 min of email-monitored time)."""
    return services.open_case(
        actor=rep,
        subject=subject,
        description="Campaign 12 will not start.",
        channel=Channel.EMAIL,
        requester=requester,
        at=at,
        **kw,
    )


def numbers_in(page: str) -> list[str]:
    return re.findall(r'name="tickets" value="([^"]+)"', page)


@pytest.fixture
def clock():
    with time_machine.travel(TUESDAY_10, tick=False) as traveller:
        yield traveller


def test_queue_is_ordered_by_the_earliest_running_due_time(clock, rep, alice):
    later = email_case(rep, alice, "Opened just now", at=TUESDAY_10)
    sooner = email_case(rep, alice, "Opened 5 minutes ago", at=TUESDAY_10 - timedelta(minutes=5))
    answered = email_case(rep, alice, "Already answered", at=TUESDAY_10 - timedelta(minutes=8))
    services.reply(answered, actor=rep, body="On it.", channel=Channel.EMAIL)
    page = signed_in(rep).get("/desk/", {"view": "all"}).content.decode()
    assert numbers_in(page) == [sooner.number, later.number, answered.number]
    # The countdown reads right without JavaScript, and carries its due time for the script.
    assert re.search(r'data-due="2026-03-10T14:05:00\+00:00"[^>]*>in 5 min<', page)
    assert re.search(r'data-due="2026-03-10T14:10:00\+00:00"[^>]*>in 10 min<', page)


def test_overdue_tickets_show_how_late_they_are(clock, rep, alice):
    email_case(rep, alice, "Waiting too long", at=TUESDAY_10 - timedelta(minutes=25))
    page = signed_in(rep).get("/desk/", {"view": "all"}).content.decode()
    assert 'class="countdown due-overdue"' in page
    assert ">overdue 15 min<" in page


def test_breaching_soon_holds_tickets_due_within_the_hour(clock, rep, engineer, alice):
    soon = email_case(rep, alice, "Due in ten minutes", at=TUESDAY_10)
    calm = email_case(rep, alice, "Answered", at=TUESDAY_10)
    services.reply(calm, actor=rep, body="Done.", channel=Channel.EMAIL)
    page = signed_in(rep).get("/desk/", {"view": "breaching"}).content.decode()
    assert numbers_in(page) == [soon.number]


def test_filters_narrow_the_list(clock, rep, rep2, alice, gina):
    mine = email_case(rep, alice, "Acme and mine", at=TUESDAY_10)
    services.assign(mine, actor=rep, agent=rep)
    theirs = email_case(rep, gina, "Globex and theirs", at=TUESDAY_10)
    services.assign(theirs, actor=rep, agent=rep2)
    nobody = email_case(rep, alice, "Acme, nobody's", at=TUESDAY_10, priority="high")
    client = signed_in(rep)

    def listed(**filters: str) -> set[str]:
        return set(numbers_in(client.get("/desk/", {"view": "all", **filters}).content.decode()))

    assert listed(assignee="me") == {mine.number}
    assert listed(assignee="none") == {nobody.number}
    assert listed(assignee=str(rep2.pk)) == {theirs.number}
    assert listed(organization=str(gina.organization_id)) == {theirs.number}
    assert listed(priority="high") == {nobody.number}
    assert listed(team="customer-care") == {mine.number, theirs.number, nobody.number}
    assert listed(team="technical-support") == set()
    # A filter value that is not offered is ignored rather than an error page.
    assert client.get("/desk/", {"view": "all", "team": "no-such-team"}).status_code == 200


def test_search_reads_descriptions_requesters_and_organizations(clock, rep, alice, gina):
    dialer = email_case(rep, alice, "Dialer", at=TUESDAY_10)
    other = email_case(rep, gina, "Reports are slow", at=TUESDAY_10)
    client = signed_in(rep)
    assert numbers_in(client.get("/desk/", {"q": "globex"}).content.decode()) == [other.number]
    assert numbers_in(client.get("/desk/", {"q": "alice campaign"}).content.decode()) == [
        dialer.number
    ]


def test_keyset_pages_walk_the_urgency_order_once(clock, rep, alice, monkeypatch):
    made = []
    for i in range(5):
        made.append(email_case(rep, alice, f"Ticket {i}", at=TUESDAY_10 - timedelta(minutes=i)))
    answered = made[2]
    services.reply(answered, actor=rep, body="Done.", channel=Channel.EMAIL)
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    client = signed_in(rep)
    seen: list[str] = []
    query: dict[str, str] | str = {"view": "all"}
    while True:
        response = client.get("/desk/", query) if isinstance(query, dict) else client.get(query)
        seen += numbers_in(response.content.decode())
        if not response.context["older"]:
            break
        query = "/desk/?" + response.context["older"]
    expected = [t.number for t in reversed(made) if t != answered] + [answered.number]
    assert seen == expected
    assert client.get("/desk/", {"view": "all", "cursor": "garbage"}).status_code == 200


def test_bulk_assign_changes_each_ticket_with_its_own_event(clock, rep, alice):
    first = email_case(rep, alice, "One", at=TUESDAY_10)
    second = email_case(rep, alice, "Two", at=TUESDAY_10)
    untouched = email_case(rep, alice, "Three", at=TUESDAY_10)
    response = signed_in(rep).post(
        "/desk/bulk/",
        {"tickets": [first.number, second.number], "agent": "me", "next": "/desk/?view=all"},
    )
    assert response.status_code == 302 and response["Location"] == "/desk/?view=all"
    for ticket in (first, second):
        ticket.refresh_from_db()
        assert ticket.assignee == rep
        assert Event.objects.filter(ticket=ticket, kind="ticket.assigned").count() == 1
    untouched.refresh_from_db()
    assert untouched.assignee is None


def test_bulk_status_reports_each_refusal_and_does_the_rest(clock, rep, engineer, alice):
    fine = email_case(rep, alice, "Can be resolved", at=TUESDAY_10)
    closed = email_case(rep, alice, "Closed already", at=TUESDAY_10)
    services.resolve(closed, actor=rep)
    services.close(closed, actor=rep)
    client = signed_in(rep)
    response = client.post(
        "/desk/bulk/", {"tickets": [fine.number, closed.number], "status": "resolved"}, follow=True
    )
    page = response.content.decode()
    fine.refresh_from_db()
    assert fine.status == "resolved"
    assert f"Changed 1 ticket(s): {fine.number}." in page
    assert f"{closed.number}: " in page


def test_bulk_without_a_change_or_a_ticket_changes_nothing(clock, rep, alice):
    ticket = email_case(rep, alice, "One", at=TUESDAY_10)
    client = signed_in(rep)
    page = client.post("/desk/bulk/", {"tickets": [ticket.number]}, follow=True).content.decode()
    assert "Nothing was changed: Choose an assignee or a status" in page
    page = client.post("/desk/bulk/", {"agent": "me"}, follow=True).content.decode()
    assert "Check at least one ticket." in page
    # Leaving for another site is not a way back.
    response = client.post(
        "/desk/bulk/", {"tickets": [ticket.number], "agent": "me", "next": "https://evil.test/"}
    )
    assert response["Location"] == "/desk/"
    assert Event.objects.filter(kind="ticket.assigned", ticket=ticket).count() == 1


def test_customers_cannot_bulk_change(clock, rep, alice):
    ticket = email_case(rep, alice, "Mine", at=TUESDAY_10)
    response = signed_in(alice).post(
        "/desk/bulk/", {"tickets": [ticket.number], "status": "closed"}
    )
    assert response.status_code == 404
    ticket.refresh_from_db()
    assert ticket.status == "new"


def test_the_list_refreshes_only_when_tickets_changed(clock, rep, alice):
    ticket = email_case(rep, alice, "One", at=TUESDAY_10)
    client = signed_in(rep)
    first = client.get("/desk/", {"view": "all"}, headers={"HX-Request": "true"})
    stamp = re.search(r'data-stamp="(\d+)"', first.content.decode())[1]
    poll = {"view": "all", "since": stamp}
    assert client.get("/desk/", poll, headers={"HX-Request": "true"}).status_code == 204
    services.assign(ticket, actor=rep, agent=rep)
    fresh = client.get("/desk/", poll, headers={"HX-Request": "true"})
    assert fresh.status_code == 200
    body = fresh.content.decode()
    assert body.lstrip().startswith('<div id="results"') and "Casey Rep" in body
    assert f"since={int(stamp) + 1}" in body


@pytest.mark.parametrize("partial", [False, True])
def test_queue_query_count_is_flat_from_10_to_100_tickets(
    clock, rep, engineer, alice, bob, gina, django_assert_max_num_queries, partial
):
    client = signed_in(rep)
    people = [alice, bob, gina]
    headers = {"HX-Request": "true"} if partial else {}

    def fill(until: int) -> None:
        for i in range(Ticket.objects.count(), until):
            ticket = email_case(rep, people[i % 3], f"Question {i}", at=TUESDAY_10)
            if i % 2:
                services.assign(ticket, actor=rep, agent=rep)
            if i % 5 == 0:
                services.escalate(ticket, actor=rep, to="technical-support", reason="outage")

    fill(10)
    scenarios = [{"view": "all"}, {"view": "customer-care"}, {"q": "question"}]
    few = []
    for query in scenarios:
        client.get("/desk/", query, headers=headers)  # warm the per-process model cache
        with CaptureQueriesContext(connection) as counted:
            assert client.get("/desk/", query, headers=headers).status_code == 200
        few.append(len(counted))
    fill(100)
    for query, baseline in zip(scenarios, few, strict=True):
        client.get("/desk/", query, headers=headers)
        with django_assert_max_num_queries(baseline):
            assert client.get("/desk/", query, headers=headers).status_code == 200


def test_the_desks_lists_write_the_markup_djangos_select_writes(rep, alice, gina):
    from django import forms

    from caredesk.desk.forms import BulkForm, QueueFilterForm, active_agents
    from caredesk.desk.widgets import Select

    agents = active_agents(rep)
    filters = QueueFilterForm(
        {"status": "open", "assignee": str(rep.pk), "organization": str(gina.organization_id)},
        user=rep,
        teams=[("customer-care", "Customer Care & <Co>")],
        agents=agents,
    )
    assert filters.is_valid()
    fields = [filters[n] for n in filters.fields if n != "q"] + [BulkForm(agents=agents)["agent"]]
    ours = [str(f) for f in fields]
    assert 'value="open" selected' in ours[1] and "Customer Care &amp; &lt;Co&gt;" in ours[0]
    for field in fields:
        assert isinstance(field.field.widget, Select)
        field.field.widget.__class__ = forms.Select  # Django's own, by its templates
    assert [str(f) for f in fields] == ours
    grouped = [("Team", [("1", "One"), ("2", "Two")]), ("3", 'Three "3"')]
    attrs = {"id": "id_x", "required": True, "hidden": False}
    assert Select(choices=grouped).render("x", "2", attrs) == forms.Select(choices=grouped).render(
        "x", "2", attrs
    )
