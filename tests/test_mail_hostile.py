"""Hostile mail changes nothing it should not: what it carries never runs in a page."""

from __future__ import annotations

import pytest
from django.test import Client
from mail_helpers import corpus_file, eml

from caredesk.mail.intake import ingest
from caredesk.people.models import User
from caredesk.tickets.models import Attachment, Ticket

pytestmark = pytest.mark.django_db

XSS = "<script>alert('x')</script>"


def _page(user: User, path: str) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(path)
    assert response.status_code == 200, path
    return response.content.decode()


def test_script_in_subject_name_body_and_file_name_never_renders_unescaped(alice, rep) -> None:
    hostile = eml(
        sender=f'"{XSS}" <alice@acme.test>',
        subject=f"Help {XSS}",
        body=f"Body {XSS}",
    )
    first = ingest(hostile, source="smtp")
    ingest(
        corpus_file("053-script-in-html.eml").replace(b"rita@acme.test", b"alice@acme.test"),
        source="smtp",
    )
    reply = ingest(
        eml(
            subject=f"Re: [{first.ticket}]",
            message_id="<files@acme.test>",
            body=f"see file {XSS}\n\nOn Mon, Bob wrote:\n> quoted {XSS}",
        ).replace(b"Content-Type: text/plain; charset=utf-8", b"Content-Type: text/plain"),
        source="smtp",
    )
    files = ingest(
        corpus_file("054-filename-tricks.eml")
        .replace(b"sam@acme.test", b"alice@acme.test")
        .replace(b"tricky names", f"tricky names [{first.ticket}]".encode()),
        source="smtp",
    )
    assert reply.ticket == files.ticket == first.ticket

    for page in (
        _page(rep, f"/desk/tickets/{first.ticket}/"),
        _page(alice, f"/requests/{first.ticket}/"),
        _page(rep, "/desk/"),
        _page(alice, "/requests/"),
    ):
        assert "<script>alert" not in page
        assert "alert(2)" not in page and "onclick" not in page
    ticket_page = _page(rep, f"/desk/tickets/{first.ticket}/")
    assert "&lt;script&gt;alert" in ticket_page
    assert "invoicefdp.exe" in ticket_page and "../" not in ticket_page.split("attachments")[-1]
    assert '<details class="quoted">' in ticket_page


def test_stored_file_names_have_no_path_nul_or_direction_override(alice) -> None:
    result = ingest(corpus_file("054-filename-tricks.eml"), source="smtp")

    names = list(Attachment.objects.values_list("filename", flat=True))
    assert sorted(names) == ["invoicefdp.exe", "passwd", "photo.png"]
    for attachment in Attachment.objects.all():
        assert ".." not in attachment.file.name and "\u202e" not in attachment.file.name
    assert Ticket.objects.get(number=result.ticket)


def test_header_injection_through_the_subject_never_reaches_our_mail(alice) -> None:
    from caredesk.mail.models import OutboundMail

    result = ingest(corpus_file("049-header-injection-attempt.eml"), source="smtp")

    ticket = Ticket.objects.get(number=result.ticket)
    assert "\n" not in ticket.subject and "\r" not in ticket.subject
    for mail in OutboundMail.objects.all():
        assert "\n" not in mail.subject


def test_attachments_download_only_as_passive_files_and_only_for_who_may_see_them(
    alice, gina, rep
) -> None:
    result = ingest(
        corpus_file("054-filename-tricks.eml").replace(b"sam@acme.test", b"alice@acme.test"),
        source="smtp",
    )
    files = {a.filename: a for a in Attachment.objects.all()}
    url = f"/attachments/{files['photo.png'].pk}/"

    for user in (alice, rep):
        client = Client()
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/octet-stream"
        assert response["Content-Disposition"].startswith("attachment;")
        assert "sandbox" in response["Content-Security-Policy"]
        assert b"".join(response.streaming_content).startswith(b"<html>")
    assert url in _page(rep, f"/desk/tickets/{result.ticket}/")
    stranger = Client()
    stranger.force_login(gina)
    assert stranger.get(url).status_code == 404
    assert Client().get(url).status_code == 302


def test_the_first_message_of_an_email_case_folds_its_quoted_history_too(alice, rep) -> None:
    body = "New question here.\n\nOn Mon, Bob wrote:\n> an old <b>quoted</b> line"
    result = ingest(eml(body=body), source="smtp")

    for page in (
        _page(rep, f"/desk/tickets/{result.ticket}/"),
        _page(alice, f"/requests/{result.ticket}/"),
    ):
        assert '<details class="quoted"><summary>Quoted text</summary>' in page
        assert "&lt;b&gt;quoted&lt;/b&gt;" in page
    assert "an old <b>quoted</b> line" in Ticket.objects.get(number=result.ticket).description


def test_a_signature_alone_folds_under_its_own_name(alice, rep) -> None:
    result = ingest(eml(body="Dialer down since 9.\n\n-- \nAlice, Acme"), source="smtp")

    page = _page(rep, f"/desk/tickets/{result.ticket}/")
    assert '<details class="quoted"><summary>Signature</summary><p>-- <br>Alice, Acme' in page
