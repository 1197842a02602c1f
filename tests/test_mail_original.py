"""One email as it arrived, in the desk: the sender's formatting (sanitized), the headers,
why intake did what it did, and the original bytes to download; agents only."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from mail_helpers import corpus_file, eml

from caredesk.mail.intake import ingest
from caredesk.mail.models import InboundEmail
from caredesk.people.models import User

pytestmark = pytest.mark.django_db


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page_of(email_id: int) -> str:
    return reverse("desk:mail:original", args=[email_id])


def test_an_agent_reads_an_html_email_as_formatted_without_anything_that_could_run(
    rep: User,
) -> None:
    raw = corpus_file("053-script-in-html.eml")
    result = ingest(raw, source="smtp")
    row = InboundEmail.objects.get(pk=result.inbound_id)

    response = signed_in(rep).get(page_of(row.pk))

    assert response.status_code == 200
    html = response.content.decode()
    body = html[html.index('class="mail-html"') :]
    body = body[: body.index("</section>")]
    assert "Hello" in body
    for hostile in ("<script", "onclick", "javascript:", "<iframe", "<style", "onerror"):
        assert hostile not in body.lower()
    # The hostile display name and subject are shown as text, escaped.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html
    assert reverse("desk:ticket", args=[row.ticket.number]) in html
    # The raw headers are there for whoever needs them, as text.
    assert "Message-ID: &lt;xss-1@acme.test&gt;" in html


def test_a_plain_email_shows_its_text_recipients_and_the_reason_intake_gave(rep: User) -> None:
    raw = eml(
        headers={"Cc": "Bob <bob@acme.test>"},
        body="Hello,\n\nthe dialer stops at noon.\n\n> earlier text we quoted\n",
    )
    row = InboundEmail.objects.get(pk=ingest(raw, source="imap").inbound_id)

    html = signed_in(rep).get(page_of(row.pk)).content.decode()

    assert "the dialer stops at noon." in html
    assert "Bob &lt;bob@acme.test&gt;" in html
    assert row.reason in html
    assert "by IMAP poller" in html
    assert 'class="mail-html"' not in html


def test_a_quarantined_message_can_be_read_and_downloaded_byte_for_byte(
    rep: User, settings: object
) -> None:
    raw = eml(subject="Huge", body="x" * 3000)
    settings.MAIL_MAX_BYTES = 1000  # type: ignore[attr-defined]
    row = InboundEmail.objects.get(pk=ingest(raw, source="api").inbound_id)
    assert row.status == InboundEmail.Status.QUARANTINED
    client = signed_in(rep)

    html = client.get(page_of(row.pk)).content.decode()
    assert "Quarantined" in html
    assert "over the limit" in html

    download = client.get(reverse("desk:mail:download", args=[row.pk]))
    assert download.status_code == 200
    assert download["Content-Type"] == "message/rfc822"
    assert re.match(r'attachment; filename="email-\d+\.eml"', download["Content-Disposition"])
    assert download.content == raw


def test_customers_and_visitors_never_reach_an_email(alice: User) -> None:
    row = InboundEmail.objects.get(pk=ingest(eml(), source="smtp").inbound_id)
    assert row.contact == alice  # even the customer who sent it: this is the desk's view

    for url in (page_of(row.pk), reverse("desk:mail:download", args=[row.pk])):
        assert signed_in(alice).get(url).status_code == 404
        anonymous = Client().get(url)
        assert anonymous.status_code == 302
        assert anonymous["Location"].startswith(reverse("portal:signin"))


def test_an_unknown_email_is_a_plain_404(rep: User) -> None:
    assert signed_in(rep).get(page_of(987654)).status_code == 404


def test_the_intake_log_in_the_admin_links_each_email_to_its_desk_view(model: None) -> None:
    from caredesk.people import services as people

    admin = people.add_user("admin@caredesk.test", role="admin", password="correct horse battery")
    row_id = ingest(eml(), source="smtp").inbound_id

    detail = signed_in(admin).get(f"/admin/mail/inboundemail/{row_id}/change/")

    assert f'href="{page_of(row_id)}"' in detail.content.decode()


def test_the_ticket_page_links_each_email_to_the_email_as_received(rep: User, alice: User) -> None:
    opened = ingest(eml(), source="smtp")
    number = opened.ticket
    assert number
    reply = ingest(
        eml(
            subject=f"Re: [{number}] Cannot log in",
            body="Still broken.",
            message_id="<2@acme.test>",
        ),
        source="smtp",
    )
    assert reply.ticket == number

    html = signed_in(rep).get(reverse("desk:ticket", args=[number])).content.decode()

    for result in (opened, reply):
        assert f'href="{page_of(result.inbound_id)}"' in html
