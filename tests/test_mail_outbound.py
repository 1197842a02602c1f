"""Outbound mail over real SMTP on loopback: agents' replies and acknowledgements, their
threading headers and signed bounce addresses, retries, and refused header injection."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from mail_servers import CaptureServer

from caredesk.core.errors import InvalidInput
from caredesk.mail import ids, outbound, tasks
from caredesk.mail.models import InboundEmail, OutboundMail
from caredesk.people import services as people
from caredesk.people.models import User
from caredesk.servicemodel.choices import Channel
from caredesk.sla.models import Clock
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
    settings.MAIL_DOMAINS = ["care.example"]
    yield server
    server.controller.stop()


def email_case(rep: User, alice: User, subject: str = "Dialer shows no agents") -> Ticket:
    ticket = services.open_case(actor=rep, subject=subject, channel=Channel.EMAIL, requester=alice)
    InboundEmail.objects.create(
        raw=b"...",
        size=3,
        digest=f"{ticket.pk:064d}",
        message_id="<first@mail.acme.test>",
        source=InboundEmail.Source.SMTP,
        received_at=ticket.created_at,
        status=InboundEmail.Status.STORED,
        kind=InboundEmail.Kind.MESSAGE,
        from_address=alice.email,
        subject=subject,
        ticket=ticket,
    )
    return ticket


def test_agent_reply_goes_out_from_the_team_threaded_and_signed(
    smtp: CaptureServer, rep: User, alice: User, django_capture_on_commit_callbacks: Capture
) -> None:
    ticket = email_case(rep, alice)
    with django_capture_on_commit_callbacks(execute=True):
        services.reply(ticket, actor=rep, body="Please restart the dialer.", channel=Channel.EMAIL)

    (sent,) = smtp.messages
    mail = sent.message
    assert mail["From"] == "Customer Care <customercare@livevox.com>"
    assert mail["To"] == "Alice <alice@acme.test>"
    assert mail["Subject"] == f"Re: [{ticket.number}] Dialer shows no agents"
    assert mail["In-Reply-To"] == "<first@mail.acme.test>"
    assert "<first@mail.acme.test>" in mail["References"]
    assert ids.ticket_for_message_id(mail["Message-ID"]) == ticket
    assert "Please restart the dialer." in sent.text()
    assert "Please restart the dialer." in sent.html()
    assert ticket.number in sent.text()
    # The envelope sender is the signed VERP address; a bounce to it finds this mail.
    row = ids.outbound_for_bounce_address(sent.mail_from)
    assert row is not None and row.message_id == mail["Message-ID"]
    assert row.state == OutboundMail.State.SENT and row.attempts == 1
    assert Event.objects.filter(ticket=ticket, kind="mail.sent").count() == 1


def test_a_second_reply_references_the_first(
    smtp: CaptureServer, rep: User, alice: User, django_capture_on_commit_callbacks: Capture
) -> None:
    ticket = email_case(rep, alice)
    with django_capture_on_commit_callbacks(execute=True):
        services.reply(ticket, actor=rep, body="First answer.", channel=Channel.EMAIL)
        services.reply(ticket, actor=rep, body="Second answer.", channel=Channel.EMAIL)
    first, second = (m.message for m in smtp.messages)
    assert second["In-Reply-To"] == "<first@mail.acme.test>"
    assert first["Message-ID"] in second["References"].split()


def test_phone_notes_and_customer_replies_send_nothing(
    smtp: CaptureServer, rep: User, alice: User, django_capture_on_commit_callbacks: Capture
) -> None:
    ticket = email_case(rep, alice)
    with django_capture_on_commit_callbacks(execute=True):
        services.reply(ticket, actor=rep, body="Told her on the phone.", channel=Channel.PHONE)
        services.add_note(ticket, actor=rep, body="Internal only.")
        services.reply(ticket, actor=alice, body="Thanks!", channel=Channel.EMAIL)
    assert smtp.messages == []
    assert not OutboundMail.objects.exists()


def test_acknowledgement_is_automatic_and_stops_no_clock(
    smtp: CaptureServer, rep: User, alice: User, django_capture_on_commit_callbacks: Capture
) -> None:
    ticket = email_case(rep, alice)
    inbound = InboundEmail.objects.get(ticket=ticket)
    with django_capture_on_commit_callbacks(execute=True):
        outbound.queue_acknowledgement(ticket, to="alice@acme.test", inbound=inbound)
    (sent,) = smtp.messages
    assert sent.message["Auto-Submitted"] == "auto-replied"
    assert sent.message["In-Reply-To"] == "<first@mail.acme.test>"
    assert ticket.number in sent.message["Subject"]
    assert f"Your request is {ticket.number}" in sent.text()
    clock = Clock.objects.get(ticket=ticket, kind="first_response")
    assert clock.stopped_at is None, "an automatic acknowledgement is no first response"
    assert not Message.objects.filter(ticket=ticket).exists()


def test_refused_mail_is_retried_with_backoff_and_shown_on_the_ticket(
    smtp: CaptureServer, rep: User, alice: User, django_capture_on_commit_callbacks: Capture
) -> None:
    ticket = email_case(rep, alice)
    smtp.refuse("451 4.3.0 try later", "421 4.3.2 shutting down")
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        with django_capture_on_commit_callbacks(execute=True):
            services.reply(ticket, actor=rep, body="Restart it.", channel=Channel.EMAIL)
        row = OutboundMail.objects.get()
        assert (row.state, row.attempts) == (OutboundMail.State.FAILED, 1)
        assert "451" in row.last_error
        assert row.next_attempt_at == start + timedelta(seconds=30)
        assert outbound.failed_on(ticket) == 1
        assert Event.objects.filter(ticket=ticket, kind="mail.failed").count() == 1

        assert tasks.retry_outbound.call_local() == 0, "not due yet"
        traveller.move_to(start + timedelta(seconds=30))
        tasks.retry_outbound.call_local()
        row.refresh_from_db()
        assert (row.state, row.attempts) == (OutboundMail.State.FAILED, 2)
        assert row.next_attempt_at == start + timedelta(seconds=90), "the wait doubles"

        traveller.move_to(start + timedelta(seconds=90))
        tasks.retry_outbound.call_local()
    row.refresh_from_db()
    assert (row.state, row.attempts) == (OutboundMail.State.SENT, 3)
    assert len(smtp.messages) == 1
    assert outbound.failed_on(ticket) == 0
    assert Event.objects.get(ticket=ticket, kind="mail.sent").data["after_failures"] is True
    # The retries kept one Message-ID, so the customer's mail client sees one message.
    assert smtp.messages[0].message["Message-ID"] == row.message_id


def test_permanent_refusal_is_kept_visible_and_not_retried(
    smtp: CaptureServer, rep: User, alice: User, django_capture_on_commit_callbacks: Capture
) -> None:
    ticket = email_case(rep, alice)
    smtp.refuse("550 5.1.1 no such user")
    with django_capture_on_commit_callbacks(execute=True):
        services.reply(ticket, actor=rep, body="Restart it.", channel=Channel.EMAIL)
    row = OutboundMail.objects.get()
    assert row.state == OutboundMail.State.REJECTED and row.next_attempt_at is None
    assert Event.objects.filter(ticket=ticket, kind="mail.rejected").exists()
    assert outbound.due() == []
    with django_capture_on_commit_callbacks(execute=True):
        outbound.retry(row)
    row.refresh_from_db()
    assert row.state == OutboundMail.State.SENT and len(smtp.messages) == 1


def test_a_send_claimed_by_a_dead_worker_is_sent_after_its_claim_runs_out(
    smtp: CaptureServer, rep: User, alice: User
) -> None:
    ticket = email_case(rep, alice)
    services.reply(ticket, actor=rep, body="Restart it.", channel=Channel.EMAIL)  # no commit hook
    row = OutboundMail.objects.get()
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        # A worker claimed it and died before sending.
        OutboundMail.objects.filter(pk=row.pk).update(next_attempt_at=start + outbound.CLAIM)
        assert outbound.send(row.pk) is None
        traveller.move_to(start + outbound.CLAIM)
        assert tasks.retry_outbound.call_local() == 1
    assert len(smtp.messages) == 1


@pytest.mark.parametrize(
    "subject",
    ["Help\r\nBcc: everyone@evil.test", "Help\nX-Injected: 1", "Help\x1b[31m", "Help\u2028more"],
)
def test_header_injection_through_the_subject_is_refused(
    smtp: CaptureServer,
    rep: User,
    alice: User,
    subject: str,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    ticket = email_case(rep, alice)
    Ticket.objects.filter(pk=ticket.pk).update(subject=subject)
    ticket.refresh_from_db()
    with (
        pytest.raises(InvalidInput, match="line break or control character") as refused,
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.reply(ticket, actor=rep, body="Restart it.", channel=Channel.EMAIL)
    assert refused.value.field == "subject"
    assert not Message.objects.filter(ticket=ticket).exists(), "the reply changed nothing"
    assert smtp.messages == []


def test_header_injection_through_a_name_or_address_is_refused(
    smtp: CaptureServer, rep: User, alice: User
) -> None:
    ticket = email_case(rep, alice)
    User.objects.filter(pk=alice.pk).update(name="Alice\r\nBcc: x@evil.test")
    ticket.refresh_from_db()
    with pytest.raises(InvalidInput, match="control character"):
        services.reply(ticket, actor=rep, body="Hi", channel=Channel.EMAIL)
    inbound = InboundEmail.objects.get(ticket=ticket)
    for bad in ["alice@acme.test\r\nBcc: x@evil.test", "alice@acme.test, x@evil.test", "<a@b>"]:
        with pytest.raises(InvalidInput):
            outbound.queue_acknowledgement(ticket, to=bad, inbound=inbound)
    assert not OutboundMail.objects.exists()


def test_engineers_first_email_is_the_escalations_first_contact(
    smtp: CaptureServer,
    rep: User,
    engineer: User,
    alice: User,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    case = email_case(rep, alice)
    tsup = services.escalate(case, actor=rep, to="technical-support", reason="dialer down on NA4")
    services.assign(tsup, actor=engineer, agent=engineer)
    with django_capture_on_commit_callbacks(execute=True):
        services.reply(case, actor=rep, body="We escalated it.", channel=Channel.EMAIL)
        services.reply(tsup, actor=engineer, body="Looking at NA4 now.", channel=Channel.EMAIL)
        services.reply(tsup, actor=engineer, body="Fixed.", channel=Channel.EMAIL)
    assert len(smtp.messages) == 3
    assert smtp.messages[1].message["From"] == "Technical Support <support@livevox.com>"
    assert smtp.messages[1].message["In-Reply-To"] == "<first@mail.acme.test>"
    (contact,) = Event.objects.filter(kind=outbound.FIRST_CONTACT)
    assert contact.ticket == tsup and contact.actor == engineer
    assert (
        contact.data["outbound"] == OutboundMail.objects.get(reply__body="Looking at NA4 now.").pk
    )
    assert not Event.objects.filter(ticket=case, kind=outbound.FIRST_CONTACT).exists()


def test_message_ids_and_bounce_addresses_cannot_be_forged(rep: User, alice: User) -> None:
    ticket = email_case(rep, alice)
    other = email_case(rep, alice, subject="Another one")
    ours = ids.make_message_id(ticket)
    assert ids.ticket_for_message_id(ours) == ticket
    assert ids.ticket_for_message_id(f"  {ours.upper()} ") == ticket, "case and spaces survive"
    local, domain = ours.strip("<>").split("@")
    _, pk, nonce, sig = local.split(".")
    forged = {
        f"<cd.{int(other.pk):x}.{nonce}.{sig}@{domain}>",  # another ticket, same signature
        f"<cd.{pk}.{nonce}.{'a' * 16}@{domain}>",
        f"<cd.{pk}.aaaaaaaa.{sig}@{domain}>",
        "<first@mail.acme.test>",
        "",
        "<>",
        "garbage",
    }
    assert all(ids.ticket_for_message_id(value) is None for value in forged)

    mail = OutboundMail.objects.create(
        ticket=ticket,
        kind=OutboundMail.Kind.REPLY,
        from_header="x@care.example",
        subject="s",
        text="t",
        message_id=ours,
        created_at=timezone.now(),
    )
    bounce = ids.bounce_address(mail)
    assert ids.outbound_for_bounce_address(bounce) == mail
    assert ids.outbound_for_bounce_address(f"<{bounce.upper()}>") == mail
    head, _, dom = bounce.partition("@")
    other_char = "y" if head.endswith("x") else "x"  # a signature may end in "x" itself
    assert ids.outbound_for_bounce_address(head[:-1] + other_char + "@" + dom) is None
    assert ids.outbound_for_bounce_address("bounces+1.aaaaaaaaaaaaaaaa@care.example") is None
    assert ids.outbound_for_bounce_address("alice@acme.test") is None


def test_the_desk_shows_an_undelivered_mail_and_its_delivery(
    smtp: CaptureServer, rep: User, alice: User, django_capture_on_commit_callbacks: Capture
) -> None:
    ticket = email_case(rep, alice)
    desk = Client()
    desk.force_login(rep)
    smtp.refuse("451 4.3.0 mailbox busy")
    with django_capture_on_commit_callbacks(execute=True):
        response = desk.post(
            f"/desk/tickets/{ticket.number}/reply", {"reply-body": "Please restart the dialer."}
        )
    assert response.status_code in (200, 302)
    page = desk.get(f"/desk/tickets/{ticket.number}/").content.decode()
    assert "Email not delivered" in page
    assert "could not send an email to Alice &lt;alice@acme.test&gt; yet; retrying" in page
    assert "451 4.3.0 mailbox busy" in page

    OutboundMail.objects.update(next_attempt_at=timezone.now())
    tasks.retry_outbound.call_local()
    page = desk.get(f"/desk/tickets/{ticket.number}/").content.decode()
    assert "Email not delivered" not in page
    assert "sent an email to Alice &lt;alice@acme.test&gt; after 2 attempts" in page


def test_an_admin_sees_the_outbox_and_sends_a_refused_mail_again(
    smtp: CaptureServer, rep: User, alice: User, django_capture_on_commit_callbacks: Capture
) -> None:
    ticket = email_case(rep, alice)
    smtp.refuse("550 5.2.2 mailbox full")
    with django_capture_on_commit_callbacks(execute=True):
        services.reply(ticket, actor=rep, body="Restart it.", channel=Channel.EMAIL)
    row = OutboundMail.objects.get()
    admin = Client()
    admin.force_login(people.add_user("admin@caredesk.test", role="admin", password="x" * 12))
    listing = admin.get("/admin/mail/outboundmail/?state=rejected").content.decode()
    assert ticket.number in listing
    assert (
        "550 5.2.2 mailbox full"
        in admin.get(f"/admin/mail/outboundmail/{row.pk}/change/").content.decode()
    )
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(
            "/admin/mail/outboundmail/",
            {"action": "retry_selected", "_selected_action": [row.pk]},
        )
    row.refresh_from_db()
    assert row.state == OutboundMail.State.SENT and len(smtp.messages) == 1


def test_files_attached_to_a_reply_go_with_the_mail(
    smtp: CaptureServer, rep: User, alice: User, django_capture_on_commit_callbacks: Capture
) -> None:
    ticket = email_case(rep, alice)
    report = SimpleUploadedFile("dialer-log.txt", b"09:40 agent ready, no calls\n", "text/plain")
    with django_capture_on_commit_callbacks(execute=True):
        services.reply(
            ticket,
            actor=rep,
            body="The log is attached.",
            channel=Channel.EMAIL,
            attachments=[report],
        )
    (sent,) = smtp.messages
    (part,) = list(sent.message.iter_attachments())
    assert part.get_filename() == "dialer-log.txt"
    assert part.get_content_type() == "text/plain"
    assert part.get_content().replace("\r\n", "\n") == "09:40 agent ready, no calls\n"
    assert "The log is attached." in sent.text()


def test_an_attachment_name_that_would_inject_a_header_stops_that_mail_for_good(
    smtp: CaptureServer, rep: User, alice: User
) -> None:
    ticket = email_case(rep, alice)
    report = SimpleUploadedFile("log.txt", b"log\n", "text/plain")
    message = services.reply(
        ticket, actor=rep, body="Attached.", channel=Channel.EMAIL, attachments=[report]
    )
    message.attachments.update(filename="log.txt\r\nBcc: everyone@evil.test")
    row = outbound.send(OutboundMail.objects.get().pk)
    assert row is not None and row.state == OutboundMail.State.REJECTED
    assert "control character" in row.last_error
    assert smtp.messages == [] and outbound.due() == []
