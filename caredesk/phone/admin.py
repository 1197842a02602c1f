from django.contrib import admin

from caredesk.phone import models


@admin.register(models.Call)
class CallAdmin(admin.ModelAdmin):
    list_display = ["call_id", "direction", "caller", "routed_to", "outcome", "started_at"]
    list_filter = ["direction", "routed_to", "outcome"]
    search_fields = ["call_id", "caller", "from_number", "to_number"]
    raw_id_fields = ["contact", "organization", "answered_by", "ticket", "transferred_from"]


@admin.register(models.DialTarget)
class DialTargetAdmin(admin.ModelAdmin):
    list_display = ["team", "number", "queue"]


@admin.register(models.BlockedNumber)
class BlockedNumberAdmin(admin.ModelAdmin):
    list_display = ["number", "note", "created_at"]
    search_fields = ["number", "note"]
