"""What kind of mail this is, from its headers alone: pure functions, no database.

RFC 3834 asks responders never to answer automatic mail, bounces or lists; RFC 3464
defines delivery status notifications; RFC 8601 the Authentication-Results header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from caredesk.mail.parse import ParsedMail

# The subject prefixes responders put before the original subject ("Automatic reply: …").
# Only the prefix with its colon counts: a person may well write "Out of office not working".
AUTO_SUBJECT = re.compile(
    r"^\s*(auto(matic|matische)?[ -]?(reply|response|antwort)|out of (the )?office|"
    r"abwesenheit\w*|absence|r[ée]ponse automatique|respuesta autom[aá]tica|"
    r"risposta automatica|automatisch antwoord|autosvar|fuera de la oficina|自动回复|自動応答"
    r")\s*[:\uff1a]",
    re.I,
)
BOUNCE_SUBJECT = re.compile(
    r"(undeliver|delivery (status notification|failure|has failed)|mail delivery failed|"
    r"failure notice|returned mail|delivery failure|non[- ]?delivery|could not be delivered|"
    r"unzustellbar|returned mail|mail error|message not delivered|メールエラー|"
    r"error sending your mail|delivery status)",
    re.I,
)
DAEMON = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|mailerdaemon)@", re.I)
# Raw From text of mail systems, also where the address itself is broken ("MAILER-DAEMON <>").
SYSTEM_SENDER = re.compile(
    r"mailer-?daemon|postmaster|post_master|mail\.?delivery|delivery.?(system|subsystem)",
    re.I,
)
NO_REPLY = re.compile(r"^(no-?reply|do-?not-?reply|noreply)[-+.@]", re.I)
BODY_RECIPIENT = re.compile(r"<?([A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,63})>?")


@dataclass(frozen=True)
class Kind:
    auto_reply: bool
    bounce: bool
    # Why no acknowledgement may go to this sender ("" when one may).
    no_ack: str


def kind(mail: ParsedMail, *, envelope_from: str | None) -> Kind:
    bounce = is_bounce(mail, envelope_from=envelope_from)
    auto = not bounce and is_auto_reply(mail)
    return Kind(auto_reply=auto, bounce=bounce, no_ack=no_ack_reason(mail, envelope_from))


def null_sender(mail: ParsedMail, envelope_from: str | None) -> bool:
    """The SMTP MAIL FROM was <> (RFC 5321 4.5.5): a bounce or another automatic notice."""
    if envelope_from is not None:
        return envelope_from.strip() in ("", "<>")
    return mail.header("return-path").strip() == "<>"


def from_system(mail: ParsedMail) -> bool:
    raw_from = " ".join(mail.headers.get("from", []))
    return bool(DAEMON.match(mail.from_address) or SYSTEM_SENDER.search(raw_from))


def is_bounce(mail: ParsedMail, *, envelope_from: str | None) -> bool:
    if mail.bounce is not None or mail.report_type == "feedback-report":
        return True
    subject = bool(BOUNCE_SUBJECT.search(mail.subject))
    system = from_system(mail)
    nobody = not mail.from_address
    if subject and (null_sender(mail, envelope_from) or system or nobody or mail.has_original):
        return True
    return system and not mail.in_reply_to and not mail.references


def is_auto_reply(mail: ParsedMail) -> bool:
    auto_submitted = mail.header("auto-submitted").strip().lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        return True
    if any(mail.header(h) for h in ("x-autoreply", "x-autorespond", "x-auto-reply")):
        return True
    if mail.header("precedence").strip().lower() == "auto_reply":
        return True
    if mail.report_type == "disposition-notification":
        return True  # a read receipt (RFC 8098)
    return bool(AUTO_SUBJECT.match(mail.subject))


def no_ack_reason(mail: ParsedMail, envelope_from: str | None) -> str:
    """RFC 3834 section 2: who an automatic acknowledgement must never go to."""
    if null_sender(mail, envelope_from):
        return "null envelope sender"
    if not mail.from_address:
        return "no sender address"
    if from_system(mail):
        return "sent by a mail system"
    if NO_REPLY.match(mail.from_address):
        return "a no-reply address"
    if mail.report_type:
        return "an automatic report"
    auto_submitted = mail.header("auto-submitted").strip().lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        return "Auto-Submitted"
    if mail.header("precedence").strip().lower() in ("bulk", "junk", "list", "auto_reply"):
        return "Precedence: " + mail.header("precedence").strip().lower()
    if mail.header("x-auto-response-suppress"):
        return "X-Auto-Response-Suppress"
    if mail.header("list-id") or mail.header("list-unsubscribe") or mail.header("list-post"):
        return "mailing list"
    if any(mail.header(h) for h in ("x-autoreply", "x-autorespond", "x-auto-reply")):
        return "automatic reply"
    if AUTO_SUBJECT.match(mail.subject):
        return "automatic reply"
    return ""


def dmarc_result(mail: ParsedMail, trusted: list[str]) -> str:
    """The DMARC verdict of the topmost Authentication-Results from a trusted host, or ""."""
    if not trusted:
        return ""
    wanted = {t.lower() for t in trusted}
    for value in mail.headers.get("authentication-results", []):
        text = " ".join(str(value).split())
        authserv = text.split(";", 1)[0].strip().split(" ", 1)[0].lower()
        if authserv not in wanted:
            continue
        found = re.search(r"\bdmarc\s*=\s*([a-z]+)", text, re.I)
        return found.group(1).lower() if found else "none"
    return ""


def bounced_recipient(mail: ParsedMail) -> str:
    """For a bounce without a machine-readable report: the first foreign address in the text."""
    for match in BODY_RECIPIENT.finditer(mail.text):
        address = match.group(1).lower()
        if not DAEMON.match(address) and address != mail.from_address:
            return address
    return ""
