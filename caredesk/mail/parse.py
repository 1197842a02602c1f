"""Parsing an inbound message into what intake needs: pure, no database.

The standard library's `email` with `policy.default` splits the MIME tree; header values
are read raw and decoded, unfolded and validated here rather than trusted to the
interpreter's own header classes (their behaviour on hostile input has changed between
releases). Anything this module cannot make sense of raises ParseError with a reason,
which intake turns into a quarantine.
"""

from __future__ import annotations

import email.utils
import functools
import hashlib
import html as htmllib
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.policy import EmailPolicy

import nh3
from django.conf import settings

from caredesk.mail import charsets, tnef
from caredesk.mail.files import MailFile, extract_file, filename_of, over_limit

MAX_DEPTH = 20
MAX_PARTS = 500
MAX_SUBJECT = 300
# Direction overrides, zero-width characters and the Unicode line separators.
BIDI_AND_ZERO_WIDTH = re.compile("[\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")
# An address we accept: no quotes, spaces, brackets or controls; a dotted domain.
ADDRESS = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@"
    r"(?=.{1,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
# A Message-ID's content: printable ASCII only (NUL or controls would not fit every database).
MSGID = re.compile(r"<([\x21-\x3b\x3d\x3f-\x7e]{1,490})>")


# Header objects parsed for values up to this length are kept for other messages.
CACHED_HEADER_CHARS = 300


class _Policy(EmailPolicy):
    """`policy.default`, with the header objects it makes kept for the values it sees again.

    The MIME walk asks for Content-Type, -Disposition and -Transfer-Encoding many times per
    part, and the standard library parses the value anew each time (most of the parsing
    time); the same short values recur in most messages. Header objects are immutable, so
    a cached one is the one a fresh parse would give.
    """

    def header_fetch_parse(self, name: str, value: str) -> str:
        if hasattr(value, "name") or len(value) > CACHED_HEADER_CHARS:
            return super().header_fetch_parse(name, value)  # type: ignore[no-any-return]
        return _fetched(name, value)


POLICY = _Policy()


@functools.lru_cache(maxsize=512)
def _fetched(name: str, value: str) -> str:
    return EmailPolicy.header_fetch_parse(POLICY, name, value)  # type: ignore[no-any-return]


class ParseError(Exception):
    """The message cannot be taken in as it is; the text says why."""


@dataclass
class Bounce:
    recipient: str = ""
    action: str = ""
    status: str = ""
    diagnostic: str = ""


@dataclass
class ParsedMail:
    message_id: str = ""
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    from_address: str = ""
    from_name: str = ""
    reply_to: str = ""
    recipients: list[str] = field(default_factory=list)
    recipient_names: dict[str, str] = field(default_factory=dict)  # those that have one
    subject: str = ""
    sent_at: datetime | None = None
    text: str = ""
    html: str = ""
    files: list[MailFile] = field(default_factory=list)
    skipped_files: list[str] = field(default_factory=list)
    headers: dict[str, list[str]] = field(default_factory=dict)
    bounce: Bounce | None = None
    # "delivery-status", "feedback-report", "disposition-notification" (RFC 6522 reports).
    report_type: str = ""
    # The message carries another message or its headers (as bounces and forwards do).
    has_original: bool = False
    # What intake should say about how it read the message (e.g. a winmail.dat it unpacked).
    notes: list[str] = field(default_factory=list)
    # The body inside a winmail.dat: the body only of a message that has no other.
    tnef_text: str = ""
    tnef_html: str = ""

    def header(self, name: str) -> str:
        values = self.headers.get(name.lower())
        return values[0] if values else ""


def digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def header_text(value: object) -> str:
    """A raw header value as one line of text: 8-bit bytes decoded, RFC 2047 words decoded."""
    text = str(value)
    if any("\udc80" <= ch <= "\udcff" for ch in text):
        text = charsets.decode_bytes(text.encode("utf-8", "surrogateescape"))
    text = text.replace("\r", "").replace("\n", "")
    return charsets.decode_header_value(text)


def raw_headers(msg: Message) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, value in msg.raw_items():
        found.setdefault(str(name).strip().lower(), []).append(str(value))
    return found


