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


def test_a_bug_halfway_through_routing_keeps_the_message_and_undoes_the_rest(
    acme, monkeypatch
) -> None:
    """The case and the new contact were written when the acknowledgement failed: both are
    undone, the message is kept, quarantined with the reason, and reprocessing opens the
    case once the bug is gone."""
    from caredesk.mail import intake

    def broken(*args, **kwargs):
        raise RuntimeError("the acknowledgement broke")

    monkeypatch.setattr(intake, "_acknowledge", broken)
    result = ingest(eml(sender="Dana <dana@acme.test>"), source="smtp")

    assert result.status == "quarantined" and result.ticket is None
    assert result.reason.startswith("Intake failed (RuntimeError: the acknowledgement broke)")
    assert Ticket.objects.count() == 0
    assert not User.objects.filter(email="dana@acme.test").exists()
    row = InboundEmail.objects.get(pk=result.inbound_id)
    assert row.status == "quarantined" and row.ticket is None and row.contact is None
    assert row.subject == "Cannot log in to the agent desktop"  # what was read helps the admin
    assert bytes(row.raw) == eml(sender="Dana <dana@acme.test>")

    again = ingest(eml(sender="Dana <dana@acme.test>"), source="imap")
    assert again.status == "duplicate" and again.inbound_id == row.pk

    monkeypatch.undo()
    redone = reprocess(row)
    assert redone.status == "stored" and redone.ticket == "CASE-100"
    assert Ticket.objects.get().requester == User.objects.get(email="dana@acme.test")
    assert InboundEmail.objects.count() == 1


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


def test_an_admin_sees_quarantined_mail_and_reprocesses_it(alice, settings) -> None:
    from django.test import Client

    from caredesk.people import services as people

    admin = people.add_user("admin@caredesk.test", role="admin", password="correct horse battery")
    settings.MAIL_MAX_BYTES = 100
    result = ingest(eml(), source="smtp")
    client = Client()
    client.force_login(admin)

    listing = client.get("/admin/mail/inboundemail/?status__exact=quarantined")
    assert listing.status_code == 200 and "over the limit" in listing.content.decode()
    detail = client.get(f"/admin/mail/inboundemail/{result.inbound_id}/change/")
    assert detail.status_code == 200 and "Cannot log in to the agent desktop" in (
        detail.content.decode()
    )

    settings.MAIL_MAX_BYTES = 10_000
    client.post(
        "/admin/mail/inboundemail/",
        {"action": "reprocess_selected", "_selected_action": [result.inbound_id]},
    )

    row = InboundEmail.objects.get(pk=result.inbound_id)
    assert row.status == "stored" and row.ticket and row.ticket.number == "CASE-100"


def test_only_quarantined_mail_is_reprocessed(alice) -> None:
    from caredesk.core.errors import Conflict

    stored = InboundEmail.objects.get(pk=ingest(eml(), source="smtp").inbound_id)

    with pytest.raises(Conflict):
        reprocess(stored)


def test_a_flagged_case_says_why_on_its_timeline(alice, rep) -> None:
    from django.test import Client

    ingest(eml(), source="smtp")
    forged = ingest(
        eml(sender="mallory@evil.test", subject="Re: [CASE-100]", message_id="<f@evil.test>"),
        source="smtp",
    )
    client = Client()
    client.force_login(rep)

    page = client.get(f"/desk/tickets/{forged.ticket}/").content.decode()

    assert "opened from a flagged email" in page
    assert "the subject named CASE-100, but the sender does not belong to it" in page


@pytest.mark.django_db(transaction=True)
def test_the_same_message_delivered_twice_at_once_is_stored_once(alice) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    raw = eml(message_id="<race@acme.test>")

    def deliver(_: int) -> str:
        try:
            return ingest(raw, source="smtp").status
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = sorted(pool.map(deliver, range(4)))

    assert statuses == ["duplicate", "duplicate", "duplicate", "stored"]
    assert InboundEmail.objects.count() == 1 and Ticket.objects.count() == 1


@pytest.mark.parametrize(
    "raw",
    [
        b"Message-ID: <a\x00b@acme.test>\r\nFrom: alice@acme.test\r\nSubject: nul\r\n\r\nx\r\n",
        b"Message-ID: <\xff\xfe@acme.test>\r\nFrom: alice@acme.test\r\nSubject: \xff\r\n\r\nx\r\n",
        "Message-ID: <ü@acme.test>\r\nFrom: Ä <alice@acme.test>\r\n\r\n\x00\r\n".encode(),
        b"From: alice@acme.test\r\nSubject: " + b"x" * 5000 + b"\r\n\r\nlong subject\r\n",
        b"From: " + b"a" * 400 + b"@acme.test\r\nSubject: long address\r\n\r\nx\r\n",
    ],
    ids=["nul-in-message-id", "8bit-message-id", "utf8-message-id", "huge-subject", "long-from"],
)
def test_hostile_header_bytes_are_taken_in_or_quarantined_on_every_database(alice, raw) -> None:
    result = ingest(raw, source="smtp")

    assert result.status in ("stored", "quarantined")
    assert bytes(InboundEmail.objects.get(pk=result.inbound_id).raw) == raw
