"""Email subscriptions to the status page: double opt-in, choices, notices, one-click leave."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

import pytest
import time_machine
from django.core import mail
from django.test import Client
from mail_helpers import eml

from caredesk.core.errors import DomainError
from caredesk.mail.intake import ingest
from caredesk.people.models import User
from caredesk.status import public, services, subscriptions, tasks
from caredesk.status.models import Component, Delivery, Subscriber

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
LINK = re.compile(r"http://[^\s\"<>]+")


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    public.forget()
    yield
    public.forget()


def comp(env: str, name: str) -> Component:
    return Component.objects.get(environment_id=env, name=name)


def link(message: Any, part: str) -> str:
    return next(u for u in LINK.findall(message.body) if part in u)


def path(url: str) -> str:
    return url.removeprefix("http://127.0.0.1:8000")


def subscribed(commit: Callable[[], Any], email: str, **choices: Any) -> Subscriber:
    """A confirmed subscriber, by the form and the confirmation link."""
    with commit():
        response = Client().post(
            "/status/subscribe/",
            {"email": email, **choices},
        )
    assert response.status_code == 200, response.content[:400]
    confirmation = mail.outbox.pop()
    assert confirmation.to == [email]
    assert Client().get(path(link(confirmation, "/confirm/"))).status_code == 200
    return Subscriber.objects.get(email=email, confirmed_at__isnull=False, unsubscribed_at=None)


def test_the_status_page_has_a_subscribe_form_with_its_own_csrf_token(model: None) -> None:
    client = Client(enforce_csrf_checks=True)
    html = client.get("/status/").content.decode()
    form = html[html.index('<form class="sp-subscribe-form') :]
    assert 'name="email"' in form and 'value="NA3"' in form
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    assert token, "the cached page carries a per-request CSRF field"
    response = client.post(
        "/status/subscribe/",
        {"email": "dana@example.test", "csrfmiddlewaretoken": token.group(1)},
    )
    assert response.status_code == 200
    assert "Check your inbox" in response.content.decode()


def test_double_opt_in_sends_nothing_but_the_confirmation_until_confirmed(
    manager: User, commit: Callable[[], Any]
) -> None:
    with commit():
        Client().post("/status/subscribe/", {"email": "dana@example.test"})
    (confirmation,) = mail.outbox
    assert "Confirm your subscription" in confirmation.subject
    assert confirmation.alternatives and "/confirm/" in str(confirmation.alternatives[0][0])
    with commit():
        services.create_incident(actor=manager, name="Calls drop", body="Looking into it.")
    assert len(mail.outbox) == 1, "a pending address gets no notice"

    response = Client().get(path(link(confirmation, "/confirm/")))
    assert "Your subscription is confirmed" in response.content.decode()
    with commit():
        services.create_incident(actor=manager, name="Logins fail", body="Looking into it.")
    notice = mail.outbox[-1]
    assert notice.to == ["dana@example.test"] and "Logins fail" in notice.subject
    assert notice.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert re.fullmatch(
        r"<http://[^>]+/unsubscribe/>, <mailto:[^>]+>", notice.extra_headers["List-Unsubscribe"]
    )


def test_notices_go_to_subscribers_of_the_affected_environment_or_component(
    manager: User, commit: Callable[[], Any]
) -> None:
    na3_api = comp("NA3", "API")
    subscribed(commit, "all@example.test")
    subscribed(commit, "na3@example.test", environments=["NA3"])
    subscribed(commit, "api@example.test", components=[str(na3_api.pk)])
    subscribed(commit, "na4@example.test", environments=["NA4"])
    mail.outbox.clear()

    with commit():
        incident = services.create_incident(
            actor=manager,
            name="API errors",
            body="Investigating.",
            components={na3_api.pk: "partial_outage"},
        )
    assert sorted(m.to[0] for m in mail.outbox) == [
        "all@example.test",
        "api@example.test",
        "na3@example.test",
    ]
    mail.outbox.clear()
    with commit():
        services.update_incident(incident, actor=manager, status="identified", body="Found it.")
    assert len(mail.outbox) == 3 and all("Identified" in m.subject for m in mail.outbox)
    mail.outbox.clear()
    with commit():
        services.update_incident(incident, actor=manager, status="resolved", body="Fixed.")
    assert len(mail.outbox) == 3 and all("Resolved: API errors" in m.subject for m in mail.outbox)
    assert "NA3 API" in mail.outbox[0].body


def test_one_click_unsubscribe_is_a_post_without_sign_in_or_csrf(
    manager: User, commit: Callable[[], Any]
) -> None:
    subscriber = subscribed(commit, "dana@example.test")
    url = subscriptions.unsubscribe_url(subscriber)
    client = Client(enforce_csrf_checks=True)
    # A GET (a mail scanner following the link) only asks.
    assert "Unsubscribe?" in client.get(path(url)).content.decode()
    subscriber.refresh_from_db()
    assert subscriber.is_active
    response = client.post(
        path(url), "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    subscriber.refresh_from_db()
    assert not subscriber.is_active
    with commit():
        services.create_incident(actor=manager, name="Calls drop", body="Looking into it.")
    assert mail.outbox == []


def test_the_manage_page_changes_what_a_subscriber_hears_of(
    manager: User, commit: Callable[[], Any]
) -> None:
    subscriber = subscribed(commit, "dana@example.test")
    url = path(subscriptions.manage_url(subscriber))
    page = Client().get(url).content.decode()
    assert "dana@example.test" in page and 'value="NA4"' in page
    assert Client().post(url, {"environments": ["NA4"]}).status_code == 200
    assert [e.key for e in subscriber.environments.all()] == ["NA4"]
    with commit():
        services.create_incident(
            actor=manager,
            name="NA3 slow",
            body="Investigating.",
            components={comp("NA3", "API").pk: "degraded_performance"},
        )
    assert mail.outbox == []
    response = Client().post(url, {"environments": ["NOPE"]})
    assert "There is no environment NOPE" in response.content.decode()
    assert [e.key for e in subscriber.environments.all()] == ["NA4"]


def test_tampered_and_expired_links_are_refused(model: None, commit: Callable[[], Any]) -> None:
    with time_machine.travel(T0, tick=False), commit():
        Client().post("/status/subscribe/", {"email": "dana@example.test"})
    confirm = path(link(mail.outbox[0], "/confirm/"))
    subscriber = Subscriber.objects.get()
    assert Client().get(confirm[:-3] + "xx/").status_code == 404
    assert Client().get(f"/status/subscriptions/{subscriber.token}:bad/").status_code == 404
    with time_machine.travel(T0 + timedelta(days=8), tick=False):
        response = Client().get(confirm)
    assert response.status_code == 409 and "expired" in response.content.decode()
    subscriber.refresh_from_db()
    assert subscriber.confirmed_at is None


def test_the_form_cannot_flood_an_inbox(model: None, commit: Callable[[], Any]) -> None:
    for minutes in (0, 1, 5, 11):
        with time_machine.travel(T0 + timedelta(minutes=minutes), tick=False), commit():
            Client().post("/status/subscribe/", {"email": "dana@example.test"})
    assert len(mail.outbox) == 2
    assert Subscriber.objects.count() == 1


def test_bad_input_is_a_clear_error_and_changes_nothing(model: None) -> None:
    response = Client().post("/status/subscribe/", {"email": "not an address"})
    assert response.status_code == 422
    assert "Enter a valid email address" in response.content.decode()
    response = Client().post(
        "/status/subscribe/", {"email": "dana@example.test", "components": ["999999"]}
    )
    assert response.status_code == 422 and "no component 999999" in response.content.decode()
    assert not Subscriber.objects.exists() and mail.outbox == []


def test_confirming_again_replaces_the_earlier_subscription(
    model: None, commit: Callable[[], Any]
) -> None:
    first = subscribed(commit, "dana@example.test")
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        second = subscribed(commit, "dana@example.test", environments=["SFTP"])
    first.refresh_from_db()
    assert not first.is_active and second.is_active and first.pk != second.pk


def test_one_message_per_subscriber_per_update(manager: User, commit: Callable[[], Any]) -> None:
    subscriber = subscribed(commit, "dana@example.test")
    with commit():
        incident = services.create_incident(actor=manager, name="Calls drop", body="Looking.")
    assert len(mail.outbox) == 1
    update = incident.updates.get()
    tasks.send_notice(subscriber.pk, update.pk)  # a retry, or a second sweep
    assert len(mail.outbox) == 1
    delivery = Delivery.objects.get()
    assert delivery.sent_at is not None and delivery.attempts == 1


def test_maintenance_start_and_end_and_upgrade_announcements(
    manager: User, commit: Callable[[], Any]
) -> None:
    subscribed(commit, "dana@example.test", environments=["NA3"])
    api = comp("NA3", "API")
    with time_machine.travel(T0, tick=False), commit():
        services.schedule_maintenance(
            actor=manager,
            name="Database patch",
            body="Short patch.",
            scheduled_for=T0 + timedelta(hours=1),
            scheduled_until=T0 + timedelta(hours=2),
            components=[api.pk],
        )
        services.schedule_maintenance(
            actor=manager,
            name="API upgrade",
            body="Upgrading the API.",
            scheduled_for=T0 + timedelta(hours=3),
            scheduled_until=T0 + timedelta(hours=4),
            components=[api.pk],
            target_version="12.1",
        )
    (announcement,) = mail.outbox
    assert "Scheduled upgrade to 12.1: API upgrade" in announcement.subject
    assert "Target version: 12.1" in announcement.body
    mail.outbox.clear()
    with time_machine.travel(T0 + timedelta(hours=1), tick=False), commit():
        tasks.advance_maintenances.call_local()
    with time_machine.travel(T0 + timedelta(hours=2), tick=False), commit():
        tasks.advance_maintenances.call_local()
    assert [m.subject.split("] ")[1] for m in mail.outbox] == [
        "In progress: Database patch",
        "Completed: Database patch",
    ]


def test_the_mailto_unsubscribe_token_unsubscribes(
    manager: User, commit: Callable[[], Any]
) -> None:
    subscriber = subscribed(commit, "dana@example.test")
    with commit():
        services.create_incident(actor=manager, name="Calls drop", body="Looking.")
    header = mail.outbox[-1].extra_headers["List-Unsubscribe"]
    mailto = re.search(r"<mailto:([^?>]+)\?subject=([^>]+)>", header)
    assert mailto
    subject = unquote(mailto.group(2))
    assert subject.startswith("unsubscribe ")
    with pytest.raises(DomainError, match="not valid"):
        subscriptions.unsubscribe_by_token(subject[:-2] + "xx")
    assert Subscriber.objects.get(pk=subscriber.pk).is_active
    # The subscriber's mail client writes to that address; the intake takes it in.
    unsubscribing = eml(sender="dana@example.test", to=mailto.group(1), subject=subject)
    taken = ingest(unsubscribing, source="smtp")
    assert taken.status == "ignored" and taken.ticket is None
    assert not Subscriber.objects.get(pk=subscriber.pk).is_active
    subscriptions.unsubscribe_by_token(subject)  # again: nothing changes
    # Someone writing "unsubscribe" without our token is a person: their mail opens a case.
    asked = eml(sender="dana@example.test", subject="unsubscribe me please", message_id="<u@x>")
    assert ingest(asked, source="smtp").ticket is not None
    with commit():
        services.create_incident(actor=manager, name="Logins fail", body="Looking.")
    assert "Logins fail" not in mail.outbox[-1].subject
