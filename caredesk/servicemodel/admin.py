from django.contrib import admin

from caredesk.servicemodel import models


@admin.register(models.ServiceSettings)
class ServiceSettingsAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone", "email", "phone", "default_priority", "warning_ratio"]


@admin.register(models.Calendar)
class CalendarAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "time_zone", "week", "public_holidays", "closed_on", "special"]

    @admin.display(description="hours")
    def week(self, obj: models.Calendar) -> str:
        return "; ".join(
            f"{day} {', '.join(spans) or 'closed'}" for day, spans in obj.hours.items()
        )

    @admin.display(description="public holidays")
    def public_holidays(self, obj: models.Calendar) -> str:
        return obj.public_holidays_label() or "—"

    @admin.display(description="holidays")
    def closed_on(self, obj: models.Calendar) -> str:
        return ", ".join(obj.holidays or ()) or "—"

    @admin.display(description="exceptions")
    def special(self, obj: models.Calendar) -> str:
        return "; ".join(obj.exception_labels()) or "—"


@admin.register(models.Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "role", "email", "calendar", "covers"]


class CounterInline(admin.StackedInline):
    model = models.TicketCounter
    readonly_fields = ["next_number"]
    can_delete = False


@admin.register(models.TicketType)
class TicketTypeAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "number_format", "first_number", "team", "escalation", "next"]
    inlines = [CounterInline]

    @admin.display(description="next number")
    def next(self, obj: models.TicketType) -> str:
        counter = getattr(obj, "counter", None)
        return obj.format_number(counter.next_number) if counter else "—"


@admin.register(models.Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "ticket_type", "work_order"]


@admin.register(models.PriorityLevel)
class PriorityAdmin(admin.ModelAdmin):
    list_display = [
        "key",
        "name",
        "rank",
        "escalation_target",
        "escalation_calendar",
        "emergency_escalation_target",
    ]


@admin.register(models.ChannelTarget)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "first_response_target", "first_response_calendar"]
