"""Tickets, their messages and attachments, the append-only event log, work orders."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from caredesk.people.models import Organization
from caredesk.servicemodel.choices import Channel, Priority
from caredesk.servicemodel.models import Category, Team, TicketType
from caredesk.status.models import Environment
from caredesk.tickets.states import Status


class Ticket(models.Model):
    number = models.CharField(max_length=32, unique=True)
    # The keys below that lead a composite index (Meta) need no index of their own: one
    # index fewer to write on every new ticket, message and event.
    type = models.ForeignKey(
        TicketType, on_delete=models.PROTECT, related_name="tickets", db_index=False
    )
    subject = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.NEW)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.MEDIUM)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="tickets", db_index=False)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_tickets",
        db_index=False,
    )
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        db_index=False,
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="requested_tickets",
        db_index=False,
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    environment = models.ForeignKey(
        Environment, on_delete=models.PROTECT, null=True, blank=True, related_name="tickets"
    )
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, null=True, blank=True, related_name="tickets"
    )
    # The case an escalated ticket came from; the case lists its escalations by this.
    origin = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="escalations"
    )
    escalation_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # The earliest due time of the ticket's running SLA clocks (none while every clock is
    # stopped or paused), kept by sla.services so queues sort by urgency through an index.
    sla_due_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-id"]
        indexes = [
            # Keyset pagination walks id; each common filter has its own (filter, id) index.
            models.Index(fields=["organization", "id"], name="ticket_org_id"),
            models.Index(fields=["status", "id"], name="ticket_status_id"),
            models.Index(fields=["team", "id"], name="ticket_team_id"),
            models.Index(fields=["assignee", "id"], name="ticket_assignee_id"),
            models.Index(fields=["requester", "id"], name="ticket_requester_id"),
            models.Index(fields=["type", "id"], name="ticket_type_id"),
            models.Index(fields=["priority", "id"], name="ticket_priority_id"),
            # Desk queues: the most urgent due time first, then the newest.
            models.Index(fields=["sla_due_at", "-id"], name="ticket_sla_due"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    @property
    def is_case(self) -> bool:
        return self.type_id == "customer-care"


class Message(models.Model):
    class Kind(models.TextChoices):
        REPLY = "reply", "Reply"  # public: the customer sees it
        NOTE = "note", "Internal note"  # agents only

    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    body = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="message_ticket_time")]

    def __str__(self) -> str:
        return f"{self.kind} on {self.ticket_id}"

    @property
    def is_public(self) -> bool:
        return self.kind == self.Kind.REPLY


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="%Y/%m/")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100, default="application/octet-stream")
    size = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.filename


class Event(models.Model):
    """Append-only record of every change: timeline, audit trail, webhooks and clocks read it."""

    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    kind = models.CharField(max_length=50)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "id"], name="event_ticket_id")]

    def __str__(self) -> str:
        return f"{self.kind} on {self.ticket_id}"


class WorkOrder(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        SENT = "sent", "Sent for approval"
        APPROVED = "approved", "Approved"
        DECLINED = "declined", "Declined"
        SCHEDULED = "scheduled", "Scheduled"
        DONE = "done", "Done"

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="work_order")
    scope = models.TextField()
    requested_by = models.CharField(max_length=200, blank=True)
    estimate = models.CharField(max_length=100, blank=True, help_text='For example "3 days".')
    state = models.CharField(max_length=10, choices=State.choices, default=State.DRAFT)
    decision_note = models.TextField(blank=True)
    scheduled_for = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Work order for {self.ticket.number} ({self.state})"


class IdempotencyKey(models.Model):
    """An API create answered once per (user, Idempotency-Key)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_unique_key")
        ]

    def __str__(self) -> str:
        return self.key
