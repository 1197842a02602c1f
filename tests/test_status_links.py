"""Tickets linked to incidents: the agents' links, and the requesters told on resolution."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail

from caredesk.core.errors import Forbidden
from caredesk.people.models import User
from caredesk.status import links, services
from caredesk.status.models import Component, Incident, LinkedTicket
from caredesk.tickets import services as tickets
from caredesk.tickets.models import Event, Ticket

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def case(rep: User, requester: User, subject: str = "Calls drop") -> Ticket:
    return tickets.open_case(actor=rep, requester=requester, subject=subject, channel="email")


@pytest.fixture
def incident(manager: User) -> Incident:
    api = Component.objects.get(environment_id="NA3", name="API")
    return services.create_incident(
        actor=manager,
        name="NA3 API errors",
        body="Investigating.",
        components={api.pk: "major_outage"},
    )


def test_requesters_of_open_linked_tickets_are_told_once_when_it_resolves(
    rep: User, manager: User, alice: User, bob: User, incident: Incident, commit: Callable[[], Any]
) -> None:
    alices, bobs = case(rep, alice), case(rep, bob)
    links.link_ticket(incident, alices, actor=rep)
    links.link_ticket(incident, bobs, actor=rep)
    links.link_ticket(incident, alices, actor=rep)  # again: nothing new
    assert LinkedTicket.objects.count() == 2
    assert Event.objects.filter(ticket=alices, kind="incident_linked").count() == 1
    tickets.resolve(bobs, actor=rep)  # already solved: Bob hears nothing more
    mail.outbox.clear()

    with commit():
        services.update_incident(incident, actor=manager, status="monitoring", body="Watching.")
    assert mail.outbox == []
    with commit():
        services.update_incident(incident, actor=manager, status="resolved", body="Fixed.")
    (told,) = mail.outbox
    assert told.to == ["alice@acme.test"]
    assert told.subject == f"[{alices.number}] Resolved: NA3 API errors"
    assert "/status/incidents/" in told.body and told.alternatives
    assert Event.objects.filter(ticket=alices, kind="incident_resolved_notice").exists()

    # Reopened and resolved again: Alice was already told.
    with commit():
        services.update_incident(incident, actor=manager, status="investigating", body="Back.")
    with commit():
        services.update_incident(incident, actor=manager, status="resolved", body="Fixed.")
    assert len(mail.outbox) == 1


def test_an_upgrade_ticket_links_to_its_maintenance(
    rep: User, manager: User, alice: User, commit: Callable[[], Any]
) -> None:
    api = Component.objects.get(environment_id="NA3", name="API")
    with time_machine.travel(T0, tick=False):
        upgrade = services.schedule_maintenance(
            actor=manager,
            name="API upgrade to 12.1",
            body="Upgrading.",
            scheduled_for=T0 + timedelta(hours=1),
            scheduled_until=T0 + timedelta(hours=2),
            components=[api.pk],
            target_version="12.1",
        )
        links.link_ticket(upgrade, case(rep, alice, "Please upgrade NA3"), actor=rep)
    mail.outbox.clear()
    with time_machine.travel(T0 + timedelta(hours=1), tick=False), commit():
        services.advance_maintenances()
    with time_machine.travel(T0 + timedelta(hours=2), tick=False), commit():
        services.advance_maintenances()
    assert [m.to for m in mail.outbox] == [["alice@acme.test"]]
    assert "maintenance" in mail.outbox[0].body


def test_only_agents_link(alice: User, rep: User, incident: Incident) -> None:
    with pytest.raises(Forbidden):
        links.link_ticket(incident, case(rep, alice), actor=alice)
    assert not LinkedTicket.objects.exists()


def test_the_api_links_lists_and_unlinks(
    rep: User, alice: User, incident: Incident, api: Any
) -> None:
    ticket = case(rep, alice)
    client = api(rep)
    url = f"/api/v1/status/incidents/{incident.pk}/tickets"
    response = client.post(url, {"ticket": ticket.number})
    assert response.status_code == 201, response.content
    assert [t["number"] for t in response.json()] == [ticket.number]
    assert response.json()[0]["requester"] == "alice@acme.test"
    assert client.get(url).json()[0]["told_at"] is None
    assert client.post(url, {"ticket": "CASE-99999"}).status_code == 404
    assert client.post(f"{url}/{ticket.number}/unlink").json() == []
    assert Event.objects.filter(ticket=ticket, kind="incident_unlinked").exists()
    assert api(alice).get(url).status_code == 403
