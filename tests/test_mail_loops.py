"""Acknowledgements (RFC 3834), auto-replies, bounces (RFC 3464) and the auto-reply storm."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from mail_helpers import corpus_file, eml

from caredesk.core.clock import now
from caredesk.mail.intake import ACKS_PER_DAY, ACKS_PER_HOUR, CASES_PER_HOUR, ingest, reprocess
from caredesk.mail.models import InboundEmail, OutboundMail
from caredesk.mail.outbound import queue_acknowledgement
from caredesk.sla.models import Clock
from caredesk.tickets import services
from caredesk.tickets.models import Event, Ticket
from caredesk.tickets.states import Status

pytestmark = pytest.mark.django_db


def _acks(to: str | None = None) -> list[OutboundMail]:
    found = OutboundMail.objects.filter(kind=OutboundMail.Kind.ACKNOWLEDGEMENT)
    return [m for m in found if to is None or to in m.recipients[0]]


def test_a_new_case_is_acknowledged_with_its_number_and_the_clock_keeps_running(alice) -> None:
    result = ingest(eml(), source="smtp")

    (ack,) = _acks()
    assert "alice@acme.test" in ack.recipients[0]
    assert result.ticket and result.ticket in ack.subject
    clock = Clock.objects.get(ticket__number=result.ticket, kind="first_response")
    assert clock.stopped_at is None
    assert InboundEmail.objects.get(pk=result.inbound_id).acknowledged


def test_a_reply_on_an_existing_ticket_is_not_acknowledged(alice) -> None:
    first = ingest(eml(), source="smtp")
    ingest(eml(subject=f"Re: [{first.ticket}]", message_id="<2@acme.test>"), source="smtp")

    assert len(_acks()) == 1


@pytest.mark.parametrize(
    "headers",
    [
        {"Precedence": "bulk"},
        {"Precedence": "junk"},
        {"Precedence": "list"},
        {"List-Id": "<dev.lists.acme.test>"},
        {"X-Auto-Response-Suppress": "All"},
        {"Return-Path": "<>"},
    ],
    ids=["bulk", "junk", "list", "list-id", "suppress", "null-sender"],
)
def test_no_acknowledgement_goes_to_automatic_or_list_mail(alice, headers) -> None:
    result = ingest(eml(headers=headers), source="api")

    assert result.status == "stored"
    assert _acks() == []
    assert InboundEmail.objects.get(pk=result.inbound_id).flags["no_ack"]


def test_no_acknowledgement_to_a_null_smtp_sender(alice) -> None:
    ingest(eml(), source="smtp", envelope_from="")

    assert _acks() == []


def test_mail_from_our_own_address_opens_nothing(model) -> None:
    result = ingest(eml(sender="Customer Care <customercare@livevox.com>"), source="smtp")

    assert result.status == "ignored"
    assert Ticket.objects.count() == 0 and _acks() == []


def test_acknowledgements_are_rate_limited_per_sender(alice) -> None:
    for i in range(ACKS_PER_HOUR + 3):
        ingest(eml(subject=f"Request {i}", message_id=f"<req-{i}@acme.test>"), source="smtp")

    assert Ticket.objects.count() == ACKS_PER_HOUR + 3
    assert len(_acks()) == ACKS_PER_HOUR


def test_acknowledgements_per_sender_also_stop_at_the_daily_limit(alice) -> None:
    start = now()
    sent = 0
    for hour in range(ACKS_PER_DAY // ACKS_PER_HOUR + 2):
        with time_machine.travel(start + dt.timedelta(minutes=61 * hour), tick=False):
            for _ in range(ACKS_PER_HOUR):
                raw = eml(subject=f"Request {sent}", message_id=f"<day-{sent}@acme.test>")
                ingest(raw, source="smtp")
                sent += 1

    assert Ticket.objects.count() == sent
    assert len(_acks()) == ACKS_PER_DAY
    # A day after the first acknowledgement, the sender hears from us again.
    with time_machine.travel(start + dt.timedelta(days=1, minutes=1), tick=False):
        ingest(eml(subject="Next day", message_id="<day-next@acme.test>"), source="smtp")
    assert len(_acks()) == ACKS_PER_DAY + 1


def test_an_auto_reply_that_threads_is_kept_on_the_ticket_without_reopening_it(alice, rep) -> None:
    case = Ticket.objects.get(number=ingest(eml(), source="smtp").ticket)
    ack = _acks()[0]
    services.reply(case, actor=rep, body="Fixed, please check.")
    services.resolve(case, actor=rep)

    result = ingest(
        eml(
            subject=f"Automatic reply: [{case.number}] Cannot log in",
            body="I am out of the office until Monday.",
            message_id="<oof@acme.test>",
            headers={"Auto-Submitted": "auto-replied", "In-Reply-To": ack.message_id},
        ),
        source="smtp",
    )

    assert result.status == "stored" and result.ticket == case.number
    case.refresh_from_db()
    assert case.status == Status.RESOLVED
    assert not case.messages.filter(body__contains="out of the office").exists()
    assert Event.objects.filter(ticket=case, kind="mail.auto_reply").exists()
    assert InboundEmail.objects.get(pk=result.inbound_id).flags["auto_reply"] is True
    assert len(_acks()) == 1


def test_an_auto_reply_on_a_new_case_stops_no_clock(alice) -> None:
    case = Ticket.objects.get(number=ingest(eml(), source="smtp").ticket)

    ingest(
        eml(
            subject=f"Auto: [{case.number}] Cannot log in",
            message_id="<auto-2@acme.test>",
            headers={"Auto-Submitted": "auto-replied"},
        ),
        source="smtp",
    )

    clock = Clock.objects.get(ticket=case, kind="first_response")
    assert clock.stopped_at is None
    case.refresh_from_db()
    assert case.status == Status.NEW


def test_an_auto_reply_that_threads_nowhere_opens_no_case(alice) -> None:
    result = ingest(corpus_file("056-auto-rfc3834.eml"), source="smtp")

    assert result.status == "ignored"
    assert Ticket.objects.count() == 0 and _acks() == []
    assert InboundEmail.objects.get(pk=result.inbound_id).kind == "auto_reply"


def test_a_bounce_is_recorded_against_the_contact_and_the_mail_it_answers(alice) -> None:
    case = Ticket.objects.get(number=ingest(eml(), source="smtp").ticket)
    ack = _acks()[0]
    from caredesk.mail.ids import bounce_address

    verp = bounce_address(ack)
    dsn = corpus_file("070-bounce-postfix.eml").replace(b"gone@acme.test", b"alice@acme.test")

    result = ingest(dsn, source="smtp", envelope_from="", envelope_to=[verp])

    assert result.status == "ignored"
    row = InboundEmail.objects.get(pk=result.inbound_id)
    assert row.kind == "bounce" and row.bounce_status == "5.1.1"
    assert row.contact == alice and row.outbound_id == ack.pk
    assert Event.objects.filter(ticket=case, kind="mail.bounced").exists()
    assert Ticket.objects.count() == 1


@pytest.mark.parametrize(
    "name",
    [
        "070-bounce-postfix.eml",
        "071-bounce-exim.eml",
        "072-bounce-exchange.eml",
        "073-bounce-gmail.eml",
        "074-bounce-delayed-sendmail.eml",
        "075-bounce-qmail-plain.eml",
        "076-bounce-null-return-path.eml",
    ],
)
def test_bounces_of_several_mail_servers_never_open_a_case(alice, name: str) -> None:
    result = ingest(corpus_file(name), source="api")

    assert result.status == "ignored"
    assert InboundEmail.objects.get(pk=result.inbound_id).kind == "bounce"
    assert Ticket.objects.count() == 0


class Responder:
    """The far side of a storm: answers every mail with an auto-reply, optionally a rude one
    that neither marks itself (Auto-Submitted) nor keeps our threading headers."""

    def __init__(self, address: str, *, rude: bool) -> None:
        self.address, self.rude, self.sent = address, rude, 0

    def answer(self, mail: OutboundMail) -> bytes:
        self.sent += 1
        headers = {"In-Reply-To": mail.message_id} if not self.rude else {}
        if not self.rude:
            headers["Auto-Submitted"] = "auto-replied"
        subject = f"Out of office: {mail.subject}" if not self.rude else f"Received #{self.sent}"
        return eml(
            sender=self.address,
            subject=subject,
            body="Your message has been received.",
            message_id=f"<storm-{self.sent}@robot.test>",
            headers=headers,
        )


@pytest.mark.parametrize("rude", [False, True], ids=["rfc3834-responder", "rude-responder"])
def test_an_auto_reply_storm_of_200_messages_yields_a_bounded_handful_of_acks(
    model, rude: bool
) -> None:
    robot = Responder("robot@robot.test", rude=rude)
    ingest(eml(sender=robot.address, message_id="<storm-0@robot.test>"), source="smtp")
    answered: set[int] = set()
    for _ in range(200):
        pending = [m for m in _acks() if m.pk not in answered]
        if pending:
            answered.add(pending[0].pk)
            ingest(robot.answer(pending[0]), source="smtp")
        else:
            # The robot keeps writing on its own (a rude one opens new threads each time).
            ingest(robot.answer(_acks()[-1] if _acks() else OutboundMail()), source="smtp")

    assert robot.sent == 200
    assert len(_acks()) <= ACKS_PER_HOUR
    # Nothing is lost, and a robot that never marks its mail cannot fill the queue either.
    assert InboundEmail.objects.count() == 201
    assert Ticket.objects.count() <= CASES_PER_HOUR


def test_the_acknowledgement_is_auto_submitted(alice) -> None:
    ingest(eml(), source="smtp")
    ack = _acks()[0]
    case = ack.ticket
    again = queue_acknowledgement(case, to="alice@acme.test", inbound=InboundEmail.objects.get())

    assert ack.auto_submitted and again.auto_submitted


@pytest.mark.parametrize(
    "subject",
    ["Out of office replies are not working", "Automatic reply settings for my team", "Absence"],
)
def test_a_person_writing_about_auto_replies_still_opens_a_case(alice, subject: str) -> None:
    result = ingest(eml(subject=subject), source="smtp")

    assert result.status == "stored" and result.ticket


@pytest.mark.parametrize(
    "subject",
    [
        "Automatic reply: Cannot log in",
        "Out of Office: Cannot log in",
        "Abwesenheitsnotiz: Frage",
        "Automatische Antwort: Frage",
        "Réponse automatique : Question",
    ],
)
def test_responders_subject_prefixes_mark_an_auto_reply(alice, subject: str) -> None:
    result = ingest(eml(subject=subject), source="smtp")

    assert result.status == "ignored"
    assert InboundEmail.objects.get(pk=result.inbound_id).kind == "auto_reply"


def test_a_flood_of_new_cases_from_one_sender_waits_in_quarantine(alice) -> None:
    start = now()
    with time_machine.travel(start, tick=False):
        for i in range(CASES_PER_HOUR + 1):
            raw = eml(subject=f"Robot {i}", message_id=f"<r{i}@acme.test>")
            last = ingest(raw, source="smtp")

    assert last.status == "quarantined" and "within the hour" in last.reason
    assert Ticket.objects.count() == CASES_PER_HOUR
    with time_machine.travel(start + dt.timedelta(hours=1, minutes=1), tick=False):
        again = reprocess(InboundEmail.objects.get(pk=last.inbound_id))
    assert again.status == "stored" and again.ticket
