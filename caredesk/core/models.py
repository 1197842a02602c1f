"""The audit trail of configuration: who changed what, when, from what to what."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditEntry(models.Model):
    """One administrative or configuration change; written by caredesk.core.audit.record."""

    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Who it was in words, kept when the user is deleted ("command line (root)" for the CLI).
    actor_label = models.CharField(max_length=254)
    source = models.CharField(max_length=10)  # admin, api, cli, desk
    action = models.CharField(max_length=40)  # created, changed, deleted, token.revoked, …
    object_type = models.CharField(max_length=100)  # "people.organization", "service-model"
    object_id = models.CharField(max_length=100, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    # {"field": [before, after]} for every field that differs.
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object")]

    def __str__(self) -> str:
        return f"{self.actor_label} {self.action} {self.object_type} {self.object_repr}"
