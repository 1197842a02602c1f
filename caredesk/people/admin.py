from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

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
