"""Calls and their events, as the phone system reported them.

A Call is one leg the PBX names by its call id; each CTI event (newCall, answer, hangup)
is stored once per (call id, event), whatever order and however often it arrives, and the
call's times and outcome are recomputed from what is known so far.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from caredesk.people.models import Organization
from caredesk.servicemodel.models import Team
from caredesk.tickets.models import Ticket


class CallOutcome(models.TextChoices):
    ANSWERED = "answered", "Answered"
    ABANDONED = "abandoned", "Abandoned"
    SHORT_ABANDONED = "short_abandoned", "Short abandon (under 5 s)"
    BUSY = "busy", "Busy"
    REJECTED = "rejected", "Rejected"
    FAILED = "failed", "Failed"


class Direction(models.TextChoices):
    IN = "in", "Inbound"
    OUT = "out", "Outbound"


class EventKind(models.TextChoices):
    NEW_CALL = "newCall", "New call"
    ANSWER = "answer", "Answer"
    HANGUP = "hangup", "Hangup"


class Call(models.Model):
    call_id = models.CharField(max_length=100, unique=True)
    direction = models.CharField(max_length=3, choices=Direction.choices, default=Direction.IN)
    from_number = models.CharField(max_length=40, blank=True)
    to_number = models.CharField(max_length=40, blank=True)
    # The customer's side in E.164 ("" when withheld or not a public number).
    caller = models.CharField(max_length=32, blank=True, db_index=True)
    contact = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.SET_NULL, null=True, blank=True, related_name="calls"
    )
    # The queue the PBX names, or else the team caredesk routed the call to.
    queue = models.CharField(max_length=100, blank=True)
    routed_to = models.CharField(max_length=50, blank=True)
    # Emergency Care took it because every representative was busy (staffed targets apply).
    overflow = models.BooleanField(default=False)
    # Rang outside staffed hours: emergency staffing.
    emergency_hours = models.BooleanField(default=False)
    # The caller's number is blocked: caredesk told the PBX to reject the call.
    blocked = models.BooleanField(default=False)
    started_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="answered_calls",
    )
    answering_number = models.CharField(max_length=40, blank=True)
    cause = models.CharField(max_length=30, blank=True)
    outcome = models.CharField(max_length=20, choices=CallOutcome.choices, blank=True)
    ticket = models.ForeignKey(
        Ticket, on_delete=models.SET_NULL, null=True, blank=True, related_name="calls"
    )
    # A transfer: the leg this one continues (origCallId); not a new offered call.
    transferred_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="transfers"
    )
    # Events arrived without their newCall, or in another order than they happened.
    irregular = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["started_at", "id"], name="call_started"),
            models.Index(fields=["queue", "id"], name="call_queue_id"),
            models.Index(fields=["outcome", "id"], name="call_outcome_id"),
            models.Index(fields=["answered_by", "ended_at"], name="call_agent_live"),
        ]

    def __str__(self) -> str:
        return f"call {self.call_id}"

    @property
    def wait_seconds(self) -> float | None:
        """Ring to answer, or ring to hangup for a call nobody answered."""
        end = self.answered_at or self.ended_at
        if self.started_at is None or end is None:
            return None
        return max(0.0, (end - self.started_at).total_seconds())

    @property
    def duration_seconds(self) -> float | None:
        """Answer to hangup: the talk time."""
        if self.answered_at is None or self.ended_at is None:
            return None
        return max(0.0, (self.ended_at - self.answered_at).total_seconds())


class CallEvent(models.Model):
    """One CTI event as received; stored once per (call id, event)."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="events")
    call_id_text = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=EventKind.choices)
    at = models.DateTimeField(help_text="When it happened: the event's timestamp, or receipt.")
    received_at = models.DateTimeField()
    data = models.JSONField(default=dict, blank=True)
    # How many more times the PBX sent it (retries are harmless).
    repeats = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["call_id_text", "kind"], name="call_event_once"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.call_id_text}"


class DialTarget(models.Model):
    """What the reply to a newCall tells the PBX to dial for a team (optional)."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, primary_key=True, related_name="+")
    number = models.CharField(max_length=40, blank=True, help_text="A number or SIP URI.")
    queue = models.CharField(max_length=100, blank=True, help_text="The PBX's queue name.")

    def __str__(self) -> str:
        return f"{self.team_id}: {self.number or self.queue}"


class BlockedNumber(models.Model):
    """A caller whose calls the PBX is told to reject (`{"action": "reject"}`)."""

    number = models.CharField(max_length=32, unique=True, help_text="E.164, e.g. +12125550199")
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.number
