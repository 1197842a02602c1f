"""A conversation by email, end to end: the customer writes, gets the acknowledgement, the
agent answers, the customer answers that, and a bounce finds the mail it is about."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from mail_helpers import eml
from mail_servers import CaptureServer

from caredesk.mail.intake import ingest
from caredesk.mail.models import InboundEmail, OutboundMail
from caredesk.people.models import User
from caredesk.servicemodel.choices import Channel
from caredesk.tickets import services
from caredesk.tickets.models import Event, Message, Ticket

Capture = Callable[..., Any]


@pytest.fixture
def smtp(settings: Any) -> Iterator[CaptureServer]:
    server = CaptureServer()
    server.controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.MAIL_DOMAINS = ["livevox.com"]
    yield server
    server.controller.stop()


def test_a_conversation_by_email_stays_on_one_ticket(
    smtp: CaptureServer, rep: User, alice: User, django_capture_on_commit_callbacks: Capture
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        first = ingest(eml(message_id="<q1@acme.test>"), source="smtp")
    ticket = Ticket.objects.get(number=first.ticket)
    (ack,) = smtp.messages
    assert ack.message["In-Reply-To"] == "<q1@acme.test>"
    assert ticket.number in ack.message["Subject"]

    with django_capture_on_commit_callbacks(execute=True):
        services.reply(ticket, actor=rep, body="Please clear the cache.", channel=Channel.EMAIL)
    answer = smtp.messages[-1].message
    assert answer["In-Reply-To"] == "<q1@acme.test>"

    # Alice answers from her mail client: a new subject, no ticket number, but her
    # client's In-Reply-To names our signed Message-ID.
    with django_capture_on_commit_callbacks(execute=True):
        again = ingest(
            eml(
                message_id="<q2@acme.test>",
                subject="that worked",
                body="Clearing the cache fixed it, thanks.",
                headers={"In-Reply-To": answer["Message-ID"], "References": answer["Message-ID"]},
            ),
            source="smtp",
        )
    assert again.ticket == ticket.number
    assert Message.objects.filter(ticket=ticket, author=alice).exists()
    assert Ticket.objects.count() == 1

    # The agent's next answer is in reply to Alice's latest message.
    with django_capture_on_commit_callbacks(execute=True):
        services.reply(ticket, actor=rep, body="Glad to hear it.", channel=Channel.EMAIL)
    latest = smtp.messages[-1].message
    assert latest["In-Reply-To"] == "<q2@acme.test>"
    assert answer["Message-ID"] in latest["References"].split()


def test_a_forged_message_id_does_not_thread_into_someone_elses_ticket(
    smtp: CaptureServer,
    rep: User,
    alice: User,
    gina: User,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        first = ingest(eml(message_id="<a1@acme.test>"), source="smtp")
        services.reply(
            Ticket.objects.get(number=first.ticket), actor=rep, body="On it.", channel=Channel.EMAIL
        )
    ours = smtp.messages[-1].message["Message-ID"]
    forged = ours.replace(ours.split(".")[-1].split("@")[0], "a" * 16)
    result = ingest(
        eml(
            sender="Gina <gina@globex.test>",
            message_id="<g1@globex.test>",
            subject="Re: your case",
            headers={"In-Reply-To": forged},
        ),
        source="smtp",
    )
    assert result.ticket != first.ticket, "a bad signature opens a new case"


def test_a_bounce_to_our_verp_address_finds_the_mail_and_its_ticket(
    smtp: CaptureServer, rep: User, alice: User, django_capture_on_commit_callbacks: Capture
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        first = ingest(eml(message_id="<b1@acme.test>"), source="smtp")
        ticket = Ticket.objects.get(number=first.ticket)
        services.reply(ticket, actor=rep, body="On it.", channel=Channel.EMAIL)
    sent = smtp.messages[-1]
    mail = OutboundMail.objects.get(kind=OutboundMail.Kind.REPLY)
    dsn = (
        "From: Mail Delivery System <MAILER-DAEMON@mx.acme.test>\r\n"
        f"To: {sent.mail_from}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <dsn-1@mx.acme.test>\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.acme.test\r\n\r\n"
        "Final-Recipient: rfc822; alice@acme.test\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 no such user\r\n"
        "--B--\r\n"
    ).encode()
    result = ingest(dsn, source="smtp", envelope_from=None, envelope_to=[sent.mail_from])
    row = InboundEmail.objects.get(pk=result.inbound_id)
    assert row.kind == InboundEmail.Kind.BOUNCE and row.outbound_id == mail.pk
    assert row.ticket == ticket
    assert Event.objects.filter(ticket=ticket, kind="mail.bounced").exists()
    assert Ticket.objects.count() == 1, "a bounce opens no case"
