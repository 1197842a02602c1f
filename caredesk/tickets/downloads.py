"""Attachments served safely: always a download, never rendered by the browser.

Whoever wrote to us chose the bytes, the name and the declared type, so none of them is
trusted: the name is cleaned again, a type that a browser could run (HTML, SVG, XML,
scripts) is served as octet-stream, and the response forbids sniffing and carries a
sandboxing Content-Security-Policy in case a browser opens it anyway.
"""

from __future__ import annotations

import re

from django.http import FileResponse, Http404
from django.utils.http import content_disposition_header

from caredesk.tickets.models import Attachment
from caredesk.tickets.services import safe_filename

# Passive types a browser shows without running anything; every other type is served as
# application/octet-stream.
PASSIVE_TYPES = frozenset(
    {
        "application/pdf",
        "application/zip",
        "application/gzip",
        "application/json",
        "text/plain",
        "text/csv",
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "audio/mpeg",
        "audio/wav",
        "audio/x-wav",
        "video/mp4",
        "message/rfc822",
    }
)
_TYPE = re.compile(r"^[a-z0-9.+-]+/[a-z0-9.+-]+$")


def served_type(declared: str) -> str:
    """The Content-Type we send for a declared one: passive types as they are, text with
    charset, anything else (or anything malformed) as a plain download."""
    kind = (declared or "").split(";", 1)[0].strip().lower()
    if not _TYPE.match(kind) or kind not in PASSIVE_TYPES:
        return "application/octet-stream"
    return f"{kind}; charset=utf-8" if kind.startswith("text/") else kind


def attachment_response(attachment: Attachment) -> FileResponse:
    """The attachment as a download with safe headers (404 when its file is gone)."""
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404("The attachment's file is missing.") from None
    response = FileResponse(handle, content_type=served_type(attachment.content_type))
    name = safe_filename(attachment.filename)
    response["Content-Disposition"] = content_disposition_header(True, name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
