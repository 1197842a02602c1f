"""Replies keep the CCs: the people a customer copied get the agent's email reply in Cc,
never our own addresses or a robot, and the desk shows them next to the requester."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from mail_helpers import corpus_file, eml
from mail_servers import CaptureServer
from test_mail_outbound import smtp  # noqa: F401 -- the loopback SMTP capture fixture

from caredesk.mail.intake import ingest
from caredesk.mail.models import InboundEmail, OutboundMail
from caredesk.people import services as people
from caredesk.people.models import User
from caredesk.servicemodel.choices import Channel
from caredesk.tickets import services
from caredesk.tickets.models import Ticket

pytestmark = pytest.mark.django_db

COPIED = (
    "Carol <carol@acme.test>, dave@partner.test, support@livevox.com,"
    " noreply@acme.test, helpdesk@care.example, Alice <alice@acme.test>"
)


def _case_from_alice(alice: User, commit: Any, **headers: str) -> Ticket:
    raw = eml(headers={"Cc": COPIED, **headers})
    with commit(execute=True):
        result = ingest(raw, source="smtp", envelope_to=["customercare@livevox.com"])
    assert result.ticket is not None
    return Ticket.objects.get(number=result.ticket)


def _reply(
    ticket: Ticket, rep: User, commit: Any, body: str = "Please restart the dialer."
) -> None:
    with commit(execute=True):
        services.reply(ticket, actor=rep, body=body, channel=Channel.EMAIL)


def test_an_agent_reply_goes_to_the_requester_with_the_people_she_copied(
    smtp: CaptureServer,  # noqa: F811
    rep: User,
    alice: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    ticket = _case_from_alice(alice, django_capture_on_commit_callbacks)
    _reply(ticket, rep, django_capture_on_commit_callbacks)

    ack, reply = smtp.messages
    # The automatic acknowledgement answers the sender alone.
    assert ack.message["Cc"] is None
    assert ack.rcpt_tos == ["alice@acme.test"]
    assert reply.message["To"] == "Alice <alice@acme.test>"
    # Not our team or intake addresses, not our mail domain, not a no-reply robot.
    assert reply.message["Cc"] == "carol@acme.test, dave@partner.test"
    assert sorted(reply.rcpt_tos) == ["alice@acme.test", "carol@acme.test", "dave@partner.test"]
    assert OutboundMail.objects.get(kind="reply").cc == ["carol@acme.test", "dave@partner.test"]


def test_a_copied_contact_we_know_is_addressed_by_name(
    smtp: CaptureServer,  # noqa: F811
    rep: User,
    alice: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    people.add_user("carol@acme.test", role="customer", org="acme", name="Carol Núñez")
    ticket = _case_from_alice(alice, django_capture_on_commit_callbacks)
    _reply(ticket, rep, django_capture_on_commit_callbacks)

    reply = smtp.messages[-1]
    # Encoded on the wire (RFC 2047), read back as the name the contact has with us.
    assert str(reply.message["Cc"]) == "Carol Núñez <carol@acme.test>, dave@partner.test"
    head = reply.raw.split(b"\r\n\r\n")[0].decode("ascii")
    assert "Cc: =?utf-8?" in head
    # The desk shows the name as it reads, not as the wire encodes it.
    desk = Client()
    desk.force_login(rep)
    page = desk.get(f"/desk/tickets/{ticket.number}/").content.decode()
    assert "<dd>Carol Núñez &lt;carol@acme.test&gt;, dave@partner.test" in page
    assert sorted(reply.rcpt_tos) == ["alice@acme.test", "carol@acme.test", "dave@partner.test"]


def test_someone_who_answered_with_an_auto_reply_is_no_longer_copied(
    smtp: CaptureServer,  # noqa: F811
    rep: User,
    alice: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    ticket = _case_from_alice(alice, django_capture_on_commit_callbacks)
    _reply(ticket, rep, django_capture_on_commit_callbacks)
    first_reply = smtp.messages[-1].message
    out_of_office = eml(
        sender="Dave <dave@partner.test>",
        subject=f"Out of office: Re: [{ticket.number}] Cannot log in",
        body="I am away until Monday.",
        message_id="<ooo@partner.test>",
        headers={"Auto-Submitted": "auto-replied", "In-Reply-To": first_reply["Message-ID"]},
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert ingest(out_of_office, source="smtp").status == "stored"

    _reply(ticket, rep, django_capture_on_commit_callbacks, body="One more thing.")

    assert smtp.messages[-1].message["Cc"] == "carol@acme.test"


def test_an_address_our_reply_bounced_from_is_no_longer_copied(
    smtp: CaptureServer,  # noqa: F811
    rep: User,
    alice: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    ticket = _case_from_alice(alice, django_capture_on_commit_callbacks)
    _reply(ticket, rep, django_capture_on_commit_callbacks)
    # The mail system of partner.test answers for dave: no such user (RFC 3464).
    dsn = corpus_file("070-bounce-postfix.eml").replace(b"gone@acme.test", b"dave@partner.test")
    with django_capture_on_commit_callbacks(execute=True):
        bounced = ingest(dsn, source="smtp", envelope_from="")
    assert bounced.status == "ignored"
    assert InboundEmail.objects.get(pk=bounced.inbound_id).bounce_recipient == "dave@partner.test"

    _reply(ticket, rep, django_capture_on_commit_callbacks, body="One more thing.")

    assert smtp.messages[-1].message["Cc"] == "carol@acme.test"


def test_a_stored_recipient_that_would_inject_a_header_is_never_copied(
    smtp: CaptureServer,  # noqa: F811
    rep: User,
    alice: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    ticket = _case_from_alice(alice, django_capture_on_commit_callbacks)
    # As if an older intake had stored it: a line break and a Bcc inside one "address".
    InboundEmail.objects.filter(ticket=ticket).update(
        recipients=",carol@acme.test,eve@evil.test\r\nbcc: mallory@evil.test,"
    )

    _reply(ticket, rep, django_capture_on_commit_callbacks)

    reply = smtp.messages[-1]
    assert reply.message["Cc"] == "carol@acme.test"
    assert reply.message["Bcc"] is None
    assert sorted(reply.rcpt_tos) == ["alice@acme.test", "carol@acme.test"]


def test_a_reply_on_a_ticket_without_copied_people_has_no_cc(
    smtp: CaptureServer,  # noqa: F811
    rep: User,
    alice: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        result = ingest(eml(), source="smtp")
    ticket = Ticket.objects.get(number=result.ticket)

    _reply(ticket, rep, django_capture_on_commit_callbacks)

    assert smtp.messages[-1].message["Cc"] is None
    assert smtp.messages[-1].rcpt_tos == ["alice@acme.test"]


def test_the_desk_shows_who_is_copied_next_to_the_requester(
    smtp: CaptureServer,  # noqa: F811
    rep: User,
    alice: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    ticket = _case_from_alice(
        alice, django_capture_on_commit_callbacks, Cc="<script>x</script> <carol@acme.test>"
    )
    desk = Client()
    desk.force_login(rep)

    page = desk.get(f"/desk/tickets/{ticket.number}/").content.decode()

    assert '<div class="ccs"><dt>Cc</dt><dd>carol@acme.test' in page
    assert "<script>x</script>" not in page
    with django_capture_on_commit_callbacks(execute=True):
        desk.post(f"/desk/tickets/{ticket.number}/reply", {"reply-body": "On it."})
    page = desk.get(f"/desk/tickets/{ticket.number}/").content.decode()
    assert "sent an email to Alice &lt;alice@acme.test&gt; (copied to carol@acme.test)" in page
