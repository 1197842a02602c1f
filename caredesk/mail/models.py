"""Stored inbound and outbound mail."""

from __future__ import annotations

from django.conf import settings
from django.db import models

# --- inbound (intake) -------------------------------------------------------------------


class InboundEmail(models.Model):
    """Every message handed to intake, with its raw bytes, kept for good.

    The raw bytes live in this row rather than in STORAGES: they are written in the same
    transaction as the dedup key and the ticket they open, so a transport answers "250"
    only when the bytes and what came of them are committed together (a file written
    beside the transaction could be lost or orphaned by a crash), and `caredesk backup`
    carries them with the database.
    """

    class Status(models.TextChoices):
        STORED = "stored", "Stored on a ticket"
        QUARANTINED = "quarantined", "Quarantined"
        IGNORED = "ignored", "Kept in the intake log only"

    class Kind(models.TextChoices):
        MESSAGE = "message", "Message"
        AUTO_REPLY = "auto_reply", "Automatic reply"
        BOUNCE = "bounce", "Delivery status notification"
        UNKNOWN = "unknown", "Not parsed"

    class Source(models.TextChoices):
        SMTP = "smtp", "SMTP/LMTP listener"
        IMAP = "imap", "IMAP poller"
        API = "api", "HTTP API"
        ADMIN = "admin", "Admin"

    raw = models.BinaryField()
    size = models.PositiveBigIntegerField()
    # SHA-256 of the raw bytes; with the Message-ID it is the dedup key (DESIGN.md).
    digest = models.CharField(max_length=64)
    message_id = models.CharField(max_length=500, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices)
    envelope_from = models.CharField(max_length=500, blank=True)
    envelope_to = models.JSONField(default=list, blank=True)
    received_at = models.DateTimeField(db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    status = models.CharField(max_length=12, choices=Status.choices)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.UNKNOWN)
    reason = models.TextField(blank=True)
    # Why this message got the treatment it got, e.g. {"dmarc": "fail", "auto_reply": true}.
    flags = models.JSONField(default=dict, blank=True)

    # Indexed first in "inbound_ack": every index costs each message's insert and update.
    from_address = models.CharField(max_length=320, blank=True)
    from_name = models.CharField(max_length=200, blank=True)
    # Lower-cased To and Cc addresses as ",a@x,b@y,": a CC of a ticket's message belongs
    # to that ticket, found with one LIKE on every database (SQLite has no JSON contains).
    recipients = models.TextField(blank=True)
    # Their display names as the mail gave them, {address: name}: copied by name on replies.
    recipient_names = models.JSONField(default=dict, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    ticket = models.ForeignKey(
        "tickets.Ticket",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inbound_emails",
    )
    ticket_message = models.ForeignKey(
        "tickets.Message",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inbound_emails",
    )
    contact = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inbound_emails",
    )
    # The sanitized HTML body, for display; the full text is on the ticket message.
    html = models.TextField(blank=True)
    acknowledged = models.BooleanField(default=False)

    # Bounces (RFC 3464): whom the failed delivery was for, and which outbound message.
    bounce_recipient = models.CharField(max_length=320, blank=True, db_index=True)
    bounce_action = models.CharField(max_length=20, blank=True)
    bounce_status = models.CharField(max_length=20, blank=True)
    bounce_diagnostic = models.TextField(blank=True)
    outbound_id = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["message_id", "digest"], name="inbound_once")
        ]
        # Look-ups by Message-ID use "inbound_once", whose first column it is.
        indexes = [
            models.Index(fields=["status", "id"], name="inbound_status_id"),
            models.Index(
                fields=["from_address", "acknowledged", "received_at"], name="inbound_ack"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.message_id or self.digest[:12]} ({self.status})"


# --- outbound ---------------------------------------------------------------------------


class OutboundMail(models.Model):
    """One mail we send, rendered when queued; the row is the outbox and its audit.

    Queued in the same transaction as the change that causes it (an agent's reply, an
    acknowledgement), sent by the worker after the commit, retried with backoff until the
    SMTP server takes it; a failure stays visible on the ticket, nothing is dropped.
    """

    class Kind(models.TextChoices):
        REPLY = "reply", "Agent reply"
        ACKNOWLEDGEMENT = "acknowledgement", "Acknowledgement"

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed (retrying)"
        REJECTED = "rejected", "Rejected by the mail server"

    ticket = models.ForeignKey(
        "tickets.Ticket",
        on_delete=models.CASCADE,
        related_name="outbound_emails",
        db_index=False,  # "outbound_ticket_id" starts with it
    )
    # The agent's reply this mail carries ("message_id" is the Message-ID header).
    reply = models.ForeignKey(
        "tickets.Message",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="outbound_emails",
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    from_header = models.CharField(max_length=500)
    recipients = models.JSONField(default=list)
    # Copied addresses: on a reply, the people the customer copied (caredesk.mail.ccs).
    cc = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=900)
    text = models.TextField()
    html = models.TextField(blank=True)
    message_id = models.CharField(max_length=200, unique=True)
    in_reply_to = models.CharField(max_length=500, blank=True)
    references = models.TextField(blank=True)
    auto_submitted = models.BooleanField(default=False)

    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    # When the worker may (next) try: claimed by a conditional UPDATE that moves it on.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="outbound_due"),
            models.Index(fields=["ticket", "id"], name="outbound_ticket_id"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.message_id} ({self.state})"


class CcChange(models.Model):
    """An agent's word on who is copied on a ticket's email replies: an address added by
    hand, or one taken off (it stays off even if the customer copies it again, until an
    agent adds it back). The latest change of an address wins (caredesk.mail.ccs)."""

    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="cc_changes", db_index=False
    )
    address = models.CharField(max_length=254)
    copied = models.BooleanField()  # True: added; False: taken off
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["ticket", "id"], name="cc_change_ticket_id")]

    def __str__(self) -> str:
        return f"{'+' if self.copied else '-'}{self.address} on {self.ticket_id}"
