"""Status page: environments, component versions and their history, incidents, maintenance."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models


class ComponentStatus(models.TextChoices):
    # Exactly Atlassian Statuspage's component statuses.
    OPERATIONAL = "operational", "Operational"
    DEGRADED_PERFORMANCE = "degraded_performance", "Degraded performance"
    PARTIAL_OUTAGE = "partial_outage", "Partial outage"
    MAJOR_OUTAGE = "major_outage", "Major outage"
    UNDER_MAINTENANCE = "under_maintenance", "Under maintenance"


class Environment(models.Model):
    key = models.CharField(primary_key=True, max_length=50)  # "NA3", as the guide writes it
    name = models.CharField(max_length=200)
    position = models.PositiveSmallIntegerField(default=0)
    description = models.TextField(blank=True)
    # The desk suggests an incident when this many new cases or TSUP tickets about the
    # environment arrive within the window (0: never).
    surge_tickets = models.PositiveSmallIntegerField(default=3)
    surge_window = models.DurationField(default=timedelta(minutes=30))

    class Meta:
        ordering = ["position", "key"]

    def __str__(self) -> str:
        return self.name


class Component(models.Model):
    environment = models.ForeignKey(
        Environment, on_delete=models.CASCADE, related_name="components"
    )
    name = models.CharField(max_length=200)
    version = models.CharField(max_length=50, blank=True)
    status = models.CharField(
        max_length=30, choices=ComponentStatus.choices, default=ComponentStatus.OPERATIONAL
    )
    description = models.TextField(blank=True)
    group_name = models.CharField(max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["environment__position", "position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["environment", "name"], name="component_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.environment_id} {self.name} {self.version}".strip()


class ComponentChange(models.Model):
    """One row per change of a component's status or version, never edited.

    The uptime bars, the deploy history and the feeds read it; the status before the
    first row is that row's `old_status`, so components the model loader created need none.
    """

    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="changes")
    at = models.DateTimeField()
    old_status = models.CharField(max_length=30, choices=ComponentStatus.choices)
    status = models.CharField(max_length=30, choices=ComponentStatus.choices)
    old_version = models.CharField(max_length=50, blank=True)
    version = models.CharField(max_length=50, blank=True)
    incident = models.ForeignKey(
        "Incident", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["component", "at"]), models.Index(fields=["at"])]

    def __str__(self) -> str:
        return f"{self.component} {self.old_status}→{self.status} {self.old_version}→{self.version}"

    @property
    def is_deploy(self) -> bool:
        return self.version != self.old_version


class IncidentStatus(models.TextChoices):
    # Statuspage's incident statuses, then its scheduled-maintenance statuses.
    INVESTIGATING = "investigating", "Investigating"
    IDENTIFIED = "identified", "Identified"
    MONITORING = "monitoring", "Monitoring"
    RESOLVED = "resolved", "Resolved"
    POSTMORTEM = "postmortem", "Postmortem"
    SCHEDULED = "scheduled", "Scheduled"
    IN_PROGRESS = "in_progress", "In progress"
    VERIFYING = "verifying", "Verifying"
    COMPLETED = "completed", "Completed"


INCIDENT_STATUSES = ("investigating", "identified", "monitoring", "resolved", "postmortem")
MAINTENANCE_STATUSES = ("scheduled", "in_progress", "verifying", "completed")
UNRESOLVED = ("investigating", "identified", "monitoring")
MAINTENANCE_OPEN = ("scheduled", "in_progress", "verifying")
MAINTENANCE_ACTIVE = ("in_progress", "verifying")


class Impact(models.TextChoices):
    NONE = "none", "None"
    MINOR = "minor", "Minor"
    MAJOR = "major", "Major"
    CRITICAL = "critical", "Critical"
    MAINTENANCE = "maintenance", "Maintenance"


class Incident(models.Model):
    """An incident, or a scheduled maintenance (Statuspage keeps both in one shape).

    A maintenance may carry a target version: its components take that version when it
    completes, which is how an upgrade is announced and then recorded as a deploy.
    """

    class Kind(models.TextChoices):
        INCIDENT = "incident", "Incident"
        MAINTENANCE = "maintenance", "Scheduled maintenance"

    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.INCIDENT)
    name = models.CharField(max_length=300)
    status = models.CharField(max_length=20, choices=IncidentStatus.choices)
    impact = models.CharField(max_length=12, choices=Impact.choices, default=Impact.NONE)
    environment = models.ForeignKey(
        Environment, on_delete=models.PROTECT, null=True, blank=True, related_name="incidents"
    )
    components = models.ManyToManyField(
        Component, through="AffectedComponent", related_name="incidents", blank=True
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    started_at = models.DateTimeField()
    monitoring_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    scheduled_for = models.DateTimeField(null=True, blank=True, db_index=True)
    scheduled_until = models.DateTimeField(null=True, blank=True, db_index=True)
    auto_transition = models.BooleanField(
        default=True, help_text="A maintenance starts and completes on time by itself."
    )
    target_version = models.CharField(max_length=50, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Cases and TSUP tickets about it; their requesters hear when it resolves.
    tickets = models.ManyToManyField(
        "tickets.Ticket", through="LinkedTicket", related_name="incidents", blank=True
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["kind", "status"]), models.Index(fields=["started_at"])]

    def __str__(self) -> str:
        return self.name

    @property
    def is_maintenance(self) -> bool:
        return self.kind == self.Kind.MAINTENANCE

    @property
    def is_open(self) -> bool:
        return self.status in UNRESOLVED or self.status in MAINTENANCE_OPEN


class AffectedComponent(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="affected")
    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["incident", "component"], name="affected_once")
        ]

    def __str__(self) -> str:
        return f"{self.incident_id}: {self.component}"


class LinkedTicket(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="links")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    linked_at = models.DateTimeField()
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # When the requester was told the incident resolved: once per link, however often retried.
    told_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["linked_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "ticket"], name="ticket_linked_once")
        ]

    def __str__(self) -> str:
        return f"{self.incident_id} ↔ {self.ticket_id}"


class IncidentUpdate(models.Model):
    """A timestamped message on an incident or maintenance, with the status it moved to."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="updates")
    status = models.CharField(max_length=20, choices=IncidentStatus.choices)
    body = models.TextField()
    # Statuspage's shape: [{"code", "name", "old_status", "new_status"}], or null.
    affected_components = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField()
    display_at = models.DateTimeField()
    deliver_notifications = models.BooleanField(default=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-display_at", "-id"]

    def __str__(self) -> str:
        return f"{self.incident_id} {self.status}"


class PageState(models.Model):
    """The page's single row: bumped in every status transaction, it keys the public cache."""

    generation = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"generation {self.generation}"


class Subscriber(models.Model):
    """A subscriber to the page's notices: an email address or a webhook URL.

    Email subscribers confirm by a link (double opt-in) and leave by one click; a webhook
    subscriber is added by a manager and signs its payloads with its own secret. No
    environment and no component chosen means the whole page.
    """

    email = models.EmailField(blank=True)
    url = models.URLField(max_length=2000, blank=True)
    secret = models.CharField(max_length=64, blank=True)  # the webhook's HMAC key
    token = models.CharField(max_length=64, unique=True)
    environments = models.ManyToManyField(Environment, blank=True, related_name="subscribers")
    components = models.ManyToManyField(Component, blank=True, related_name="subscribers")
    created_at = models.DateTimeField()
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["email", "url"]
        indexes = [models.Index(fields=["email"])]

    def __str__(self) -> str:
        return self.email or self.url

    @property
    def is_active(self) -> bool:
        return self.confirmed_at is not None and self.unsubscribed_at is None

    @property
    def is_webhook(self) -> bool:
        return bool(self.url)


class Delivery(models.Model):
    """One notice to one subscriber, keyed by what it is about ("update:12", "change:40").

    The unique key is the rate limit: one message per subscriber per update, however
    often a task is retried or a sweep repeats.
    """

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="deliveries")
    key = models.CharField(max_length=40)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["subscriber", "key"], name="delivery_once")]

    def __str__(self) -> str:
        return f"{self.subscriber} {self.key}"
