"""Mail we send to customers: agents' replies and acknowledgements, through an outbox.

The rule of which replies go out by email lives in `queue_reply`; tickets.services.reply
calls it inside its transaction, so a reply whose headers would be unsafe is refused as a
whole and a committed reply always has its OutboundMail row. The worker sends the row
after the commit (`send`), and retries with exponential backoff until the SMTP server
takes it: a failure is recorded on the ticket, never dropped.
"""

from __future__ import annotations

import logging
import re
import smtplib
import threading
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string

from caredesk.core.clock import now
from caredesk.core.errors import DomainError
from caredesk.core.prepared import insert
from caredesk.mail import ids
from caredesk.mail.ccs import ticket_ccs
from caredesk.mail.headers import address, header_value, mailbox
from caredesk.mail.models import InboundEmail, OutboundMail
from caredesk.people.models import User
from caredesk.servicemodel.cache import snapshot
from caredesk.servicemodel.choices import Channel, Role
from caredesk.tickets.events import record
from caredesk.tickets.models import Attachment, Event, Message, Ticket

log = logging.getLogger(__name__)

# A send that dies half-way (worker killed) is tried again once its claim runs out.
CLAIM = timedelta(minutes=10)
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)
SMTP_TIMEOUT = 30
WAKE_DELAY = 1.0
REFERENCES_KEPT = 10
FIRST_CONTACT = "escalation.first_contact"
_MIME_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")
_MESSAGE_ID = re.compile(r"^<?([^<>\s\x00-\x1f\x7f@]{1,200}@[^<>\s\x00-\x1f\x7f@]{1,200})>?$")


def backoff(attempts: int) -> timedelta:
    """30 s after the first failure, doubling, at most an hour apart."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)


def _msgid(value: str) -> str | None:
    """A customer's Message-ID in angle brackets, or None when it is not one we may echo."""
    match = _MESSAGE_ID.match(value.strip())
    return f"<{match.group(1)}>" if match else None


def _render(name: str, context: dict[str, Any]) -> tuple[str, str, str]:
    subject = render_to_string(f"mail/emails/{name}-subject.txt", context).strip()
    text = render_to_string(f"mail/emails/{name}-body.txt", context)
    html = render_to_string(f"mail/emails/{name}-body.html", context)
    return header_value(subject, "subject"), text, html


def _sender(ticket: Ticket) -> str:
    team = ticket.team
    return mailbox(team.name, team.email or settings.DEFAULT_FROM_EMAIL, "team")


def _recipient(email: str, name: str = "") -> str:
    return mailbox(name, address(email, "to"), "to") if name else address(email, "to")


def _thread(ticket: Ticket) -> tuple[str, str]:
    """In-Reply-To (the customer's last message) and References of a reply on `ticket`."""
    tickets = [ticket.pk] + ([ticket.origin_id] if ticket.origin_id else [])
    known: list[tuple[Any, str]] = []
    # The customer's own messages: an auto-reply or a bounce is nothing to answer to.
    inbound = InboundEmail.objects.filter(
        ticket_id__in=tickets, status=InboundEmail.Status.STORED, kind=InboundEmail.Kind.MESSAGE
    ).exclude(message_id="")
    for at, value in inbound.values_list("received_at", "message_id"):
        if msgid := _msgid(value):
            known.append((at, msgid))
    parent = max(known)[1] if known else ""
    ours = OutboundMail.objects.filter(ticket_id__in=tickets)
    known += list(ours.values_list("created_at", "message_id"))
    references = [m for _, m in sorted(known)][-REFERENCES_KEPT:]
    if parent and parent not in references:
        references = [*references[1:], parent]
    return parent, " ".join(dict.fromkeys(references))


def _queue(
    ticket: Ticket,
    *,
    kind: str,
    name: str,
    context: dict[str, Any],
    to: str,
    in_reply_to: str,
    references: str,
    message: Message | None = None,
    author: User | None = None,
    cc: list[str] | None = None,
) -> OutboundMail:
    at = now()
    if not Ticket.team.is_cached(ticket):
        # The sender and the templates name the team: from the per-process model cache
        # rather than a query per mail (an acknowledgement for every new case).
        ticket.team = snapshot().teams.get(ticket.team_id) or ticket.team
    context = {
        **context,
        "ticket": ticket,
        "url": f"{settings.BASE_URL}/requests/{ticket.number}/",
    }
    subject, text, html = _render(name, context)
    mail = OutboundMail(
        ticket=ticket,
        reply=message,
        kind=kind,
        author=author,
        from_header=_sender(ticket),
        recipients=[to],
        cc=cc or [],
        subject=subject,
        text=text,
        html=html,
        message_id=ids.make_message_id(ticket),
        in_reply_to=in_reply_to,
        references=references,
        auto_submitted=kind == OutboundMail.Kind.ACKNOWLEDGEMENT,
        next_attempt_at=at,
        created_at=at,
    )
    insert(mail)
    transaction.on_commit(wake_sender)
    return mail


