"""SLA clocks: one per ticket and target, with its deadline in an indexed column."""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.db.models import Q

from caredesk.servicemodel.choices import SlaTarget
from caredesk.servicemodel.models import Calendar
from caredesk.tickets.models import Ticket


class Outcome(models.TextChoices):
    MET = "met", "Met"
    BREACHED = "breached", "Breached"


class Clock(models.Model):
    """A promise on a ticket: `target` of `calendar` time from `started_at`.

    The clock is running until `stopped_at`; while paused (waiting on the customer)
    `due_at` is empty. Pauses are kept as [start, end] pairs so the due time can be
    recomputed exactly when the priority, and with it the calendar, changes.
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="clocks")
    kind = models.CharField(max_length=20, choices=SlaTarget.choices)
    calendar = models.ForeignKey(Calendar, on_delete=models.PROTECT, related_name="+")
    target = models.DurationField()
    started_at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True)
    warn_at = models.DateTimeField(null=True, blank=True)
    pauses = models.JSONField(default=list, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    # Started outside staffed hours: reported apart, with the emergency target.
    emergency = models.BooleanField(default=False)
    # Stamped once by the sweep, with a conditional UPDATE, so no notice goes out twice.
    warned_at = models.DateTimeField(null=True, blank=True)
    breach_noticed_at = models.DateTimeField(null=True, blank=True)
    explanation = models.TextField(blank=True)

    class Meta:
        ordering = ["started_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "kind"], name="clock_one_per_kind"),
        ]
        indexes = [
            # The sweep reads only running clocks not yet noticed, by deadline: these partial
            # indexes stay as small as the open work, however many tickets there are.
            models.Index(
                fields=["due_at"],
                name="clock_breach_due",
                condition=Q(stopped_at__isnull=True, breach_noticed_at__isnull=True),
            ),
            models.Index(
                fields=["warn_at"],
                name="clock_warn_due",
                condition=Q(stopped_at__isnull=True, warned_at__isnull=True),
            ),
            # Reports and the dashboard count the clocks started in a period.
            models.Index(fields=["started_at"], name="clock_started"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on {self.ticket_id}"

    @property
    def running(self) -> bool:
        return self.stopped_at is None

    @property
    def paused(self) -> bool:
        return bool(self.pauses) and self.pauses[-1][1] is None

    def outcome_at(self, at: datetime) -> str:
        """The outcome as of `at`: decided, breached by a passed deadline, or empty."""
        if self.outcome:
            return self.outcome
        if self.due_at is not None and at > self.due_at:
            return Outcome.BREACHED
        return ""
