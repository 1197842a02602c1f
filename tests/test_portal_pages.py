"""Every portal page, seen by customers of two organizations: nobody sees another
organization's tickets or contacts; colleagues see each other's requests only where their
organization shares them; the status headline and escalation numbers show."""

from __future__ import annotations

import pytest
from django.test import Client

from caredesk.people.models import Organization, User
from caredesk.servicemodel.choices import Channel
from caredesk.status.models import Component, ComponentStatus
from caredesk.tickets import services
from caredesk.tickets.models import Ticket


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def case(rep: User, requester: User, subject: str) -> Ticket:
    return services.open_case(
        actor=rep, subject=subject, channel=Channel.PHONE, requester=requester
    )


@pytest.fixture
def tickets(rep, alice, bob, gina):
    acme_case = case(rep, alice, "Acme dialer outage")
    tsup = services.escalate(acme_case, actor=rep, to="technical-support", reason="outage")
    services.reply(tsup, actor=rep, body="Acme: we restarted it.", channel=Channel.EMAIL)
    bob_case = case(rep, bob, "Training question from Bob")
    globex_case = case(rep, gina, "Globex export empty")
    return {"acme": acme_case, "tsup": tsup, "bob": bob_case, "globex": globex_case}


def pages_of(client: Client, numbers: list[str]) -> str:
    paths = ["/", "/requests/"] + [f"/requests/{n}/" for n in numbers]
    return "\n".join(client.get(p).content.decode() for p in paths)


def test_no_page_shows_another_organizations_tickets_or_contacts(tickets, alice, gina):
    gina_sees = pages_of(signed_in(gina), [tickets["globex"].number])
    assert "Globex export empty" in gina_sees
    for secret in [
        "Acme dialer outage",
        "Training question from Bob",
        "we restarted it",
        alice.email,
        "Alice",
        tickets["tsup"].number,
    ]:
        assert secret not in gina_sees, secret
    for number in [tickets["acme"].number, tickets["tsup"].number, tickets["bob"].number]:
        assert signed_in(gina).get(f"/requests/{number}/").status_code == 404

    alice_sees = pages_of(signed_in(alice), [tickets["acme"].number, tickets["tsup"].number])
    assert "Globex export empty" not in alice_sees and gina.email not in alice_sees
    assert signed_in(alice).get(f"/requests/{tickets['globex'].number}/").status_code == 404


def test_colleagues_share_only_where_the_organization_allows(tickets, alice, bob):
    page = signed_in(alice).get("/requests/").content.decode()
    assert "Training question from Bob" in page and "Requests of Acme" in page
    assert signed_in(alice).get(f"/requests/{tickets['bob'].number}/").status_code == 200
    Organization.objects.filter(pk=alice.organization_id).update(shares_tickets=False)
    alice = User.objects.get(pk=alice.pk)
    page = signed_in(alice).get("/requests/").content.decode()
    assert "Training question from Bob" not in page and "Your requests" in page
    assert signed_in(alice).get(f"/requests/{tickets['bob'].number}/").status_code == 404


def test_requests_show_their_escalation_numbers(tickets, alice):
    page = signed_in(alice).get("/requests/").content.decode()
    assert tickets["tsup"].number in page
    detail = signed_in(alice).get(f"/requests/{tickets['acme'].number}/").content.decode()
    assert f'href="/requests/{tickets["tsup"].number}/"' in detail


def test_home_shows_the_status_headline(alice):
    page = signed_in(alice).get("/").content.decode()
    assert "All systems operational" in page
    component = Component.objects.first()
    assert component is not None, "the model loads status components"
    Component.objects.filter(pk=component.pk).update(status=ComponentStatus.MAJOR_OUTAGE)
    page = signed_in(alice).get("/").content.decode()
    assert "status-major_outage" in page and "Major outage" in page
