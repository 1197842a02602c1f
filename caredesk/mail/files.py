"""Attachments and inline images of inbound mail: safe names, sniffed types, size limits."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message

from django.conf import settings

from caredesk.mail import charsets
from caredesk.tickets.services import safe_filename

# Types a browser would run or render as a document: never kept under their own label.
ACTIVE = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/xml",
        "application/xml",
        "text/javascript",
        "application/javascript",
        "application/x-javascript",
        "application/ecmascript",
        "text/ecmascript",
        "application/x-shockwave-flash",
        "application/pdf+html",
        "multipart/x-mixed-replace",
    }
)
TNEF_MAGIC = b"\x78\x9f\x3e\x22"
MAGIC: list[tuple[bytes, str]] = [
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"PK\x03\x04", "application/zip"),
    (b"\x1f\x8b", "application/gzip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/vnd.ms-office"),
    (TNEF_MAGIC, "application/ms-tnef"),
    (b"BM", "image/bmp"),
]
MARKUP_START = (b"<!doctype", b"<html", b"<svg", b"<?xml", b"<script", b"<body", b"<head")
EXTENSIONS = {
    "application/pdf": ".pdf",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "message/rfc822": ".eml",
    "text/plain": ".txt",
    "text/calendar": ".ics",
}


@dataclass(frozen=True)
class MailFile:
    filename: str
    content_type: str
    data: bytes
    content_id: str = ""
    inline: bool = False


def over_limit(name: str, size: int) -> str:
    return f"{name} ({size} bytes) is over the attachment limit; kept in the raw message"


def sniff(data: bytes, declared: str) -> str:
    """The type to store: what the bytes are, never an active type, octet-stream when unsure."""
    for magic, kind in MAGIC:
        if data.startswith(magic):
            return kind
    head = data[:512].lstrip().lower()
    if declared in ACTIVE or head.startswith(MARKUP_START):
        return "application/octet-stream"
    if declared.startswith(("text/", "message/")) or declared in ("application/ms-tnef",):
        return declared
    if declared.startswith(("image/", "audio/", "video/", "application/")):
        # A declared binary type we could not confirm: keep the label, browsers get a download.
        return declared
    return "application/octet-stream"


def filename_of(part: Message) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:  # a broken RFC 2231 parameter leaves the name unknown
        name = ""
    return charsets.decode_header_value(str(name)) if name else ""


def extract_file(part: Message) -> MailFile | str | None:
    """The part as a file; a string when it is too large (the reason); None when empty."""
    ctype = part.get_content_type()
    if ctype == "message/rfc822":
        inner = part.get_payload()
        body = inner[0] if isinstance(inner, list) and inner else None
        try:
            data = body.as_bytes() if isinstance(body, Message) else b""
        except Exception:  # a forwarded message we cannot re-serialise
            data = str(part.get_payload()).encode("utf-8", "replace")
    else:
        try:
            raw = part.get_payload(decode=True)
        except Exception:  # undecodable transfer encoding: keep what is there
            raw = None
        data = raw if isinstance(raw, bytes) else str(part.get_payload()).encode("utf-8", "replace")
    if not data:
        return None
    name = filename_of(part)
    fallback = "forwarded-message" if ctype == "message/rfc822" else "attachment"
    content_id = str(part.get("Content-ID") or "")
    inline = (part.get_content_disposition() or "") == "inline"
    name = name or fallback + EXTENSIONS.get(ctype, "")
    # A winmail.dat is a container: the limit applies to each file in it (parse.py).
    container = data.startswith(TNEF_MAGIC)
    return make_file(name, ctype, data, content_id, inline, limited=not container)


def make_file(
    name: str,
    declared: str,
    data: bytes,
    content_id: str = "",
    inline: bool = False,
    *,
    limited: bool = True,
) -> MailFile | str:
    """A file found in a message (a MIME part, or a file inside winmail.dat) as we keep it:
    a safe name, a sniffed type; a string (the reason) when it is over the size limit."""
    name = safe_filename(name)
    if limited and len(data) > settings.MAX_ATTACHMENT_BYTES:
        return over_limit(name, len(data))
    content_id = content_id.strip().strip("<>")[:200]
    return MailFile(
        filename=name,
        content_type=sniff(data, declared),
        data=data,
        content_id=content_id,
        inline=inline or bool(content_id),
    )
