"""The new-case form for a representative on the phone: find the caller, see their open
tickets, open the case with the caller filled in."""

from __future__ import annotations

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from caredesk.people import services as people
from caredesk.people.models import User
from caredesk.servicemodel.choices import Channel
from caredesk.tickets import services
from caredesk.tickets.models import Ticket


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def open_case(rep: User, requester: User, subject: str) -> Ticket:
    return services.open_case(
        actor=rep, subject=subject, channel=Channel.PHONE, requester=requester
    )


def search(client: Client, text: str) -> str:
    response = client.get("/desk/new/callers/", {"caller_q": text}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    return response.content.decode()


def test_find_the_caller_by_phone_email_name_or_organization(rep, alice, gina):
    alice.phone = people.normalize_phone("(212) 555-0142")
    alice.save()
    open_case(rep, alice, "Dialer shows no agents")
    done = open_case(rep, alice, "Old question")
    services.resolve(done, actor=rep)
    client = signed_in(rep)
    for text in ["555-0142", "+1 212 555 0142", "alice@acme", "Alice", "acme"]:
        page = search(client, text)
        assert alice.email in page, text
        assert gina.email not in page, text
    page = search(client, "555 0142")
    assert "Dialer shows no agents" in page and "Old question" not in page
    assert "No contact matches" in search(client, "nobody-like-this")
    assert search(client, "a").count("caller-pick") == 0  # too short to search


def test_agents_are_not_callers(rep, alice):
    assert rep.email not in search(signed_in(rep), "caredesk.test")


def test_picking_the_caller_fills_the_form_and_shows_their_open_tickets(rep, alice, acme):
    open_case(rep, alice, "Dialer shows no agents")
    client = signed_in(rep)
    page = client.get("/desk/new/", {"caller": alice.pk}).content.decode()
    assert f'value="{alice.email}"' in page
    assert "CASE-100" in page and "Dialer shows no agents" in page
    assert f'<option value="{acme.pk}" selected>' in page
    response = client.post(
        f"/desk/new/?caller={alice.pk}",
        {
            "requester_email": alice.email,
            "organization": acme.pk,
            "subject": "Reports are empty",
            "priority": "medium",
            "channel": "phone",
        },
    )
    assert response.status_code == 302
    assert Ticket.objects.get(subject="Reports are empty").requester == alice


def test_search_works_without_javascript(rep, alice):
    page = signed_in(rep).get("/desk/new/", {"caller_q": "alice"}).content.decode()
    assert f'href="/desk/new/?caller={alice.pk}"' in page


def test_customers_cannot_search_callers(alice, bob):
    assert signed_in(alice).get("/desk/new/callers/", {"caller_q": "bob"}).status_code == 404


def test_caller_search_query_count_is_flat(rep, acme):
    client = signed_in(rep)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            search(client, "acme")
        return len(queries)

    def add(n: int, start: int) -> None:
        for i in range(start, start + n):
            contact = people.add_user(f"c{i}@acme.test", role="customer", org="acme")
            open_case(rep, contact, f"Question {i}")
            open_case(rep, contact, f"Another {i}")

    add(2, 0)
    few = count()
    add(10, 2)
    assert count() == few
