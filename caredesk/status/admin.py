from django.contrib import admin

from caredesk.status import models


class ComponentInline(admin.TabularInline):
    model = models.Component
    extra = 0
    fields = ["name", "version", "status", "group_name", "position"]


@admin.register(models.Environment)
class EnvironmentAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "position"]
    inlines = [ComponentInline]


@admin.register(models.Component)
class ComponentAdmin(admin.ModelAdmin):
    list_display = ["environment", "name", "version", "status", "updated_at"]
    list_filter = ["environment", "status"]
