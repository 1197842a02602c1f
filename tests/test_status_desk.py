"""The desk's status editor: components, incidents, maintenance, previews, linked tickets."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from html import unescape as html_unescape
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import Client

from caredesk.people.models import User
from caredesk.status import public, subscriptions
from caredesk.status.models import Component, ComponentChange, Incident, IncidentUpdate
from caredesk.tickets import services as tickets
from caredesk.tickets.models import Ticket

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    public.forget()
    yield
    public.forget()


@pytest.fixture
def dana(model: None) -> Any:
    """A confirmed email subscriber of the whole page."""
    subscriber = subscriptions.subscribe(actor=None, email="dana@example.test")
    return subscriptions.confirm(subscriber)


def comp(env: str, name: str) -> Component:
    return Component.objects.get(environment_id=env, name=name)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(response: Any) -> str:
    return str(response.content.decode())


def errors(response: Any) -> str:
    html = text(response)
    found = re.search(r'<div class="alert alert-error" role="alert">(.*?)</div>', html, re.S)
    return html_unescape(re.sub(r"<[^>]+>|\s+", " ", found.group(1))) if found else ""


def test_a_manager_sets_a_components_status_and_version(manager: User) -> None:
    desk = signed_in(manager)
    api = comp("NA4", "API")
    page = text(desk.get("/desk/status/"))
    assert f'action="/desk/status/components/{api.pk}/"' in page
    response = desk.post(
        f"/desk/status/components/{api.pk}/",
        {f"c{api.pk}-status": "partial_outage", f"c{api.pk}-version": "12.1"},
    )
    assert response.status_code == 302
    api.refresh_from_db()
    assert (api.status, api.version) == ("partial_outage", "12.1")
    change = ComponentChange.objects.get()
    assert (change.old_version, change.version, change.actor) == ("12.0", "12.1", manager)
    assert "Partial System Outage" in text(Client().get("/status/"))


def test_bad_component_input_is_a_clear_error_and_changes_nothing(manager: User) -> None:
    desk = signed_in(manager)
    api = comp("NA4", "API")
    response = desk.post(
        f"/desk/status/components/{api.pk}/",
        {f"c{api.pk}-status": "on_fire", f"c{api.pk}-version": "12.1"},
    )
    assert response.status_code == 422
    assert "'on_fire' is not a component status" in errors(response)
    response = desk.post(
        f"/desk/status/components/{api.pk}/",
        {f"c{api.pk}-status": "operational", f"c{api.pk}-version": "1" * 51},
    )
    assert response.status_code == 422
    assert "longer than 50 characters" in errors(response)
    api.refresh_from_db()
    assert (api.status, api.version) == ("operational", "12.0")
    assert not ComponentChange.objects.exists()


def test_other_agents_see_the_page_but_do_not_change_it(rep: User, engineer: User) -> None:
    api = comp("NA4", "API")
    for agent in (rep, engineer):
        desk = signed_in(agent)
        page = text(desk.get("/desk/status/"))
        assert "Managers and admins change the page" in page
        assert "/desk/status/components/" not in page and "New incident" not in page
        assert desk.get("/desk/status/incidents/new/").status_code == 403
        response = desk.post(
            f"/desk/status/components/{api.pk}/",
            {f"c{api.pk}-status": "major_outage", f"c{api.pk}-version": "12.0"},
        )
        assert response.status_code == 403
    api.refresh_from_db()
    assert api.status == "operational"


def test_customers_get_404(alice: User) -> None:
    assert signed_in(alice).get("/desk/status/").status_code == 404


def test_compose_preview_then_publish_an_incident(
    manager: User, dana: Any, commit: Callable[[], Any]
) -> None:
    desk = signed_in(manager)
    api, dialer = comp("NA4", "API"), comp("NA4", "LiveVox")
    form = {
        "name": "NA4 calls drop",
        "status": "investigating",
        "impact": "",
        "environment": "NA4",
        f"c{api.pk}": "major_outage",
        f"c{dialer.pk}": "",
        "body": "Calls on NA4 drop after a few seconds. We are investigating.",
    }
    with commit():
        response = desk.post("/desk/status/incidents/new/", {**form, "preview": "1"})
    html = text(response)
    assert response.status_code == 200
    assert "to 1 email subscriber and 0 webhooks" in html
    assert "Subject:</strong> [LiveVox Status] NA4 calls drop" in html
    assert "NA4 API 12.0: Major outage" in html
    assert "Calls on NA4 drop after a few seconds" in html
    assert not Incident.objects.exists() and not mail.outbox, "a preview publishes nothing"
    api.refresh_from_db()
    assert api.status == "operational"

    with commit():
        response = desk.post("/desk/status/incidents/new/", {**form, "publish": "1"})
    incident = Incident.objects.get()
    assert response.status_code == 302 and response["Location"] == (
        f"/desk/status/incidents/{incident.pk}/"
    )
    assert incident.impact == "critical", "the impact follows the worst component status"
    (notice,) = mail.outbox
    assert notice.to == ["dana@example.test"] and notice.subject.endswith("NA4 calls drop")


def test_a_component_of_another_environment_is_refused(manager: User) -> None:
    desk = signed_in(manager)
    sftp = comp("SFTP", "SFTP")
    response = desk.post(
        "/desk/status/incidents/new/",
        {
            "name": "NA4 calls drop",
            "status": "investigating",
            "environment": "NA4",
            f"c{sftp.pk}": "major_outage",
            "body": "Looking.",
            "publish": "1",
        },
    )
    assert response.status_code == 422
    assert "SFTP (" in errors(response) and "belongs to SFTP, not to NA4" in errors(response)
    assert not Incident.objects.exists()
    sftp.refresh_from_db()
    assert sftp.status == "operational"


def test_updates_and_resolution_from_the_incident_page(
    manager: User, dana: Any, commit: Callable[[], Any]
) -> None:
    desk = signed_in(manager)
    api = comp("NA4", "API")
    with commit():
        desk.post(
            "/desk/status/incidents/new/",
            {
                "name": "NA4 API errors",
                "status": "investigating",
                "environment": "NA4",
                f"c{api.pk}": "partial_outage",
                "body": "Looking.",
                "publish": "1",
            },
        )
    incident = Incident.objects.get()
    url = f"/desk/status/incidents/{incident.pk}/"
    page = text(desk.get(url))
    assert "Post an update" in page and "Looking." in page

    with commit():
        preview = desk.post(
            url + "updates/", {"status": "resolved", "body": "Fixed at 15:40.", "preview": "1"}
        )
    assert "Subject:</strong> [LiveVox Status] Resolved: NA4 API errors" in text(preview)
    assert "NA4 API 12.0: Operational" in text(preview), "resolving restores the components"
    assert IncidentUpdate.objects.count() == 1 and len(mail.outbox) == 1

    refused = desk.post(url + "updates/", {"status": "postmortem", "body": "x", "publish": "1"})
    assert refused.status_code == 409
    assert "A investigating incident cannot move to postmortem" in errors(refused)

    with commit():
        done = desk.post(url + "updates/", {"status": "resolved", "body": "Fixed.", "publish": "1"})
    assert done.status_code == 302
    incident.refresh_from_db()
    api.refresh_from_db()
    assert incident.status == "resolved" and api.status == "operational"
    assert [m.subject.split("] ")[1] for m in mail.outbox] == [
        "NA4 API errors",
        "Resolved: NA4 API errors",
    ]


def test_schedule_an_upgrade_with_a_preview_of_every_notice(
    manager: User, dana: Any, commit: Callable[[], Any]
) -> None:
    desk = signed_in(manager)
    api = comp("NA3", "API")
    form = {
        "name": "API upgrade",
        "environment": "NA3",
        "components": [str(api.pk)],
        # Times on the desk's clock: America/New_York, so 10:00 is 15:00 UTC in March.
        "scheduled_for": "2026-03-02T12:00",
        "scheduled_until": "2026-03-02T13:00",
        "target_version": "12.1",
        "auto_transition": "on",
        "body": "The API moves to 12.1.",
    }
    with time_machine.travel(T0, tick=False):
        with commit():
            response = desk.post("/desk/status/maintenance/new/", {**form, "preview": "1"})
        html = text(response)
        assert "Now: to 1 email subscriber" in html
        assert "Scheduled upgrade to 12.1: API upgrade" in html
        assert "When it starts: to 1 email subscriber" in html
        assert "In progress: API upgrade" in html
        assert "When it ends: to 1 email subscriber" in html
        assert not Incident.objects.exists() and not mail.outbox

        backwards = {**form, "scheduled_until": "2026-03-02T11:00", "publish": "1"}
        refused = desk.post("/desk/status/maintenance/new/", backwards)
        assert refused.status_code == 422 and "ends before it starts" in errors(refused)
        assert not Incident.objects.exists()

        with commit():
            desk.post("/desk/status/maintenance/new/", {**form, "publish": "1"})
    maintenance = Incident.objects.get()
    assert maintenance.scheduled_for == T0 + timedelta(hours=2)
    assert (maintenance.target_version, maintenance.status) == ("12.1", "scheduled")
    assert len(mail.outbox) == 1, "an upgrade is announced at once"


def test_link_tickets_and_resolve_them_in_one_action(
    manager: User, rep: User, alice: User, commit: Callable[[], Any]
) -> None:
    cases: list[Ticket] = [
        tickets.open_case(actor=rep, subject=f"NA4 down {n}", channel="phone", requester=alice)
        for n in range(2)
    ]
    desk = signed_in(manager)
    with commit():
        desk.post(
            "/desk/status/incidents/new/",
            {"name": "NA4 down", "status": "investigating", "body": "Looking.", "publish": "1"},
        )
    incident = Incident.objects.get()
    url = f"/desk/status/incidents/{incident.pk}/"
    agent = signed_in(rep)
    for case in cases:
        assert agent.post(url + "link/", {"ticket": case.number}).status_code == 302
    missing = agent.post(url + "link/", {"ticket": "CASE-999"})
    assert missing.status_code == 404 and "CASE-999" in errors(missing)
    page = text(agent.get(url))
    assert "CASE-100" in page and "CASE-101" in page
    assert "Resolve 2 open linked tickets" not in page, "not while the incident is open"

    with commit():
        desk.post(url + "updates/", {"status": "resolved", "body": "Fixed.", "publish": "1"})
    told = [m for m in mail.outbox if m.to == ["alice@acme.test"]]
    assert len(told) == 2, "each requester of an open linked ticket is told"
    page = text(agent.get(url))
    assert "Resolve 2 open linked tickets" in page
    agent.post(url + "resolve-linked/")
    assert set(Ticket.objects.values_list("status", flat=True)) == {"resolved"}


def test_link_a_ticket_from_its_page(manager: User, rep: User, alice: User) -> None:
    case = tickets.open_case(actor=rep, subject="NA4 down", channel="phone", requester=alice)
    desk = signed_in(manager)
    desk.post(
        "/desk/status/incidents/new/",
        {"name": "NA4 down", "status": "investigating", "body": "Looking.", "publish": "1"},
    )
    incident = Incident.objects.get()
    agent = signed_in(rep)
    page = text(agent.get(f"/desk/tickets/{case.number}/"))
    assert "Link to an open incident" in page and f'<option value="{incident.pk}">' in page
    response = agent.post(f"/desk/status/tickets/{case.number}/link/", {"incident": incident.pk})
    assert response.status_code == 302 and response["Location"] == f"/desk/tickets/{case.number}/"
    assert list(incident.tickets.all()) == [case]
    page = text(agent.get(f"/desk/tickets/{case.number}/"))
    assert f'href="/desk/status/incidents/{incident.pk}/">NA4 down</a>' in page
    assert "Link to an open incident" not in page, "no other open incident to offer"
    assert (
        signed_in(alice)
        .post(f"/desk/status/tickets/{case.number}/link/", {"incident": incident.pk})
        .status_code
        == 404
    )


def test_move_a_maintenance_along_by_hand(
    manager: User, dana: Any, commit: Callable[[], Any]
) -> None:
    desk = signed_in(manager)
    sftp = comp("SFTP", "SFTP")
    with commit():
        desk.post(
            "/desk/status/maintenance/new/",
            {
                "name": "SFTP disks",
                "components": [str(sftp.pk)],
                "scheduled_for": "2030-01-10T22:00",
                "scheduled_until": "2030-01-10T23:00",
                "body": "Swapping disks.",
                "publish": "1",
            },
        )
    maintenance = Incident.objects.get()
    assert not maintenance.auto_transition, "an unticked box is a maintenance moved by hand"
    assert not mail.outbox, "a maintenance that is no upgrade is told when it starts"
    url = f"/desk/status/incidents/{maintenance.pk}/"
    assert "Move the maintenance along" in text(desk.get(url))
    with commit():
        preview = desk.post(url + "updates/", {"status": "in_progress", "preview": "1"})
    assert "In progress: SFTP disks" in text(preview) and not mail.outbox
    with commit():
        desk.post(url + "updates/", {"status": "in_progress", "publish": "1"})
    sftp.refresh_from_db()
    assert sftp.status == "under_maintenance"
    with commit():
        desk.post(url + "updates/", {"status": "completed", "body": "Done.", "publish": "1"})
    sftp.refresh_from_db()
    assert sftp.status == "operational"
    assert [m.subject.split("] ")[1] for m in mail.outbox] == [
        "In progress: SFTP disks",
        "Completed: SFTP disks",
    ]
    assert "Move the maintenance along" not in text(desk.get(url))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"impact": "huge"}, "'huge' is not an impact"),
        ({"status": "postmortem"}, "'postmortem' is not a status a new incident can have"),
        ({"environment": "NA9"}, "There is no environment 'NA9'"),
        ({"body": " "}, "This field is required"),
        ({"name": "x" * 301}, "The name is longer than 300 characters"),
    ],
)
def test_the_composer_refuses_bad_input_clearly(
    manager: User, change: dict[str, str], message: str
) -> None:
    form = {"name": "Calls drop", "status": "investigating", "body": "Looking.", "publish": "1"}
    response = signed_in(manager).post("/desk/status/incidents/new/", {**form, **change})
    assert 400 <= response.status_code < 500
    assert message in errors(response)
    assert not Incident.objects.exists()
