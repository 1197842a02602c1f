"""The desk's view of one email as it arrived: its headers, its formatted (sanitized) body,
why intake did what it did, and the original message to download."""

from __future__ import annotations

from email.parser import BytesHeaderParser
from email.policy import compat32

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from caredesk.mail.access import visible_inbound
from caredesk.mail.flags import describe as describe_flags
from caredesk.mail.inline import shown_html
from caredesk.mail.models import InboundEmail
from caredesk.mail.parse import ParsedMail, header_text, parse
from caredesk.portal.web import page, user_of

# Headers are shown as sent up to this many bytes; a message whose header block is larger
# is either broken or hostile, and the download still holds all of it.
HEADER_BYTES = 64 * 1024


def _email(request: HttpRequest, email_id: int) -> InboundEmail:
    found = visible_inbound(user_of(request)).select_related("ticket").filter(pk=email_id).first()
    if found is None:
        raise Http404("No such email.")
    return found


def _header_block(raw: bytes) -> str:
    """The raw header lines, unfolded only as far as a reader needs, decoded leniently."""
    end = raw.find(b"\r\n\r\n")
    end = raw.find(b"\n\n") if end < 0 else end
    head = raw[: end if end >= 0 else HEADER_BYTES][:HEADER_BYTES]
    return head.decode("utf-8", "replace").replace("\r\n", "\n")


def _recipients(raw: bytes) -> dict[str, str]:
    headers = BytesHeaderParser(policy=compat32).parsebytes(raw[:HEADER_BYTES])
    return {
        name: ", ".join(header_text(v) for v in headers.get_all(name) or [])
        for name in ("To", "Cc", "Reply-To")
    }


def _read(raw: bytes) -> ParsedMail | None:
    """The message as intake read it; None for one it could not parse."""
    try:
        return parse(raw)
    except Exception:  # quarantined as unparseable: the headers and the download remain
        return None


@page(who="agent")
def original(request: HttpRequest, email_id: int) -> HttpResponse:
    email = _email(request, email_id)
    raw = bytes(email.raw)
    mail = _read(raw)
    context = {
        "email": email,
        "addressed": {k: v for k, v in _recipients(raw).items() if v},
        "headers": _header_block(raw),
        "flags": describe_flags(email.flags or {}),
        "text": mail.text if mail else "",
        # The email came through visible_inbound: its own attachments are the agent's to see.
        "html": shown_html(email, mail.files if mail else []),
    }
    return render(request, "mail/desk_original.html", context)


@page(who="agent")
def download(request: HttpRequest, email_id: int) -> HttpResponse:
    """The bytes exactly as they arrived, as a file: never shown inline by the browser."""
    email = _email(request, email_id)
    response = HttpResponse(bytes(email.raw), content_type="message/rfc822")
    response["Content-Disposition"] = f'attachment; filename="email-{email.pk}.eml"'
    return response
