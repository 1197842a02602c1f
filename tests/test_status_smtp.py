"""The subscription flow over real SMTP on loopback: confirm, notify, unsubscribe."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.test import Client
from huey.contrib.djhuey import HUEY

from caredesk.people.models import User
from caredesk.status import public, services, subscriptions
from caredesk.status.models import Delivery


class Inbox:
    """aiosmtpd handler: keeps every message it is given, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse = 0  # how many messages to answer with a temporary failure first

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            self.refuse -= 1
            return "451 4.3.0 Try again later"
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def inbox(settings: Any) -> Iterator[Inbox]:
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    public.forget()
    yield handler
    controller.stop()


def text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def test_subscribe_confirm_notify_unsubscribe_over_smtp(
    manager: User, inbox: Inbox, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    visitor = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = visitor.post(
            "/status/subscribe/", {"email": "dana@example.test", "environments": ["NA3"]}
        )
    assert response.status_code == 200
    (confirmation,) = inbox.messages
    assert confirmation["To"] == "dana@example.test"
    assert "List-Unsubscribe" not in confirmation, "a pending address is no list member yet"
    confirm = re.search(r"http://\S+/confirm/\S+/", text(confirmation))
    assert confirm
    assert "confirmed" in visitor.get(confirm.group(0)).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        incident = services.create_incident(
            actor=manager,
            name="NA3 calls drop",
            body="We are investigating dropped calls.",
            environment="NA3",
        )
    notice = inbox.messages[-1]
    assert len(inbox.messages) == 2
    assert notice["Subject"].endswith("NA3 calls drop")
    assert "dropped calls" in text(notice)
    assert notice["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    header = " ".join(str(notice["List-Unsubscribe"]).split())  # unfolded (RFC 5322)
    found = re.fullmatch(r"<(http://\S+/unsubscribe/)>, <(mailto:\S+)>", header)
    assert found, notice["List-Unsubscribe"]
    assert notice.get_body(preferencelist=("html",)) is not None

    # What a mail provider does for RFC 8058: a bare POST, no cookies, no CSRF token.
    provider = Client(enforce_csrf_checks=True)
    response = provider.post(
        found.group(1),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        services.update_incident(incident, actor=manager, status="resolved", body="Fixed.")
    assert len(inbox.messages) == 2, "nothing after unsubscribing"


def test_every_notice_goes_out_through_the_worker_and_a_refusal_is_retried(
    manager: User, inbox: Inbox, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    HUEY.flush()
    subscriptions.confirm(subscriptions.subscribe(actor=None, email="dana@example.test"))
    inbox.refuse = 1
    with django_capture_on_commit_callbacks(execute=True):
        incident = services.create_incident(actor=manager, name="Calls drop", body="Looking.")
    assert inbox.messages == []
    delivery = Delivery.objects.get()
    assert delivery.sent_at is None and "451" in delivery.last_error
    (retry,) = HUEY.scheduled()
    assert retry.name.endswith("send_notice") and retry.retries == 4

    # What the worker's scheduler does when the retry falls due: take it and run it.
    (due,) = HUEY.read_schedule(retry.eta)
    HUEY.execute(due, timestamp=retry.eta)
    delivery.refresh_from_db()
    assert delivery.sent_at is not None and delivery.attempts == 2
    for status, body in (("identified", "Found it."), ("resolved", "Fixed.")):
        with django_capture_on_commit_callbacks(execute=True):
            services.update_incident(incident, actor=manager, status=status, body=body)
    assert [m["Subject"].split("] ")[1] for m in inbox.messages] == [
        "Calls drop",
        "Identified: Calls drop",
        "Resolved: Calls drop",
    ]
    assert HUEY.scheduled() == []
