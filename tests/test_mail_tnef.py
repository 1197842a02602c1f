"""Outlook's winmail.dat: the files inside it become the message's attachments, its body
is the message's when there is no other, and a broken one stays attached as it came."""

from __future__ import annotations

import struct

import pytest
from mail_helpers import corpus_file
from tnef_writer import winmail, with_winmail

from caredesk.mail import tnef
from caredesk.mail.intake import ingest
from caredesk.mail.models import InboundEmail
from caredesk.mail.parse import parse
from caredesk.tickets.models import Attachment, Ticket

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _files_of(number: str) -> list[tuple[str, str]]:
    return sorted(
        Attachment.objects.filter(message__ticket__number=number).values_list(
            "filename", "content_type"
        )
    )


@pytest.mark.django_db
def test_the_files_inside_winmail_dat_become_the_case_attachments(model) -> None:
    result = ingest(corpus_file("091-winmail-dat-files.eml"), source="api")

    assert result.status == "stored"
    assert _files_of(result.ticket) == [
        ("Call report Q3.pdf", "application/pdf"),
        ("queue chart.png", "image/png"),
    ]
    assert "Unpacked winmail.dat" in result.reason
    ticket = Ticket.objects.get(number=result.ticket)
    assert ticket.description == "Please find the call report attached."


@pytest.mark.django_db
def test_a_message_whose_only_body_is_in_winmail_dat_reads_as_that_body(model) -> None:
    result = ingest(corpus_file("092-winmail-dat-body-only.eml"), source="api")

    ticket = Ticket.objects.get(number=result.ticket)
    assert ticket.description == "The dialer drops calls after 30 seconds since Monday."
    assert InboundEmail.objects.get(pk=result.inbound_id).html == (
        "<p>The dialer drops calls after <b>30 seconds</b> since Monday.</p>"
    )
    assert _files_of(result.ticket) == [("dialer.log", "application/octet-stream")]


def test_the_mail_own_body_wins_over_the_one_in_winmail_dat() -> None:
    data = winmail(body="Rich text copy", html="<p>Rich text copy</p>", files=[("a.pdf", b"%PDF-")])

    mail = parse(with_winmail(data, text="What the customer typed"))

    assert mail.text.strip() == "What the customer typed"
    assert mail.html == ""


def test_the_html_body_inside_winmail_dat_is_sanitized() -> None:
    data = winmail(html='<p onclick="steal()">Hi<script>alert(1)</script></p>')

    mail = parse(with_winmail(data))

    assert mail.html == "<p>Hi</p>"
    assert mail.text == "Hi"


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["093-winmail-dat-truncated.eml", "036-winmail-dat.eml"])
def test_a_corrupt_winmail_dat_stays_attached_with_a_note(model, name: str) -> None:
    result = ingest(corpus_file(name), source="api")

    assert result.status == "stored"
    assert _files_of(result.ticket) == [("winmail.dat", "application/ms-tnef")]
    assert "winmail.dat could not be unpacked" in result.reason
    assert "attached as it came" in InboundEmail.objects.get(pk=result.inbound_id).reason


def test_names_and_types_inside_winmail_dat_are_made_safe_like_any_attachment() -> None:
    data = winmail(
        files=[
            ("../../etc/passwd", b"root:x:0:0"),
            ("invoice\u202efdp.exe", b"MZ\x90\x00"),
            ("page.html", b"<html><script>alert(1)</script></html>"),
            ("photo.jpg", PNG),
        ],
        mime_types={"page.html": "text/html", "photo.jpg": "image/jpeg"},
    )

    files = {f.filename: f.content_type for f in parse(with_winmail(data)).files}

    assert files == {
        "passwd": "application/octet-stream",
        "invoicefdp.exe": "application/octet-stream",
        "page.html": "application/octet-stream",
        "photo.jpg": "image/png",
    }


def test_a_file_inside_winmail_dat_over_the_size_limit_is_left_in_the_raw_message(
    settings,
) -> None:
    settings.MAX_ATTACHMENT_BYTES = 100
    data = winmail(files=[("small.pdf", b"%PDF-1.4"), ("big.pdf", b"%PDF-" + b"x" * 200)])

    mail = parse(with_winmail(data, text="two files"))

    assert [f.filename for f in mail.files] == ["small.pdf"]
    assert mail.skipped_files == [
        "big.pdf (205 bytes) is over the attachment limit; kept in the raw message"
    ]


def test_an_inline_image_inside_winmail_dat_keeps_its_content_id() -> None:
    data = winmail(
        html='<p><img src="cid:logo@outlook"></p>',
        files=[("logo.png", PNG)],
        content_ids={"logo.png": "logo@outlook"},
    )

    (logo,) = parse(with_winmail(data)).files

    assert (logo.content_id, logo.inline) == ("logo@outlook", True)


def _attribute(attr_id: int, data: bytes) -> bytes:
    return struct.pack("<BII", 1, attr_id, len(data)) + data + b"\x00\x00"


@pytest.mark.parametrize(
    "mapi",
    [
        # Four billion properties announced in eight bytes.
        struct.pack("<II", 0xFFFFFFFF, 0),
        # One multi-valued short property with four billion values.
        struct.pack("<IHHI", 1, 0x1002, 0x3000, 0xFFFFFFFF) + b"\x00" * 4,
        # A string property whose length runs past the end.
        struct.pack("<IHHII", 1, 0x001E, 0x3001, 1, 0x7FFFFFFF) + b"abcd",
    ],
)
def test_counts_a_winmail_dat_cannot_hold_are_refused_before_decoding(mapi: bytes) -> None:
    # tnefparse would loop over each announced property: hours of CPU for a few bytes.
    data = struct.pack("<IH", tnef.SIGNATURE, 1) + _attribute(0x00069003, mapi)

    with pytest.raises(tnef.Corrupt):
        tnef.unpack(data)
    mail = parse(with_winmail(data, text="hello"))
    assert [f.filename for f in mail.files] == ["winmail.dat"]
    assert "could not be unpacked" in mail.notes[0]
