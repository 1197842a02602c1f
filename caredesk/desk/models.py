"""The desk's own rows: in-desk notices for agents."""

from __future__ import annotations

from django.db import models

from caredesk.people.models import User
from caredesk.sla.models import Clock
from caredesk.tickets.models import Ticket


class NoticeKind(models.TextChoices):
    WARNING = "warning", "SLA due soon"
    BREACH = "breach", "SLA breached"


class Notification(models.Model):
    """A notice in an agent's desk, e.g. an SLA clock near due or breached; read_at is set
    when the agent opens their notices."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="desk_notifications")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    clock = models.ForeignKey(
        Clock, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=NoticeKind.choices)
    text = models.CharField(max_length=300)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "read_at"], name="desk_notice_unread"),
            models.Index(fields=["user", "-created_at"], name="desk_notice_recent"),
        ]
        constraints = [
            # A retried notify task must not notify twice for one warning or breach.
            models.UniqueConstraint(fields=["user", "clock", "kind"], name="desk_notice_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} {self.ticket_id}"
