"""Replies keep the CCs: the people a customer copied get the agent's email reply in Cc,
never our own addresses or a robot, and the desk shows them next to the requester."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from mail_helpers import corpus_file, eml
from mail_servers import CaptureServer
from test_mail_outbound import smtp  # noqa: F401 -- the loopback SMTP capture fixture

from caredesk.core.errors import Forbidden
from caredesk.mail import ccs
from caredesk.mail.intake import ingest
from caredesk.mail.models import CcChange, InboundEmail, OutboundMail
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
    assert reply.message["Cc"] == "Carol <carol@acme.test>, dave@partner.test"
    assert sorted(reply.rcpt_tos) == ["alice@acme.test", "carol@acme.test", "dave@partner.test"]
    assert OutboundMail.objects.get(kind="reply").cc == [
        "Carol <carol@acme.test>",
        "dave@partner.test",
    ]


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

    assert smtp.messages[-1].message["Cc"] == "Carol <carol@acme.test>"


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

    assert smtp.messages[-1].message["Cc"] == "Carol <carol@acme.test>"


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
    assert reply.message["Cc"] == "Carol <carol@acme.test>"
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


def _desk(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_agent_takes_someone_off_the_copies_and_they_stay_off(
    smtp: CaptureServer,  # noqa: F811
    rep: User,
    alice: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    ticket = _case_from_alice(alice, django_capture_on_commit_callbacks)
    desk = _desk(rep)
    page = desk.get(f"/desk/tickets/{ticket.number}/").content.decode()
    assert 'aria-label="Stop copying dave@partner.test"' in page

    done = desk.post(f"/desk/tickets/{ticket.number}/cc-remove", {"cc-email": "dave@partner.test"})
    assert done.status_code == 302
    _reply(ticket, rep, django_capture_on_commit_callbacks)
    assert smtp.messages[-1].message["Cc"] == "Carol <carol@acme.test>"
    page = desk.get(f"/desk/tickets/{ticket.number}/").content.decode()
    assert "stopped copying dave@partner.test on the email replies" in page

    # Alice copies Dave again: he stays off until an agent puts him back.
    again = eml(
        subject=f"Re: [{ticket.number}] Cannot log in",
        body="Any news?",
        message_id="<again@acme.test>",
        headers={"Cc": "dave@partner.test", "In-Reply-To": smtp.messages[-1].message["Message-ID"]},
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert ingest(again, source="smtp").ticket == ticket.number
    _reply(ticket, rep, django_capture_on_commit_callbacks, body="Still on it.")
    assert smtp.messages[-1].message["Cc"] == "Carol <carol@acme.test>"

    desk.post(f"/desk/tickets/{ticket.number}/cc-add", {"cc-email": "Dave@Partner.test"})
    _reply(ticket, rep, django_capture_on_commit_callbacks, body="Fixed.")
    assert smtp.messages[-1].message["Cc"] == "Carol <carol@acme.test>, dave@partner.test"


def test_an_agent_copies_someone_new_and_the_desk_refuses_who_must_never_be_copied(
    smtp: CaptureServer,  # noqa: F811
    rep: User,
    rep2: User,
    alice: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        ticket = Ticket.objects.get(number=ingest(eml(), source="smtp").ticket)
    desk = _desk(rep)
    url = f"/desk/tickets/{ticket.number}/cc-add"

    for refused, why in (
        ("alice@acme.test", "the requester gets every reply already"),
        ("customercare@livevox.com", "one of our own addresses"),
        (rep2.email, "agents read the ticket in the desk"),
        ("no-reply@partner.test", "does not take replies"),
        ("not an address", "not a valid email address"),
        ("", "This field is required"),
    ):
        response = desk.post(url, {"cc-email": refused})
        assert response.status_code in (400, 422), refused
        assert why in response.content.decode(), refused
    assert not CcChange.objects.exists()

    assert desk.post(url, {"cc-email": "erin@partner.test"}).status_code == 302
    _reply(ticket, rep, django_capture_on_commit_callbacks)
    assert smtp.messages[-1].message["Cc"] == "erin@partner.test"
    assert "copied erin@partner.test on the email replies" in (
        desk.get(f"/desk/tickets/{ticket.number}/").content.decode()
    )
    twice = desk.post(url, {"cc-email": "erin@partner.test"})
    assert twice.status_code == 422 and "copied already" in twice.content.decode()
    nobody = desk.post(f"/desk/tickets/{ticket.number}/cc-remove", {"cc-email": "x@partner.test"})
    assert nobody.status_code == 422 and "is not copied" in nobody.content.decode()


def test_only_agents_change_who_is_copied(alice: User, rep: User) -> None:
    ticket = services.open_case(actor=rep, subject="x", channel="email", requester=alice)
    with pytest.raises(Forbidden):
        ccs.copy_on_replies(ticket, actor=alice, email="erin@partner.test")
    assert not CcChange.objects.exists()


def test_the_api_lists_adds_and_removes_copies(
    smtp: CaptureServer,  # noqa: F811 -- also makes care.example our mail domain
    rep: User,
    alice: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    ticket = _case_from_alice(alice, django_capture_on_commit_callbacks)
    _, token = people.create_token(rep, scope="write")
    api = Client(headers={"Authorization": f"Bearer {token}"})
    url = f"/api/v1/tickets/{ticket.number}/copies"

    listed = api.get(url).json()["items"]
    assert listed == [
        {"email": "carol@acme.test", "name": "Carol"},  # as her colleague wrote it
        {"email": "dave@partner.test", "name": ""},
    ]
    added = api.post(url, {"email": "erin@partner.test"}, content_type="application/json")
    assert added.status_code == 201 and added.json()["items"][-1]["email"] == "erin@partner.test"
    refused = api.post(url, {"email": "alice@acme.test"}, content_type="application/json")
    assert refused.status_code == 422 and "requester" in refused.json()["message"]
    removed = api.delete(f"{url}/dave%40partner.test")
    assert removed.status_code == 200
    assert [c["email"] for c in removed.json()["items"]] == ["carol@acme.test", "erin@partner.test"]
    assert api.delete(f"{url}/dave%40partner.test").status_code == 422  # not copied any more

    _, theirs = people.create_token(alice, scope="write")
    customer = Client(headers={"Authorization": f"Bearer {theirs}"})
    assert customer.get(url).status_code == 404