_woken_at = 0.0
_wake_lock = threading.Lock()


def wake_sender() -> None:
    """After a commit that queued mail: have the worker send what is due, in about a second.

    One wake-up per second and process, however many mails were queued meanwhile: intake
    queues an acknowledgement per new case, and a task per mail would cost a synced write
    to the task queue each. A mail queued after a wake-up was scheduled is sent by it (it
    runs later); one whose wake-up is lost is sent by the minutely `retry_outbound`.
    """
    global _woken_at
    from huey.contrib.djhuey import HUEY

    from caredesk.mail.tasks import send_due

    if HUEY.immediate:  # tests: tasks run inline, and a delayed one would never run
        send_due()
        return
    with _wake_lock:
        at = time.monotonic()
        if at - _woken_at < WAKE_DELAY:
            return
        _woken_at = at
    send_due.schedule(delay=WAKE_DELAY)


def queue_acknowledgement(ticket: Ticket, *, to: str, inbound: InboundEmail) -> OutboundMail:
    """The "your ticket is CASE-123" reference mail. It is automatic: it stops no clock
    and is marked Auto-Submitted (RFC 3834) so other robots do not answer it."""
    parent = _msgid(inbound.message_id or "") or ""
    return _queue(
        ticket,
        kind=OutboundMail.Kind.ACKNOWLEDGEMENT,
        name="acknowledgement",
        context={"inbound": inbound},
        to=_recipient(to),
        in_reply_to=parent,
        references=parent,
    )


def queue_reply(message: Message) -> OutboundMail | None:
    """Email an agent's public reply to the requester, copied to the people the customer
    copied; None when it does not go by email.

    Called by tickets.services.reply inside its transaction: an unsafe header refuses the
    reply itself (InvalidInput) rather than a mail that would never be sent.
    """
    ticket, author = message.ticket, message.author
    if message.kind != Message.Kind.REPLY or author is None or not author.is_agent:
        return None
    if message.channel == Channel.PHONE:
        return None  # said on the phone: recorded, not mailed
    requester = ticket.requester
    if requester is None or not requester.email:
        return None
    in_reply_to, references = _thread(ticket)
    return _queue(
        ticket,
        kind=OutboundMail.Kind.REPLY,
        name="reply",
        context={"message": message, "author": author},
        to=_recipient(requester.email, requester.name),
        in_reply_to=in_reply_to,
        references=references,
        message=message,
        author=author,
        cc=ticket_ccs(ticket),
    )


# --- sending (the worker) ------------------------------------------------------------------


def build(mail: OutboundMail) -> EmailMultiAlternatives:
    headers = {"From": mail.from_header, "Message-ID": mail.message_id}
    if mail.in_reply_to:
        headers["In-Reply-To"] = mail.in_reply_to
    if mail.references:
        headers["References"] = mail.references
    if mail.auto_submitted:
        headers["Auto-Submitted"] = "auto-replied"
        # Asks Exchange and Outlook not to answer with their own out-of-office replies.
        headers["X-Auto-Response-Suppress"] = "All"
    message = EmailMultiAlternatives(
        subject=mail.subject,
        body=mail.text,
        # The envelope sender is the signed VERP address: the Return-Path a bounce goes to.
        from_email=ids.bounce_address(mail),
        to=mail.recipients,
        cc=mail.cc,
        headers=headers,
    )
    if mail.html:
        message.attach_alternative(mail.html, "text/html")
    if mail.reply_id:
        # The files the agent attached to the reply travel with it.
        for attachment in Attachment.objects.filter(message_id=mail.reply_id).order_by("id"):
            with attachment.file.open("rb") as handle:
                content = handle.read()
            kind = attachment.content_type if _MIME_TYPE.match(attachment.content_type) else ""
            message.attach(
                header_value(attachment.filename, "attachment"),
                content,
                kind or "application/octet-stream",
            )
    return message


def _permanent(exc: Exception) -> bool:
    """A 5xx answer no retry will change (RFC 5321 4.2.1), or a mail we refuse to build."""
    if isinstance(exc, DomainError):
        return True
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500
    return False


