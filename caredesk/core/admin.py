"""The audit trail in the admin (read-only, admins only), and the hook that audits the admin.

Every ModelAdmin saves through save_model/save_related and deletes through
delete_model/delete_queryset; wrapping those four on the base class audits every model
registered now or later, inlines included, in the admin's own transaction.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from caredesk.core import audit
from caredesk.core.models import AuditEntry
from caredesk.servicemodel.choices import Role

_PENDING = "_caredesk_audit"


def _stored(obj: models.Model) -> dict[str, Any]:
    if obj.pk is None:
        return {}
    return audit.snapshot(type(obj)._default_manager.filter(pk=obj.pk).first())


def _pending(request: HttpRequest) -> dict[tuple[type, Any], dict[str, Any]]:
    return request.__dict__.setdefault(_PENDING, {})


_save_model = admin.ModelAdmin.save_model
_save_related = admin.ModelAdmin.save_related
_delete_model = admin.ModelAdmin.delete_model
_delete_queryset = admin.ModelAdmin.delete_queryset


def save_model(self: Any, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
    # The form has already written its values onto `obj`: the "before" is the stored row.
    _pending(request)[(type(obj), obj.pk)] = _stored(obj) if change else {}
    _save_model(self, request, obj, form, change)


def save_related(self: Any, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
    inline_before = {
        (type(f.instance), f.instance.pk): _stored(f.instance)
        for formset in formsets
        for f in formset.forms
        if f.instance.pk is not None
    }
    _save_related(self, request, form, formsets, change)
    obj = form.instance
    pending = _pending(request)
    # A new object was keyed before it had a primary key.
    before = pending.pop((type(obj), obj.pk), None)
    if before is None:
        before = pending.pop((type(obj), None), None)
    if before is not None:
        audit.record(
            actor=request.user,
            source="admin",
            action="changed" if change else "created",
            obj=obj,
            before=before,
            after=audit.snapshot(obj),
        )
    for formset in formsets:
        for new in getattr(formset, "new_objects", []):
            audit.record(
                actor=request.user, source="admin", action="created", obj=new,
                after=audit.snapshot(new),
            )  # fmt: skip
        for changed, _fields in getattr(formset, "changed_objects", []):
            audit.record(
                actor=request.user, source="admin", action="changed", obj=changed,
                before=inline_before.get((type(changed), changed.pk), {}),
                after=audit.snapshot(changed),
            )  # fmt: skip
        for gone in getattr(formset, "deleted_objects", []):
            audit.record(
                actor=request.user, source="admin", action="deleted", obj=gone,
                object_id=str(gone.pk or ""),
                before=inline_before.get((type(gone), gone.pk), {}),
            )  # fmt: skip


def delete_model(self: Any, request: HttpRequest, obj: Any) -> None:
    before, pk, text = audit.snapshot(obj), str(obj.pk), str(obj)
    _delete_model(self, request, obj)
    audit.record(
        actor=request.user, source="admin", action="deleted", obj=obj,
        object_id=pk, object_repr=text, before=before,
    )  # fmt: skip


def delete_queryset(self: Any, request: HttpRequest, queryset: Any) -> None:
    gone = [(obj, str(obj.pk), str(obj), audit.snapshot(obj)) for obj in queryset]
    _delete_queryset(self, request, queryset)
    for obj, pk, text, before in gone:
        audit.record(
            actor=request.user, source="admin", action="deleted", obj=obj,
            object_id=pk, object_repr=text, before=before,
        )  # fmt: skip


_change_password = UserAdmin.user_change_password


def _by_pk(model: Any, pk: str) -> Any:
    try:
        return model._default_manager.filter(pk=unquote(pk)).first()
    except (ValueError, ValidationError):
        return None  # not an id: the admin view answers 404 itself


def user_change_password(self: Any, request: HttpRequest, id: str, form_url: str = "") -> Any:
    # The password form saves outside save_model: compare the stored hash's fingerprint.
    before = audit.snapshot(_by_pk(self.model, id))
    response = _change_password(self, request, id, form_url)
    user = _by_pk(self.model, id)
    after = audit.snapshot(user)
    if user is not None and before.get("password") != after.get("password"):
        audit.record(
            actor=request.user, source="admin", action="password.changed", obj=user,
            before={"password": before.get("password")},
            after={"password": after.get("password")},
        )  # fmt: skip
    return response


UserAdmin.user_change_password = user_change_password  # type: ignore[method-assign]
admin.ModelAdmin.save_model = save_model  # type: ignore[method-assign]
admin.ModelAdmin.save_related = save_related  # type: ignore[method-assign]
admin.ModelAdmin.delete_model = delete_model  # type: ignore[method-assign]
admin.ModelAdmin.delete_queryset = delete_queryset  # type: ignore[method-assign]


def _is_admin(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_active and (user.is_superuser or getattr(user, "role", "") == Role.ADMIN))


FIELDS = [
    "at",
    "actor_label",
    "source",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "changes_table",
]


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = [
        "at", "actor_label", "source", "action", "object_type", "object_repr", "changed_fields",
    ]  # fmt: skip
    list_filter = ["source", "action", "object_type", ("at", admin.DateFieldListFilter)]
    search_fields = ["actor_label", "object_repr", "object_id"]
    date_hierarchy = "at"
    fields = tuple(FIELDS)
    readonly_fields = FIELDS
    list_per_page = 100

    @admin.display(description="changed")
    def changed_fields(self, entry: AuditEntry) -> str:
        return ", ".join(entry.changes)[:120]

    @admin.display(description="before → after")
    def changes_table(self, entry: AuditEntry) -> str:
        rows = format_html_join(
            "",
            "<tr><th>{}</th><td><code>{}</code></td><td><code>{}</code></td></tr>",
            (
                (name, json.dumps(values[0]), json.dumps(values[1]))
                for name, values in entry.changes.items()
            ),
        )
        return format_html(
            "<table><tr><th>field</th><th>before</th><th>after</th></tr>{}</table>", rows
        )

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_admin(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
