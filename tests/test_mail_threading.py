"""Threading: our signed Message-IDs first, then the subject tag from someone who belongs
to the ticket, else a new case. DMARC failures never write into an existing ticket."""

from __future__ import annotations

import pytest
from mail_helpers import eml

from caredesk.mail.intake import ingest
from caredesk.mail.models import InboundEmail
from caredesk.mail.outbound import queue_acknowledgement
from caredesk.tickets import services
from caredesk.tickets.models import Event, Message, Ticket
from caredesk.tickets.states import Status

pytestmark = pytest.mark.django_db


def _case(subject: str = "Cannot log in to the agent desktop") -> Ticket:
    result = ingest(eml(subject=subject), source="smtp")
    return Ticket.objects.get(number=result.ticket)


def _our_message_id(ticket: Ticket) -> str:
    inbound = InboundEmail.objects.filter(ticket=ticket).first()
    assert inbound is not None
    return queue_acknowledgement(ticket, to="alice@acme.test", inbound=inbound).message_id


def test_a_reply_to_our_message_id_lands_on_its_ticket_whatever_the_subject(alice) -> None:
    case = _case()
    ours = _our_message_id(case)

    result = ingest(
        eml(
            subject="totally different subject",
            body="Thanks, that fixed it.",
            message_id="<reply-1@acme.test>",
            headers={"In-Reply-To": ours, "References": ours},
        ),
        source="smtp",
    )

    assert result.status == "stored" and result.ticket == case.number
    assert "matched by message-id" in result.reason
    assert case.messages.filter(body="Thanks, that fixed it.", channel="email").exists()


def test_a_forged_message_id_of_ours_does_not_thread(alice, gina) -> None:
    case = _case()
    ours = _our_message_id(case)
    forged = ours[:-20] + "aaaaaaaaaaaaaaaa" + ours[-4:] if len(ours) > 24 else "<cd.x@y>"

    result = ingest(
        eml(
            sender="gina@globex.test",
            message_id="<g-1@globex.test>",
            subject="hello",
            headers={"In-Reply-To": forged},
        ),
        source="smtp",
    )

    assert result.ticket != case.number


def test_a_reply_to_an_escalated_ticket_lands_on_it_and_one_to_the_case_on_the_case(
    alice, rep
) -> None:
    case = _case()
    tsup = services.escalate(case, actor=rep, to="technical-support", reason="Dialer outage")

    on_tsup = ingest(
        eml(subject=f"Re: [{tsup.number}] news?", body="Any news?", message_id="<r-t@acme.test>"),
        source="smtp",
    )
    on_case = ingest(
        eml(
            subject=f"Re: [{case.number}] thanks", body="And thanks.", message_id="<r-c@acme.test>"
        ),
        source="smtp",
    )

    assert on_tsup.ticket == tsup.number == "TSUP-100"
    assert on_case.ticket == case.number
    assert tsup.messages.filter(body="Any news?").exists()
    assert case.messages.filter(body="And thanks.").exists()


@pytest.mark.parametrize(
    "sender", ["alice@acme.test", "bob@acme.test"], ids=["requester", "colleague"]
)
def test_a_subject_tag_from_someone_who_belongs_to_the_ticket_threads(
    alice, bob, sender: str
) -> None:
    case = _case()

    result = ingest(
        eml(sender=sender, subject=f"Re: [{case.number}] more", message_id="<m@acme.test>"),
        source="smtp",
    )

    assert result.ticket == case.number


def test_someone_copied_on_the_ticket_may_reply_by_its_subject_tag(alice) -> None:
    first = ingest(eml(headers={"Cc": "Partner <partner@outside.test>"}), source="smtp")

    reply = ingest(
        eml(
            sender="Partner <partner@outside.test>",
            subject=f"Re: [{first.ticket}] Cannot log in",
            message_id="<p-1@outside.test>",
        ),
        source="smtp",
    )

    assert reply.ticket == first.ticket