def _describe(exc: Exception) -> str:
    """What the mail server said ("451 4.3.0 mailbox busy"), or what went wrong."""
    if isinstance(exc, smtplib.SMTPResponseException):
        text = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else exc.smtp_error
        )
        return f"{exc.smtp_code} {text}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{rcpt}: {code} {msg.decode(errors='replace')}"
            for rcpt, (code, msg) in exc.recipients.items()
        )
    return f"{type(exc).__name__}: {exc}"


def due(limit: int = 100) -> list[int]:
    """Outbound mail whose (next) attempt is due: new, failed, or claimed by a dead worker."""
    return list(
        OutboundMail.objects.filter(
            state__in=[OutboundMail.State.QUEUED, OutboundMail.State.FAILED],
            next_attempt_at__lte=now(),
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


def send(pk: int) -> OutboundMail | None:
    """One attempt to send an outbound mail; None when it is not due (sent, or claimed)."""
    at = now()
    # The conditional UPDATE is the claim: two workers never send the same mail at once.
    claimed = OutboundMail.objects.filter(
        Q(pk=pk),
        Q(state__in=[OutboundMail.State.QUEUED, OutboundMail.State.FAILED]),
        Q(next_attempt_at__lte=at),
    ).update(attempts=F("attempts") + 1, next_attempt_at=at + CLAIM)
    if not claimed:
        return None
    mail = OutboundMail.objects.select_related("ticket", "author").get(pk=pk)
    try:
        message = build(mail)
        message.connection = get_connection(timeout=SMTP_TIMEOUT)
        message.send()
    except Exception as exc:
        _failed(mail, exc)
    else:
        _sent(mail)
    return mail


@transaction.atomic
def _sent(mail: OutboundMail) -> None:
    at = now()
    retried = mail.state == OutboundMail.State.FAILED
    mail.state, mail.sent_at, mail.next_attempt_at = OutboundMail.State.SENT, at, None
    mail.save(update_fields=["state", "sent_at", "next_attempt_at"])
    ticket = Ticket.objects.select_for_update().get(pk=mail.ticket_id)
    record(
        ticket,
        "mail.sent",
        actor=None,
        at=at,
        outbound=mail.pk,
        kind=mail.kind,
        to=mail.recipients,
        **({"cc": mail.cc} if mail.cc else {}),
        attempts=mail.attempts,
        **({"after_failures": True} if retried else {}),
    )
    if _first_contact(ticket, mail):
        record(ticket, FIRST_CONTACT, actor=mail.author, at=at, outbound=mail.pk)


def _first_contact(ticket: Ticket, mail: OutboundMail) -> bool:
    """The first email from the engineer or coordinator of an escalated ticket."""
    author = mail.author
    if mail.kind != OutboundMail.Kind.REPLY or author is None or not ticket.origin_id:
        return False
    if author.pk != ticket.assignee_id and author.role not in (Role.ENGINEER, Role.COORDINATOR):
        return False
    return not Event.objects.filter(ticket=ticket, kind=FIRST_CONTACT).exists()


@transaction.atomic
def _failed(mail: OutboundMail, exc: Exception) -> None:
    at = now()
    error = _describe(exc)[:500]
    permanent = _permanent(exc)
    first = mail.state == OutboundMail.State.QUEUED
    mail.state = OutboundMail.State.REJECTED if permanent else OutboundMail.State.FAILED
    mail.last_error = error
    mail.next_attempt_at = None if permanent else at + backoff(mail.attempts)
    mail.save(update_fields=["state", "last_error", "next_attempt_at"])
    log.warning("outbound mail %s attempt %s failed: %s", mail.pk, mail.attempts, error)
    if first or permanent:
        record(
            mail.ticket,
            "mail.rejected" if permanent else "mail.failed",
            actor=None,
            at=at,
            outbound=mail.pk,
            kind=mail.kind,
            to=mail.recipients,
            error=error,
        )


def failed_on(ticket: Ticket) -> int:
    """How many of the ticket's mails are not delivered because of an error (the desk badge)."""
    return OutboundMail.objects.filter(
        ticket=ticket, state__in=[OutboundMail.State.FAILED, OutboundMail.State.REJECTED]
    ).count()


@transaction.atomic
def retry(mail: OutboundMail) -> OutboundMail:
    """Send a failed or rejected mail again now (an agent's or admin's request)."""
    if mail.state == OutboundMail.State.SENT:
        return mail
    OutboundMail.objects.filter(pk=mail.pk).update(
        state=OutboundMail.State.FAILED, next_attempt_at=now()
    )
    transaction.on_commit(wake_sender)
    mail.refresh_from_db()
    return mail
