"""Outgoing webhooks in the admin: read their delivery logs. New webhooks come through the
API, which checks the URL (the delivery checks it again either way)."""

from django.contrib import admin
from django.http import HttpRequest

from caredesk.api import models


class AttemptInline(admin.TabularInline):
    model = models.WebhookAttempt
    extra = 0
    can_delete = False
    fields = ["at", "status", "duration_ms", "response", "error"]
    readonly_fields = ["at", "status", "duration_ms", "response", "error"]


@admin.register(models.Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = ["url", "description", "created_by", "created_at", "deleted_at"]
    list_filter = ["deleted_at"]
    search_fields = ["url", "description"]
    readonly_fields = ["url", "secret", "created_by", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(models.WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "webhook", "event", "created_at", "attempts", "delivered_at", "failed_at"]
    list_filter = ["event", ("delivered_at", admin.EmptyFieldListFilter)]
    list_select_related = ["webhook"]
    readonly_fields = ["webhook", "event", "body", "created_at", "delivered_at", "failed_at",
                       "attempts"]  # fmt: skip
    inlines = [AttemptInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