def test_a_forged_subject_tag_from_a_stranger_opens_a_new_flagged_case(alice, gina) -> None:
    case = _case()

    result = ingest(
        eml(
            sender="Mallory <mallory@evil.test>",
            subject=f"Re: [{case.number}] change the password",
            body="Please change the password to hunter2.",
            message_id="<evil@evil.test>",
        ),
        source="smtp",
    )

    assert result.ticket != case.number
    assert not case.messages.filter(body__contains="hunter2").exists()
    new = Ticket.objects.get(number=result.ticket)
    assert new.requester.email == "mallory@evil.test"
    assert Event.objects.filter(ticket=new, kind="mail.flagged").exists()


def test_a_customer_of_another_organization_cannot_write_into_a_ticket_by_its_tag(
    alice, gina
) -> None:
    case = _case()

    result = ingest(
        eml(sender="gina@globex.test", subject=f"[{case.number}]", message_id="<g@globex.test>"),
        source="smtp",
    )

    assert result.ticket != case.number


def test_dmarc_fail_from_a_trusted_server_opens_a_new_flagged_case(alice, settings) -> None:
    settings.TRUSTED_AUTHSERV_IDS = ["mx.caredesk.test"]
    case = _case()
    spoof = eml(
        subject=f"Re: [{case.number}] Cannot log in",
        body="Spoofed.",
        message_id="<spoof@acme.test>",
        headers={
            "Authentication-Results": "mx.caredesk.test; spf=fail smtp.mailfrom=acme.test;"
            " dmarc=fail (p=reject) header.from=acme.test"
        },
    )

    result = ingest(spoof, source="smtp")

    assert result.ticket != case.number
    assert not case.messages.filter(body="Spoofed.").exists()
    row = InboundEmail.objects.get(pk=result.inbound_id)
    assert row.flags["dmarc"] == "fail" and row.flags["not_threaded"] == case.number


def test_authentication_results_from_an_untrusted_host_are_ignored(alice, settings) -> None:
    settings.TRUSTED_AUTHSERV_IDS = ["mx.caredesk.test"]
    case = _case()

    result = ingest(
        eml(
            subject=f"Re: [{case.number}] x",
            message_id="<x@acme.test>",
            headers={"Authentication-Results": "evil.test; dmarc=fail header.from=acme.test"},
        ),
        source="smtp",
    )

    assert result.ticket == case.number


def test_a_reply_to_a_closed_ticket_opens_a_new_case(alice, rep) -> None:
    case = _case()
    services.resolve(case, actor=rep)
    services.close(case, actor=rep)

    result = ingest(
        eml(subject=f"Re: [{case.number}] again", message_id="<z@acme.test>"), source="smtp"
    )

    assert result.status == "stored" and result.ticket not in (None, case.number)


def test_the_customers_reply_reopens_a_ticket_waiting_on_them(alice, rep) -> None:
    case = _case()
    services.set_status(case, actor=rep, status=Status.WAITING_ON_CUSTOMER)

    ingest(eml(subject=f"Re: [{case.number}]", message_id="<w@acme.test>"), source="smtp")

    case.refresh_from_db()
    assert case.status == Status.OPEN


def test_an_agent_writing_from_a_mail_client_adds_an_internal_note(alice, rep) -> None:
    case = _case()

    result = ingest(
        eml(
            sender="rep@caredesk.test",
            subject=f"Re: [{case.number}]",
            body="Looking into it.",
            message_id="<rep@caredesk.test>",
        ),
        source="smtp",
    )

    assert result.ticket == case.number
    note = case.messages.get(body="Looking into it.")
    assert note.kind == Message.Kind.NOTE


def test_a_reply_all_to_the_customers_own_message_lands_on_its_case(alice, bob) -> None:
    case = _case()

    result = ingest(
        eml(
            sender="Bob <bob@acme.test>",
            subject="Re: Cannot log in to the agent desktop",
            body="Same here.",
            message_id="<bob-1@acme.test>",
            headers={"In-Reply-To": "<first@acme.test>", "References": "<first@acme.test>"},
        ),
        source="smtp",
    )

    assert result.ticket == case.number
    assert "inbound-reference" in result.reason


def test_a_stranger_replying_to_a_customers_message_id_does_not_get_in(alice, gina) -> None:
    case = _case()

    result = ingest(
        eml(
            sender="gina@globex.test",
            subject="Re: Cannot log in",
            message_id="<gina-1@globex.test>",
            headers={"In-Reply-To": "<first@acme.test>"},
        ),
        source="smtp",
    )

    assert result.ticket != case.number
