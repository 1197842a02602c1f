"""Outgoing webhooks: subscriptions to event types, and the log of every delivery attempt."""

from __future__ import annotations

from django.conf import settings
from django.db import models

# The event types a webhook may subscribe to (the API's spelling).
TICKET_EVENTS = (
    "ticket.opened",
    "ticket.replied",
    "ticket.escalated",
    "ticket.assigned",
    "ticket.breached",
    "ticket.resolved",
)
INCIDENT_EVENTS = ("incident.created", "incident.updated", "incident.resolved")
EVENT_TYPES = TICKET_EVENTS + INCIDENT_EVENTS


class Webhook(models.Model):
    url = models.URLField(max_length=2000)
    events = models.JSONField(default=list, help_text="Event types, e.g. ticket.opened.")
    secret = models.CharField(max_length=64, help_text="Signs every payload (HMAC-SHA256).")
    description = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()
    # Deleted webhooks stay as rows (their delivery log is history) but receive nothing.
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event for one webhook: the exact body sent on every attempt."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40)
    body = models.TextField()
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    # Set when no retry can help (an address refused, a redirect): the worker stops there.
    failed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["webhook", "id"], name="webhook_delivery_hook_id")]

    def __str__(self) -> str:
        return f"{self.event} to {self.webhook_id}"


class WebhookAttempt(models.Model):
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="log")
    at = models.DateTimeField()
    status = models.PositiveSmallIntegerField(null=True, blank=True)  # no answer: null
    response = models.CharField(max_length=500, blank=True)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.delivery_id} {self.status or self.error}"
