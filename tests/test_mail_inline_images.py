"""Inline images (`cid:`) of an HTML mail show in the desk from the email's own stored
attachments; anything else a `cid:` could name stays a harmless empty image."""

from __future__ import annotations

import base64
import re

import pytest
from django.test import Client
from mail_helpers import corpus_file
from tnef_writer import winmail, with_winmail

from caredesk.mail.intake import ingest
from caredesk.mail.models import InboundEmail
from caredesk.people.models import User
from caredesk.tickets.models import Attachment

pytestmark = pytest.mark.django_db

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def related(
    html: str,
    parts: list[tuple[str, str, bytes, str]],
    *,
    message_id: str = "<related@acme.test>",
    subject: str = "Screenshot",
    headers: str = "",
) -> bytes:
    """An HTML mail with inline parts: (file name, type, bytes, Content-ID) each."""
    out = [
        "From: Alice <alice@acme.test>",
        "To: customercare@livevox.com",
        f"Subject: {subject}",
        f"Message-ID: {message_id}",
        "MIME-Version: 1.0",
        'Content-Type: multipart/related; boundary="rel"',
    ]
    out += [h for h in headers.split("\n") if h]
    out += ["", "--rel", "Content-Type: text/html; charset=utf-8", "", html, ""]
    for name, kind, data, cid in parts:
        out += [
            "--rel",
            f'Content-Type: {kind}; name="{name}"',
            f'Content-Disposition: inline; filename="{name}"',
            f"Content-ID: <{cid}>",
            "Content-Transfer-Encoding: base64",
            "",
            base64.b64encode(data).decode(),
            "",
        ]
    out.append("--rel--")
    return "\r\n".join(out).encode()


def _page(rep: User, inbound_id: int) -> str:
    desk = Client()
    desk.force_login(rep)
    response = desk.get(f"/desk/mail/{inbound_id}/")
    assert response.status_code == 200
    return response.content.decode()


def _body(page: str) -> str:
    return page.split('<div class="mail-html">', 1)[1].split("</div>", 1)[0].strip()


def _attachment(name: str) -> Attachment:
    return Attachment.objects.get(filename=name)


def test_an_inline_png_shows_from_its_stored_attachment(rep: User, alice: User) -> None:
    result = ingest(corpus_file("007-outlook-related-inline-image.eml"), source="api")
    png = _attachment("image001.png")

    body = _body(_page(rep, result.inbound_id))

    assert body == (
        f'<p>See the screenshot below.</p><img src="/attachments/{png.pk}/" width="1" height="1">'
    )
    desk = Client()
    desk.force_login(rep)
    served = desk.get(f"/attachments/{png.pk}/")
    assert served["Content-Type"] == "image/png"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert served["Content-Disposition"].startswith("attachment")
    assert b"".join(served.streaming_content) == PNG


def test_the_page_policy_lets_those_same_origin_pictures_load(rep: User, alice: User) -> None:
    result = ingest(corpus_file("007-outlook-related-inline-image.eml"), source="api")
    desk = Client()
    desk.force_login(rep)

    policy = desk.get(f"/desk/mail/{result.inbound_id}/")["Content-Security-Policy"]

    img_src = next(d for d in policy.split(";") if d.strip().startswith("img-src")).split()
    assert "'self'" in img_src
    assert "*" not in img_src and "https:" not in img_src and "http:" not in img_src


def test_a_cid_that_names_nothing_stays_harmless(rep: User, alice: User) -> None:
    html = (
        '<p>Look:</p><img src="cid:missing@acme.test" alt="gone">'
        '<img src="cid:javascript:alert(1)"><img src="cid:shot@acme.test">'
    )
    result = ingest(related(html, [("shot.png", "image/png", PNG, "shot@acme.test")]), source="api")

    body = _body(_page(rep, result.inbound_id))

    shot = _attachment("shot.png")
    assert body == (f'<p>Look:</p><img alt="gone"><img><img src="/attachments/{shot.pk}/">')


@pytest.mark.parametrize(
    ("name", "kind", "data"),
    [
        ("terms.pdf", "application/pdf", b"%PDF-1.4 terms"),
        ("logo.svg", "image/svg+xml", b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>'),
        ("fake.png", "image/png", b"<html><script>alert(1)</script></html>"),
    ],
)
def test_a_cid_naming_a_file_that_is_no_picture_is_not_mapped(
    rep: User, alice: User, name: str, kind: str, data: bytes
) -> None:
    html = '<p>Here:</p><img src="cid:file@acme.test">'
    result = ingest(related(html, [(name, kind, data, "file@acme.test")]), source="api")
    assert _attachment(name)  # stored, as a download

    body = _body(_page(rep, result.inbound_id))

    assert body == "<p>Here:</p><img>"


def test_an_image_of_another_email_on_the_ticket_is_not_mapped(rep: User, alice: User) -> None:
    first = ingest(
        related(
            '<img src="cid:shot@acme.test">', [("shot.png", "image/png", PNG, "shot@acme.test")]
        ),
        source="api",
    )
    second = ingest(
        related(
            '<p>Again:</p><img src="cid:shot@acme.test">',
            [],
            message_id="<second@acme.test>",
            subject=f"Re: [{first.ticket}] Screenshot",
            headers="In-Reply-To: <related@acme.test>",
        ),
        source="api",
    )
    assert second.ticket == first.ticket

    assert _body(_page(rep, second.inbound_id)) == "<p>Again:</p><img>"
    assert "/attachments/" in _body(_page(rep, first.inbound_id))


def test_the_timeline_shows_a_picture_attachment_as_a_picture(rep: User, alice: User) -> None:
    result = ingest(corpus_file("007-outlook-related-inline-image.eml"), source="api")
    png = _attachment("image001.png")
    desk = Client()
    desk.force_login(rep)

    page = desk.get(f"/desk/tickets/{result.ticket}/").content.decode()

    assert re.search(
        rf'<img class="attachment-picture" src="/attachments/{png.pk}/" alt="image001.png"', page
    )
    assert InboundEmail.objects.get(pk=result.inbound_id).html  # and the original shows it too


def test_an_inline_image_inside_winmail_dat_shows_too(rep: User, alice: User) -> None:
    data = winmail(
        html='<p>Our logo:</p><img src="cid:logo@outlook">',
        files=[("logo.png", PNG)],
        content_ids={"logo.png": "logo@outlook"},
    )
    result = ingest(with_winmail(data, sender="Alice <alice@acme.test>"), source="api")

    logo = _attachment("logo.png")
    assert _body(_page(rep, result.inbound_id)) == (
        f'<p>Our logo:</p><img src="/attachments/{logo.pk}/">'
    )
