"""Surges: several new cases about one environment in a short window suggest an incident."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.test import Client
from model_files import MODEL_FILE

from caredesk.people.models import User
from caredesk.servicemodel import loader
from caredesk.status import links, services, surges
from caredesk.status.models import Component, Environment, Incident
from caredesk.tickets import services as tickets
from caredesk.tickets.models import Ticket

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def call(rep: User, subject: str, *, minutes: float, environment: str | None = None) -> Ticket:
    with time_machine.travel(T0 + timedelta(minutes=minutes), tick=False):
        return tickets.open_case(
            actor=rep, subject=subject, channel="phone", environment=environment
        )


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def found(minutes: float) -> list[surges.Surge]:
    return surges.surges(at=T0 + timedelta(minutes=minutes))


def test_three_cases_about_one_environment_within_the_window_are_a_surge(rep: User) -> None:
    call(rep, "Dialer shows no agents on NA4", minutes=0)
    call(rep, "Calls drop", minutes=5, environment="NA4")
    assert found(6) == [], "two are not yet a surge"
    call(rep, "na4 API answers 503", minutes=12)
    call(rep, "NA45 is not an environment", minutes=13)  # a word, not part of one
    call(rep, "Reports slow on NA3", minutes=14)

    (surge,) = found(15)
    assert surge.environment.key == "NA4"
    assert surge.numbers == ["CASE-102", "CASE-101", "CASE-100"]
    assert [c.name for c in surge.components] == ["API"], "the component the tickets name"
    # The window slides: half an hour after the first, it has left the window.
    assert found(30.5) == []


def test_an_escalation_counts_its_inquiry_once(rep: User, engineer: User) -> None:
    first = call(rep, "NA4 down", minutes=0)
    call(rep, "NA4 down too", minutes=1)
    with time_machine.travel(T0 + timedelta(minutes=2), tick=False):
        tickets.escalate(first, actor=rep, to="technical-support", reason="outage on NA4")
    assert found(3) == []


def test_the_threshold_comes_from_the_model(rep: User, tmp_path: Path) -> None:
    source = MODEL_FILE.read_text().replace(
        '[environments.NA4]\nname = "NA4"\n',
        '[environments.NA4]\nname = "NA4"\nsurge_tickets = 2\nsurge_window = "10m"\n',
    )
    path = tmp_path / "model.toml"
    path.write_text(source)
    loader.load(path)
    na4 = Environment.objects.get(pk="NA4")
    assert (na4.surge_tickets, na4.surge_window) == (2, timedelta(minutes=10))
    assert Environment.objects.get(pk="NA3").surge_tickets == 3
    exported = loader.export()
    assert exported["environments"]["NA4"]["surge_tickets"] == 2
    assert "surge_tickets" not in exported["environments"]["NA3"]
    assert exported["status_page"]["surge_window"] == "30m"

    call(rep, "NA4 down", minutes=0)
    call(rep, "NA4 down too", minutes=9)
    assert [s.environment.key for s in found(9.5)] == ["NA4"]
    call(rep, "NA4 still down", minutes=21)
    assert found(21.5) == [], "the first two are more than ten minutes apart from it"


def test_a_bad_threshold_is_a_clear_error(model: None, tmp_path: Path) -> None:
    source = MODEL_FILE.read_text().replace('surge_window = "30m"', 'surge_window = "soon"')
    path = tmp_path / "model.toml"
    path.write_text(source)
    with pytest.raises(loader.ModelFileError, match=r"status_page\.surge_window"):
        loader.load(path)


def test_an_open_incident_turns_the_suggestion_into_linking(rep: User, manager: User) -> None:
    cases = [call(rep, f"NA4 dialer down ({n})", minutes=n) for n in range(3)]
    api = Component.objects.get(environment_id="NA4", name="API")
    incident = services.create_incident(
        actor=manager, name="NA4 dialer", body="Looking.", components={api.pk: "major_outage"}
    )
    (surge,) = found(5)
    assert surge.incident == incident and len(surge.unlinked) == 3
    for case in cases:
        links.link_ticket(incident, case, actor=rep)
    assert found(5) == [], "nothing is left to suggest"


def test_the_desk_suggests_and_composes_the_incident(
    rep: User, manager: User, engineer: User
) -> None:
    for n in range(3):
        call(rep, f"Dialer down on NA4 ({n})", minutes=n)
    with time_machine.travel(T0 + timedelta(minutes=5), tick=False):
        seen_by_engineer = signed_in(engineer).get("/desk/").content.decode()
        assert "3 new tickets about NA4 in the last 30 minutes" in seen_by_engineer
        assert "A manager or admin can open an incident" in seen_by_engineer
        desk = signed_in(manager)
        html = desk.get("/desk/").content.decode()
        assert "Compose incident for NA4" in html
        start = html.index("/desk/status/incidents/new/?")
        url = html[start : html.index('"', start)].replace("&amp;", "&")
        composer = desk.get(url).content.decode()
        assert 'value="NA4: service disruption"' in composer
        for number in ("CASE-100", "CASE-101", "CASE-102"):
            assert f'name="tickets" value="{number}"' in composer
        response = desk.post(
            "/desk/status/incidents/new/",
            {
                "name": "NA4 dialer down",
                "status": "investigating",
                "environment": "NA4",
                "body": "Agents see no calls on NA4.",
                "tickets": ["CASE-100", "CASE-101", "CASE-102"],
                "publish": "1",
            },
        )
        assert response.status_code == 302
        incident = Incident.objects.get()
        assert sorted(incident.tickets.values_list("number", flat=True)) == [
            "CASE-100",
            "CASE-101",
            "CASE-102",
        ]
        assert "new tickets about NA4" not in desk.get("/desk/").content.decode()


def test_the_check_costs_the_same_however_many_tickets(
    rep: User, django_assert_num_queries: Any
) -> None:
    for n in range(3):
        call(rep, f"NA4 down ({n})", minutes=n)
    with django_assert_num_queries(4):  # environments, tickets, components, open incident
        assert len(found(10)) == 1
    for n in range(3, 15):
        call(rep, f"NA4 down ({n})", minutes=n / 2)
    with django_assert_num_queries(4):
        (surge,) = found(10)
    assert len(surge.tickets) == 15


def test_the_check_costs_the_same_however_many_environments_surge(
    rep: User, manager: User, django_assert_num_queries: Any
) -> None:
    for n in range(3):
        call(rep, f"NA4 down ({n})", minutes=n)
    na4 = Component.objects.get(environment_id="NA4", name="API")
    on_na4 = services.create_incident(
        actor=manager, name="NA4 dialer", body="Looking.", components={na4.pk: "major_outage"}
    )
    links.link_ticket(on_na4, Ticket.objects.get(number="CASE-100"), actor=rep)
    with django_assert_num_queries(5):  # and the links to the open incident
        (surge,) = found(10)
    assert surge.incident == on_na4 and [t.number for t in surge.unlinked] == [
        "CASE-102",
        "CASE-101",
    ]
    for key in ("NA3", "NA5", "SFTP"):
        for n in range(3):
            call(rep, f"{key} down ({n})", minutes=n)
    on_na5 = services.create_incident(
        actor=manager,
        name="NA5 dialer",
        body="Looking.",
        components={Component.objects.filter(environment_id="NA5")[0].pk: "major_outage"},
    )
    with django_assert_num_queries(5):
        every = found(10)
    assert {s.environment.key: s.incident for s in every} == {
        "NA3": None,
        "NA4": on_na4,
        "NA5": on_na5,
        "SFTP": None,
    }


def test_an_organization_on_one_environment_names_it(
    rep: User, alice: User, bob: User, gina: User
) -> None:
    assert alice.organization is not None and gina.organization is not None
    alice.organization.environments.set(["NA5"])
    gina.organization.environments.set(["NA5", "NA6"])  # two: their cases name neither
    for n, requester in enumerate((alice, bob, gina, gina)):
        with time_machine.travel(T0 + timedelta(minutes=n), tick=False):
            tickets.open_case(
                actor=rep,
                subject="The dialer shows no agents",
                channel="phone",
                requester=requester,
            )
    assert found(5) == []
    call(rep, "NA5 dialer down", minutes=6)
    (surge,) = found(7)
    assert surge.environment.key == "NA5" and surge.numbers == ["CASE-104", "CASE-101", "CASE-100"]
