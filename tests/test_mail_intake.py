"""Intake: one function takes every message in, stores it once, and never loses one."""

from __future__ import annotations

import pytest
from mail_helpers import eml

from caredesk.mail.intake import ingest, reprocess
from caredesk.mail.models import InboundEmail
from caredesk.people.models import User
from caredesk.tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_a_new_sender_opens_a_case_and_becomes_a_contact_of_the_domain_owner(acme) -> None:
    result = ingest(eml(sender="Dana <dana@acme.test>"), source="smtp")

    assert result.status == "stored"
    ticket = Ticket.objects.get(number=result.ticket)
    assert ticket.number == "CASE-100"
    assert ticket.channel == "email"
    assert ticket.subject == "Cannot log in to the agent desktop"
    assert "cannot log in" in ticket.description
    dana = User.objects.get(email="dana@acme.test")
    assert dana.name == "Dana"
    assert ticket.requester == dana and ticket.organization == acme


def test_the_same_delivery_twice_is_stored_once(alice) -> None:
    first = ingest(eml(), source="smtp")
    again = ingest(eml(), source="imap")

    assert again.status == "duplicate"
    assert again.ticket == first.ticket
    assert again.inbound_id == first.inbound_id
    assert InboundEmail.objects.count() == 1
    assert Ticket.objects.count() == 1


def test_two_different_messages_sharing_a_message_id_are_both_kept(alice) -> None:
    ingest(eml(body="first text"), source="smtp")
    second = ingest(eml(body="second text"), source="smtp")

    assert second.status == "stored"
    assert InboundEmail.objects.count() == 2


def test_garbage_is_quarantined_with_a_reason_and_kept(model) -> None:
    result = ingest(b"\x00\xff not a message at all", source="api")

    assert result.status == "quarantined"
    assert result.reason
    row = InboundEmail.objects.get(pk=result.inbound_id)
    assert bytes(row.raw) == b"\x00\xff not a message at all"


def test_an_oversized_message_is_quarantined_and_reprocessed_after_the_limit_rises(
    alice, settings
) -> None:
    settings.MAIL_MAX_BYTES = 100
    result = ingest(eml(), source="smtp")
    assert result.status == "quarantined"
    assert "over the limit" in result.reason
    assert Ticket.objects.count() == 0

    settings.MAIL_MAX_BYTES = 10_000
    again = reprocess(InboundEmail.objects.get(pk=result.inbound_id))

    assert again.status == "stored"
    assert again.ticket == "CASE-100"
