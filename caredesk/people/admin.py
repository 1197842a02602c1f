from django.contrib import admin
from django.contrib.admin.options import InlineModelAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest

from caredesk.people import models


class DomainInline(admin.TabularInline):
    model = models.OrganizationDomain
    extra = 0


@admin.register(models.Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "shares_tickets", "created_at"]
    search_fields = ["key", "name", "domains__domain"]
    inlines = [DomainInline]
    filter_horizontal = ["environments"]


class ShiftInline(admin.TabularInline):
    """An agent's rota: weekly lines (days, start, end in the service's time zone) or dated
    ones. No shifts: the agent follows the team's hours."""

    model = models.Shift
    extra = 0
    fields = ["days", "start", "end", "starts_at", "ends_at", "note"]
    verbose_name_plural = "shifts (optional: without any, the agent follows the team's hours)"


@admin.register(models.User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "name", "role", "team", "organization", "is_active"]
    list_filter = ["role", "team", "is_active"]
    search_fields = ["email", "name", "phone"]
    list_select_related = ["team", "organization"]
    autocomplete_fields = ["organization"]
    fieldsets = (
        (None, {"fields": ("email", "password", "name", "phone", "extension")}),
        ("Role", {"fields": ("role", "team", "organization")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    readonly_fields = ["last_login", "date_joined"]
    add_fieldsets = (
        (None, {"fields": ("email", "role", "team", "organization", "password1", "password2")}),
    )
    filter_horizontal = ["groups"]

    def get_inlines(
        self, request: HttpRequest, obj: models.User | None
    ) -> list[type[InlineModelAdmin]]:
        # Only an existing agent has a rota; customers and the add form stay plain.
        return [ShiftInline] if obj is not None and obj.is_agent else []


@admin.register(models.ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = [
        "prefix",
        "user",
        "scope",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    ]
    list_select_related = ["user"]
    readonly_fields = ["prefix", "digest", "created_at", "last_used_at"]
