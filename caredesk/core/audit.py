"""The audit trail: `record` is the one function that writes it; adapters call it.

The admin (every save and delete of any model, see caredesk/core/admin.py), the command
line (load-model, user add, token create), the desk (token revocation) and the API (status
components) each call `record` with the actor and the object's state before and after.
Values of secret fields (password hashes, token digests, webhook secrets) are never
stored: a short fingerprint shows that they changed.
"""

from __future__ import annotations

import datetime as dt
import decimal
import getpass
import hashlib
import uuid
from typing import Any

from django.db import models

from caredesk.core.clock import now
from caredesk.core.models import AuditEntry

SECRET_FIELDS = frozenset({"password", "digest", "secret"})


def _plain(value: Any) -> Any:
    """A JSON value for a field's value."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID | dt.timedelta):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, models.Model):
        return _plain(value.pk)
    if hasattr(value, "name"):  # a FieldFile
        return value.name or None
    return str(value)


def _fingerprint(value: Any) -> str | None:
    if value in (None, ""):
        return None
    return "hidden:" + hashlib.sha256(str(value).encode()).hexdigest()[:8]


def snapshot(instance: models.Model | None) -> dict[str, Any]:
    """Every concrete and many-to-many field of a saved object, as JSON values."""
    if instance is None:
        return {}
    data: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        value = field.value_from_object(instance)
        data[field.name] = _fingerprint(value) if field.name in SECRET_FIELDS else _plain(value)
    if instance.pk is not None:
        for m2m in instance._meta.many_to_many:
            related = getattr(instance, m2m.name).values_list("pk", flat=True)
            data[m2m.name] = sorted(_plain(pk) for pk in related)
    return data


def _flat(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(_flat(value, name + "."))
        else:
            flat[name] = value
    return flat


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{"field": [before, after]} for each field that differs; nested keys are dotted."""
    old, new = _flat(before), _flat(after)
    return {
        key: [old.get(key), new.get(key)]
        for key in sorted(old.keys() | new.keys())
        if old.get(key) != new.get(key)
    }


def _label(actor: Any, source: str) -> str:
    if actor is not None and getattr(actor, "is_authenticated", False):
        return str(actor.email)
    if source == "cli":
        try:
            return f"command line ({getpass.getuser()})"
        except (KeyError, OSError):
            return "command line"
    return "system"


def record(
    *,
    actor: Any,
    source: str,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Write one audit entry: who (`actor`, a user or None), through what (`source`), did
    what (`action`) to which object, with the difference between `before` and `after`."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk or "")
        object_repr = object_repr or str(obj)
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    return AuditEntry.objects.create(
        at=now(),
        actor=user,
        actor_label=_label(actor, source)[:254],
        source=source,
        action=action,
        object_type=object_type[:100],
        object_id=object_id[:100],
        object_repr=object_repr[:200],
        changes=diff(before or {}, after or {}),
    )
