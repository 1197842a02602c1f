"""Status page: environments and the deployed version of each component."""

from __future__ import annotations

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
