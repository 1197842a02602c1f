from django.contrib import admin

from caredesk.tickets import models


class MessageInline(admin.StackedInline):
    model = models.Message
    extra = 0
    fields = ["kind", "author", "channel", "body", "created_at"]
    raw_id_fields = ["author"]


class EventInline(admin.TabularInline):
    model = models.Event
    extra = 0
    can_delete = False
    fields = ("created_at", "kind", "actor", "data")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False  # the event log is append-only, written by the services


@admin.register(models.Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "subject",
        "type",
        "status",
        "priority",
        "team",
        "assignee",
        "organization",
        "created_at",
    ]
    list_filter = ["type", "status", "priority", "team", "channel"]
    search_fields = ["number", "subject"]
    list_select_related = ["type", "team", "assignee", "organization"]
    raw_id_fields = ["assignee", "requester", "organization", "origin"]
    readonly_fields = ["number", "created_at", "updated_at"]
    show_full_result_count = False
    inlines = [MessageInline, EventInline]


@admin.register(models.WorkOrder)
class WorkOrderAdmin(admin.ModelAdmin):
    list_display = ["ticket", "state", "requested_by", "estimate", "scheduled_for", "done_at"]
    list_filter = ["state"]
    raw_id_fields = ["ticket"]


@admin.register(models.Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "ticket", "kind", "actor"]
    list_filter = ["kind"]
    raw_id_fields = ["ticket", "actor"]
    show_full_result_count = False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(models.Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ["filename", "message", "content_type", "size", "created_at"]
    raw_id_fields = ["message"]