def quick_message_id(raw: bytes) -> str:
    """The Message-ID from the header block alone, for the dedup key; '' when none."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    match = re.search(rb"^message-id:[ \t]*(.*(?:\r?\n[ \t].*)*)", head, re.I | re.M)
    if not match:
        return ""
    ids = MSGID.findall(match.group(1).decode("ascii", "replace"))
    return ids[0] if ids else ""


LOOSE_ADDRESS = re.compile(r"[^\s<>\"',;:()\[\]]+@[^\s<>\"',;:()\[\]]+")


def clean_address(value: str) -> str:
    """A lower-cased address we accept, or "": ASCII local part, IDN domains as punycode."""
    address = value.strip().strip("<>").strip().lower()
    local, _, domain = address.rpartition("@")
    if domain and not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            return ""
        address = f"{local}@{domain}"
    return address if len(address) <= 254 and ADDRESS.match(address) else ""


def addresses(values: list[str]) -> list[tuple[str, str]]:
    """(name, address) pairs with valid addresses only; names decoded and stripped."""
    pairs = []
    for value in values:
        unfolded = str(value).replace("\r", "").replace("\n", "")
        for name, addr in email.utils.getaddresses([unfolded]):
            address = clean_address(addr)
            if address:
                pairs.append((clean_line(header_text(name), 200), address))
        if not pairs:
            # Malformed (e.g. "Big Bug bb@example.com"): the first address-like word.
            found = LOOSE_ADDRESS.search(header_text(unfolded))
            address = clean_address(found.group(0)) if found else ""
            if address:
                pairs.append(("", address))
    return pairs


def clean_line(text: str, limit: int) -> str:
    text = BIDI_AND_ZERO_WIDTH.sub("", charsets.CONTROL.sub("", text))
    return re.sub(r"\s+", " ", text).strip()[:limit]


def message_ids(values: list[str]) -> list[str]:
    ids: list[str] = []
    for value in values:
        ids.extend(MSGID.findall(str(value)))
    return ids


def sent_at(value: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(header_text(value))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return parsed if parsed.tzinfo is not None else None


def parse(raw: bytes) -> ParsedMail:
    try:
        msg = BytesParser(policy=POLICY).parsebytes(raw)
    except RecursionError:
        raise ParseError("The message is nested too deeply to parse.") from None
    if not isinstance(msg, EmailMessage) or not msg.keys():
        raise ParseError("The data has no mail headers.")
    headers = raw_headers(msg)
    out = ParsedMail(headers=headers)
    ids = message_ids(headers.get("message-id", []))
    out.message_id = ids[0] if ids else ""
    out.in_reply_to = message_ids(headers.get("in-reply-to", []))
    out.references = message_ids(headers.get("references", []))
    senders = addresses(headers.get("from", []))
    if not senders:
        senders = addresses(headers.get("sender", []))
    if senders:
        out.from_name, out.from_address = senders[0]
    reply_to = addresses(headers.get("reply-to", []))
    out.reply_to = reply_to[0][1] if reply_to else ""
    copied = addresses(headers.get("to", []) + headers.get("cc", []))
    out.recipients = [a for _, a in copied]
    out.recipient_names = {a: n for n, a in reversed(copied) if n}  # the first name given
    out.subject = clean_line(header_text(out.header("subject")), MAX_SUBJECT)
    out.sent_at = sent_at(out.header("date"))
    _walk(msg, out, depth=0, count=[0])
    if not out.text.strip() and not out.html and (out.tnef_text or out.tnef_html):
        out.html = sanitize_html(out.tnef_html) if out.tnef_html else ""
        out.text = out.tnef_text.strip() or html_to_text(out.html)
    return out


def _walk(part: Message, out: ParsedMail, *, depth: int, count: list[int]) -> None:
    if depth > MAX_DEPTH:
        raise ParseError(f"The message is nested more than {MAX_DEPTH} levels deep.")
    count[0] += 1
    if count[0] > MAX_PARTS:
        raise ParseError(f"The message has more than {MAX_PARTS} parts.")
    ctype = part.get_content_type()
    if ctype == "message/delivery-status":
        out.bounce = out.bounce or Bounce()
        _delivery_status(part, out.bounce)
        return
    if ctype in ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers"):
        out.has_original = True
    if ctype == "message/rfc822":
        # A forwarded or returned message stays whole, as an .eml attachment.
        _file(part, out)
        return
    if part.is_multipart():
        if ctype == "multipart/report":
            out.report_type = out.report_type or _report_type(part)
            if out.report_type == "delivery-status":
                out.bounce = out.bounce or Bounce()
        payload = part.get_payload()
        if not isinstance(payload, list):
            raise ParseError(f"A {ctype} part has no readable parts.")
        children = [child for child in payload if isinstance(child, Message)]
        if ctype == "multipart/alternative":
            children = _preferred(children)
        for child in children:
            _walk(child, out, depth=depth + 1, count=count)
        return
    disposition = (part.get_content_disposition() or "").lower()
    is_body = disposition != "attachment" and not filename_of(part)
    if is_body and ctype == "text/plain" and not out.text:
        out.text = body_text(part)
        return
    if is_body and ctype == "text/html" and not out.html:
        out.html = sanitize_html(body_text(part))
        if not out.text:
            out.text = html_to_text(out.html)
        return
    if is_body and ctype in ("text/plain", "text/html") and depth > 0:
        # A second body (e.g. a client that splits text around an inline image): keep it.
        more = body_text(part)
        out.text += "\n\n" + (html_to_text(sanitize_html(more)) if ctype == "text/html" else more)
        return
    _file(part, out)


def _file(part: Message, out: ParsedMail) -> None:
    found = extract_file(part)
    if isinstance(found, str):
        out.skipped_files.append(found)
    elif found is not None and (
        found.content_type == "application/ms-tnef" or tnef.is_tnef(found.data)
    ):
        _winmail(found, out)
    elif found is not None:
        out.files.append(found)


def _winmail(found: MailFile, out: ParsedMail) -> None:
    """Outlook's winmail.dat gives way to the files inside it (the raw message keeps it);
    one we cannot read stays attached as it came."""
    try:
        inside = tnef.unpack(found.data)
    except tnef.Corrupt as exc:
        if len(found.data) > settings.MAX_ATTACHMENT_BYTES:
            out.skipped_files.append(over_limit(found.filename, len(found.data)))
            kept = "left in the raw message"
        else:
            out.files.append(found)
            kept = "attached as it came"
        out.notes.append(f"{found.filename} could not be unpacked ({exc}); {kept}.")
        return
    out.files.extend(inside.files)
    out.skipped_files.extend(inside.skipped)
    out.tnef_text = out.tnef_text or inside.text
    out.tnef_html = out.tnef_html or inside.html
    names = ", ".join(f.filename for f in inside.files) or "no files, only text"
    out.notes.append(f"Unpacked {found.filename} (Outlook TNEF): {names}.")


def _report_type(part: Message) -> str:
    return str(part.get_param("report-type", "") or "").lower()


def _preferred(children: list[Message]) -> list[Message]:
    """Of alternatives, the plain text and the HTML one (both kept: text for the ticket)."""
    wanted = [c for c in children if c.get_content_type() in ("text/plain", "text/html")]
    others = [c for c in children if c.is_multipart()]
    return wanted + others if wanted or others else children[-1:]


def _delivery_status(part: Message, bounce: Bounce) -> None:
    payload = part.get_payload()
    blocks = payload if isinstance(payload, list) else []
    for block in blocks[1:] or blocks:
        if not isinstance(block, Message):
            continue
        recipient = str(block.get("Final-Recipient") or block.get("Original-Recipient") or "")
        address = clean_address(recipient.rpartition(";")[2])
        if address and not bounce.recipient:
            bounce.recipient = address
            bounce.action = clean_line(str(block.get("Action") or ""), 20).lower()
            bounce.status = clean_line(str(block.get("Status") or ""), 20)
            bounce.diagnostic = clean_line(header_text(block.get("Diagnostic-Code") or ""), 1000)


def body_text(part: Message) -> str:
    try:
        data = part.get_payload(decode=True)
    except Exception:  # a broken transfer encoding: fall back to the raw text
        data = None
    if not isinstance(data, bytes):
        payload = part.get_payload()
        data = payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else b""
    try:
        label = part.get_content_charset()
    except Exception:  # an unreadable charset parameter means "unknown"
        label = None
    return charsets.decode_bytes(data, label).replace("\r\n", "\n").replace("\r", "\n")


def sanitize_html(markup: str) -> str:
    """HTML anyone may look at: nh3's allow-list, no scripts, styles or event handlers."""
    return nh3.clean(markup, url_schemes={"http", "https", "mailto", "cid"})


BLOCK_END = re.compile(r"<br\s*/?>|</(p|div|li|tr|h[1-6]|blockquote|table)>", re.I)


def html_to_text(markup: str) -> str:
    text = BLOCK_END.sub("\n", markup)
    text = htmllib.unescape(nh3.clean(text, tags=set()))
    text = re.sub(r"[ \t\xa0]+", " ", text)
    return re.sub(r"\n\s*\n\s*\n+", "\n\n", text).strip()
