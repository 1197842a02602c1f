"""Inline images of an HTML mail (`<img src="cid:…">`) shown from the stored attachments.

A `cid:` reference names a MIME part of the same message by its Content-ID (RFC 2392).
Intake stores that message's files, in order, as the attachments of the ticket message it
made; reading the raw message again pairs each file with its attachment, checked by name
and size. Only images of a type a browser shows without running anything are mapped, and
only from the same email; the mapping is an nh3 attribute filter over the sanitized HTML,
so nothing but our own download URLs is added, and a `cid:` that names nothing loses its
`src` and shows as an empty image.
"""

from __future__ import annotations

from urllib.parse import unquote

import nh3
from django.urls import reverse

from caredesk.mail.files import MailFile
from caredesk.mail.models import InboundEmail
from caredesk.tickets.models import Attachment

# Images a browser draws as pictures (SVG is a document with scripts: never one of them).
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
URL_SCHEMES = {"http", "https", "mailto", "cid"}


def image_urls(files: list[MailFile], attachments: list[Attachment]) -> dict[str, str]:
    """Content-ID -> download URL of each inline image stored from these files."""
    urls: dict[str, str] = {}
    if len(files) != len(attachments):
        return urls  # not the files this message was stored with: map nothing
    for found, stored in zip(files, attachments, strict=True):
        if (
            found.content_id
            and found.filename == stored.filename
            and len(found.data) == stored.size
            and stored.content_type in IMAGE_TYPES
        ):
            urls[found.content_id] = reverse("portal:attachment", args=[stored.pk])
    return urls


def with_inline_images(html: str, urls: dict[str, str]) -> str:
    """Sanitized HTML whose `<img src="cid:…">` point at `urls`; unknown ones lose `src`."""

    def attribute(tag: str, name: str, value: str) -> str | None:
        if tag == "img" and name == "src" and value[:4].lower() == "cid:":
            return urls.get(unquote(value[4:]).strip().strip("<>"))
        return value

    return nh3.clean(html, url_schemes=URL_SCHEMES, attribute_filter=attribute)


def shown_html(email: InboundEmail, files: list[MailFile]) -> str:
    """The email's stored (sanitized) HTML with its inline images shown; `files` are the
    files read from its raw message again."""
    if not email.html:
        return ""
    stored: list[Attachment] = []
    if email.ticket_message_id and files:
        stored = list(Attachment.objects.filter(message_id=email.ticket_message_id).order_by("id"))
    return with_inline_images(email.html, image_urls(files, stored))
