"""Status page rules: component statuses and versions, incidents, scheduled maintenance.

Every write is one transaction with a keyword-only `actor` (None: the system, e.g. the
worker starting a maintenance on time), records its history rows (ComponentChange,
IncidentUpdate) and bumps the PageState row that keys the public cache.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import F

from caredesk.api import outgoing
from caredesk.core.clock import now
from caredesk.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from caredesk.people.models import User
from caredesk.servicemodel.choices import Role
from caredesk.status import links, subscriptions
from caredesk.status.models import (
    INCIDENT_STATUSES,
    MAINTENANCE_ACTIVE,
    MAINTENANCE_STATUSES,
    UNRESOLVED,
    AffectedComponent,
    Component,
    ComponentChange,
    ComponentStatus,
    Environment,
    Impact,
    Incident,
    IncidentUpdate,
    PageState,
)
from caredesk.status.overall import impact_of

STATUSES = tuple(s.value for s in ComponentStatus)
INCIDENT_IMPACTS = ("none", "minor", "major", "critical")
MANAGERS = frozenset({Role.MANAGER, Role.ADMIN})

# Allowed moves; a same-status update is a plain progress message.
INCIDENT_NEXT: dict[str, tuple[str, ...]] = {
    "investigating": ("investigating", "identified", "monitoring", "resolved"),
    "identified": ("investigating", "identified", "monitoring", "resolved"),
    "monitoring": ("investigating", "identified", "monitoring", "resolved"),
    # A resolved incident may get its postmortem, or be reopened when it comes back.
    "resolved": ("postmortem", "investigating", "identified", "monitoring"),
    "postmortem": ("postmortem",),
}
MAINTENANCE_NEXT: dict[str, tuple[str, ...]] = {
    "scheduled": ("scheduled", "in_progress", "completed"),
    "in_progress": ("in_progress", "verifying", "completed"),
    "verifying": ("in_progress", "verifying", "completed"),
    "completed": (),
}
MAINTENANCE_WORDS = {
    "in_progress": "Scheduled maintenance is currently in progress. "
    "We will provide updates as necessary.",
    "completed": "The scheduled maintenance has been completed.",
}


def can_manage(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.role in MANAGERS


def _require_manager(actor: User | None) -> None:
    if actor is not None and not can_manage(actor):
        raise Forbidden("Only managers and admins may change the status page.")


def _touch(at: datetime) -> None:
    if not PageState.objects.filter(pk=1).update(generation=F("generation") + 1, updated_at=at):
        PageState.objects.create(pk=1, generation=1, updated_at=at)


def _check_status(status: str, field: str = "status") -> str:
    if status not in STATUSES:
        raise InvalidInput(
            f"{status!r} is not a component status; use one of {', '.join(STATUSES)}.",
            field=field,
        )
    return status


def _check_text(value: str, field: str, *, limit: int) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(f"Write the {field}.", field=field)
    if len(value) > limit:
        raise InvalidInput(f"The {field} is longer than {limit} characters.", field=field)
    return value


def _environment(key: str | None) -> Environment | None:
    if not key:
        return None
    env = Environment.objects.filter(pk=key).first()
    if env is None:
        known = ", ".join(Environment.objects.values_list("key", flat=True))
        raise InvalidInput(
            f"There is no environment {key!r} (known: {known}).", field="environment"
        )
    return env


def _components(
    ids: Iterable[int | str], environment: Environment | None
) -> dict[int | str, Component]:
    """The components named by id, in one query; each must exist and sit in `environment`."""
    wanted: dict[int | str, int] = {}
    for key in ids:
        try:
            wanted[key] = int(key)
        except (TypeError, ValueError):
            raise InvalidInput(
                f"{key!r} is not a component id.", field=f"components.{key}"
            ) from None
    found = Component.objects.select_related("environment").in_bulk(list(wanted.values()))
    out: dict[int | str, Component] = {}
    for key, pk in wanted.items():
        component = found.get(pk)
        if component is None:
            raise InvalidInput(f"There is no component {key}.", field=f"components.{key}")
        if environment is not None and component.environment_id != environment.pk:
            raise InvalidInput(
                f"{component.name} ({key}) belongs to {component.environment_id}, "
                f"not to {environment.pk}.",
                field=f"components.{key}",
            )
        out[key] = component
    return out


def _change(
    component: Component,
    *,
    at: datetime,
    actor: User | None,
    status: str | None = None,
    version: str | None = None,
    incident: Incident | None = None,
) -> ComponentChange | None:
    """Apply a change to a component and record it; None when nothing changed."""
    new_status = component.status if status is None else status
    new_version = component.version if version is None else version
    if new_status == component.status and new_version == component.version:
        return None
    change = ComponentChange.objects.create(
        component=component,
        at=at,
        old_status=component.status,
        status=new_status,
        old_version=component.version,
        version=new_version,
        incident=incident,
        actor=actor,
    )
    component.status = new_status
    component.version = new_version
    component.save(update_fields=["status", "version", "updated_at"])
    return change


def _entry(change: ComponentChange | None) -> dict[str, str] | None:
    """Statuspage's affected-component entry for a status change (a version alone is none)."""
    if change is None or change.old_status == change.status:
        return None
    return {
        "code": str(change.component_id),
        "name": change.component.name,
        "old_status": change.old_status,
        "new_status": change.status,
    }


def component_by_name(environment: str, name: str) -> Component:
    component = (
        Component.objects.select_related("environment")
        .filter(environment_id=environment, name=name)
        .first()
    )
    if component is None:
        raise NotFound(f"{environment} has no component named {name!r}.")
    return component


def set_component(
    component: Component,
    *,
    actor: User | None,
    status: str | None = None,
    version: str | None = None,
) -> Component:
    """Set a component's status or deployed version (a deploy pipeline's call)."""
    _require_manager(actor)
    if status is None and version is None:
        raise InvalidInput("Give a status, a version or both.", field="status")
    if status is not None:
        _check_status(status)
    if version is not None:
        version = version.strip()
        if len(version) > 50:
            raise InvalidInput("The version is longer than 50 characters.", field="version")
    return _set(component, actor=actor, status=status, version=version)


def apply_from_model(component: Component, *, status: str, version: str) -> Component:
    """The model loader's status and version for an existing component, recorded as a
    change by the system, so a reloaded file never rewrites the page's history unseen."""
    _check_status(status)
    return _set(component, actor=None, status=status, version=version)


def _set(
    component: Component, *, actor: User | None, status: str | None, version: str | None
) -> Component:
    """One checked change of a component: locked, recorded, subscribers told of a new status."""
    at = now()
    with transaction.atomic():
        component = (
            Component.objects.select_for_update().select_related("environment").get(pk=component.pk)
        )
        change = _change(component, at=at, actor=actor, status=status, version=version)
        if change:
            _touch(at)
            if change.old_status != change.status:
                subscriptions.notify_component(change.pk)
    return component


def create_incident(
    *,
    actor: User | None,
    name: str,
    body: str,
    status: str = "investigating",
    impact: str | None = None,
    components: Mapping[Any, str] | None = None,
    environment: str | None = None,
) -> Incident:
    """Open an incident; `components` maps component ids to the status each is now in."""
    _require_manager(actor)
    name = _check_text(name, "name", limit=300)
    body = _check_text(body, "body", limit=20_000)
    if status not in INCIDENT_STATUSES or status == "postmortem":
        raise InvalidInput(
            f"{status!r} is not a status a new incident can have; use one of "
            "investigating, identified, monitoring, resolved.",
            field="status",
        )
    if impact is not None and impact not in INCIDENT_IMPACTS:
        raise InvalidInput(
            f"{impact!r} is not an impact; use one of {', '.join(INCIDENT_IMPACTS)}.",
            field="impact",
        )
    env = _environment(environment)
    wanted = dict(components or {})
    for key, value in wanted.items():
        _check_status(value, field=f"components.{key}")
    found = _components(wanted, env)
    at = now()
    with transaction.atomic():
        incident = Incident.objects.create(
            kind=Incident.Kind.INCIDENT,
            name=name,
            status=status,
            impact=impact or impact_of(wanted.values()),
            environment=env,
            created_at=at,
            updated_at=at,
            started_at=at,
            monitoring_at=at if status == "monitoring" else None,
            resolved_at=at if status == "resolved" else None,
            created_by=actor,
        )
        AffectedComponent.objects.bulk_create(
            AffectedComponent(incident=incident, component=c) for c in found.values()
        )
        changes = _apply(found, wanted, at=at, actor=actor, incident=incident)
        _post_update(incident, status, body, changes, actor=actor, at=at)
    return incident


def _apply(
    found: Mapping[Any, Component],
    statuses: Mapping[Any, str],
    *,
    at: datetime,
    actor: User | None,
    incident: Incident,
) -> list[dict[str, str]]:
    changes = []
    for key, component in found.items():
        entry = _entry(
            _change(component, at=at, actor=actor, status=statuses[key], incident=incident)
        )
        if entry:
            changes.append(entry)
    return changes


def _locked(incident: Incident, kind: str) -> Incident:
    locked = Incident.objects.select_for_update().filter(pk=incident.pk, kind=kind).first()
    if locked is None:
        raise NotFound(f"There is no {kind} {incident.pk}.")
    return locked


def update_incident(
    incident: Incident,
    *,
    actor: User | None,
    status: str,
    body: str,
    impact: str | None = None,
    components: Mapping[Any, str] | None = None,
) -> IncidentUpdate:
    """Post an update: a new status, a message, and the components' new statuses.

    Resolving puts the incident's components back to operational unless the update says
    otherwise or another open incident or maintenance still holds them.
    """
    _require_manager(actor)
    body = _check_text(body, "body", limit=20_000)
    if status not in INCIDENT_STATUSES:
        raise InvalidInput(
            f"{status!r} is not an incident status; use one of {', '.join(INCIDENT_STATUSES)}.",
            field="status",
        )
    if impact is not None and impact not in INCIDENT_IMPACTS:
        raise InvalidInput(
            f"{impact!r} is not an impact; use one of {', '.join(INCIDENT_IMPACTS)}.",
            field="impact",
        )
    wanted = dict(components or {})
    for key, value in wanted.items():
        _check_status(value, field=f"components.{key}")
    at = now()
    with transaction.atomic():
        incident = _locked(incident, Incident.Kind.INCIDENT)
        if status not in INCIDENT_NEXT[incident.status]:
            raise Conflict(f"A {incident.status} incident cannot move to {status}.", field="status")
        found = _components(wanted, incident.environment)
        known = set(incident.affected.values_list("component_id", flat=True))
        AffectedComponent.objects.bulk_create(
            AffectedComponent(incident=incident, component=c)
            for c in found.values()
            if c.pk not in known
        )
        if status == "resolved" and incident.status != "resolved":
            for component in _held_only_by(incident):
                if component.pk not in {c.pk for c in found.values()}:
                    found[component.pk] = component
                    wanted[component.pk] = "operational"
        changes = _apply(found, wanted, at=at, actor=actor, incident=incident)
        if status == "monitoring" and incident.monitoring_at is None:
            incident.monitoring_at = at
        if status in ("resolved", "postmortem"):
            incident.resolved_at = incident.resolved_at or at
        else:
            incident.resolved_at = None
        if status == "resolved" and incident.status in UNRESOLVED:
            links.on_resolved(incident)
        incident.status = status
        if impact is not None:
            incident.impact = impact
        return _post_update(incident, status, body, changes, actor=actor, at=at)


def _held_only_by(incident: Incident) -> list[Component]:
    """The incident's components that are not operational and nothing else still holds."""
    others = (
        AffectedComponent.objects.exclude(incident=incident)
        .filter(incident__status__in=UNRESOLVED + MAINTENANCE_ACTIVE)
        .values_list("component_id", flat=True)
    )
    return list(
        Component.objects.filter(incidents=incident)
        .exclude(status=ComponentStatus.OPERATIONAL)
        .exclude(pk__in=others)
    )


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        # A time without an offset is read on the page's clock, as people write them.
        from caredesk.servicemodel.models import ServiceSettings

        zone = zoneinfo.ZoneInfo(ServiceSettings.current().time_zone or "UTC")
        return value.replace(tzinfo=zone)
    return value


def schedule_maintenance(
    *,
    actor: User | None,
    name: str,
    body: str,
    scheduled_for: datetime,
    scheduled_until: datetime,
    components: Iterable[Any],
    target_version: str = "",
    environment: str | None = None,
    auto_transition: bool = True,
) -> Incident:
    """Announce a maintenance window; with a target version it is an upgrade.

    With `auto_transition` it starts and completes on time by itself (the worker's
    periodic sweep); its components are under maintenance meanwhile.
    """
    _require_manager(actor)
    name = _check_text(name, "name", limit=300)
    body = _check_text(body, "body", limit=20_000)
    starts = _aware(scheduled_for)
    ends = _aware(scheduled_until)
    if ends <= starts:
        raise InvalidInput(
            "The maintenance ends before it starts; scheduled_until must come after scheduled_for.",
            field="scheduled_until",
        )
    target_version = (target_version or "").strip()
    if len(target_version) > 50:
        raise InvalidInput(
            "The target version is longer than 50 characters.", field="target_version"
        )
    env = _environment(environment)
    found = _components(list(components), env)
    if not found:
        raise InvalidInput("Name the components the maintenance affects.", field="components")
    at = now()
    with transaction.atomic():
        maintenance = Incident.objects.create(
            kind=Incident.Kind.MAINTENANCE,
            name=name,
            status="scheduled",
            impact=Impact.MAINTENANCE,
            environment=env,
            created_at=at,
            updated_at=at,
            started_at=starts,
            scheduled_for=starts,
            scheduled_until=ends,
            auto_transition=auto_transition,
            target_version=target_version,
            created_by=actor,
        )
        AffectedComponent.objects.bulk_create(
            AffectedComponent(incident=maintenance, component=c) for c in found.values()
        )
        announcement = IncidentUpdate.objects.create(
            incident=maintenance,
            status="scheduled",
            body=body,
            created_at=at,
            display_at=at,
            actor=actor,
        )
        _touch(at)
        if target_version:
            # An upgrade is announced to its subscribers; other maintenance is told
            # when it starts and ends.
            subscriptions.notify(announcement)
    if auto_transition and starts <= at:
        advance_maintenances()
    return maintenance


def update_maintenance(
    maintenance: Incident,
    *,
    actor: User | None,
    status: str,
    body: str = "",
) -> IncidentUpdate:
    """Move a maintenance along scheduled → in progress → verifying → completed."""
    _require_manager(actor)
    if status not in MAINTENANCE_STATUSES:
        raise InvalidInput(
            f"{status!r} is not a maintenance status; use one of "
            f"{', '.join(MAINTENANCE_STATUSES)}.",
            field="status",
        )
    with transaction.atomic():
        maintenance = _locked(maintenance, Incident.Kind.MAINTENANCE)
        if status not in MAINTENANCE_NEXT[maintenance.status]:
            raise Conflict(
                f"A {maintenance.status} maintenance cannot move to {status}.", field="status"
            )
        return _move_maintenance(maintenance, status=status, body=body, actor=actor)


def _move_maintenance(
    maintenance: Incident, *, status: str, body: str, actor: User | None
) -> IncidentUpdate:
    at = now()
    body = (body or "").strip() or MAINTENANCE_WORDS.get(status, "")
    if not body:
        raise InvalidInput("Write the body.", field="body")
    components = list(Component.objects.filter(incidents=maintenance).order_by("pk"))
    changes: list[dict[str, str]] = []
    if status in MAINTENANCE_ACTIVE and maintenance.status == "scheduled":
        maintenance.started_at = at
        for component in components:
            entry = _entry(
                _change(
                    component, at=at, actor=actor, status="under_maintenance", incident=maintenance
                )
            )
            if entry:
                changes.append(entry)
    if status == "completed":
        maintenance.resolved_at = at
        links.on_resolved(maintenance)
        was_active = maintenance.status in MAINTENANCE_ACTIVE
        for component in components:
            if not was_active:
                continue  # completing a maintenance that never started cancels it
            restore = "operational" if component.status == "under_maintenance" else None
            entry = _entry(
                _change(
                    component,
                    at=at,
                    actor=actor,
                    status=restore,
                    version=maintenance.target_version or None,
                    incident=maintenance,
                )
            )
            if entry:
                changes.append(entry)
    maintenance.status = status
    return _post_update(maintenance, status, body, changes, actor=actor, at=at)


def advance_maintenances() -> list[IncidentUpdate]:
    """Start the maintenances that are due and complete those whose window has passed.

    Each is re-read under the write lock and moved only if still in the state the sweep
    found, so two workers running the sweep at once never move one twice.
    """
    at = now()
    updates = []
    due = Incident.objects.filter(kind=Incident.Kind.MAINTENANCE, auto_transition=True)
    starting = due.filter(status="scheduled", scheduled_for__lte=at).values_list("pk", flat=True)
    for pk in list(starting):
        with transaction.atomic():
            maintenance = Incident.objects.select_for_update().get(pk=pk)
            if maintenance.status == "scheduled":
                updates.append(
                    _move_maintenance(maintenance, status="in_progress", body="", actor=None)
                )
    ending = due.filter(status__in=MAINTENANCE_ACTIVE, scheduled_until__lte=at)
    for pk in list(ending.values_list("pk", flat=True)):
        with transaction.atomic():
            maintenance = Incident.objects.select_for_update().get(pk=pk)
            if maintenance.status in MAINTENANCE_ACTIVE:
                updates.append(
                    _move_maintenance(maintenance, status="completed", body="", actor=None)
                )
    return updates


def _post_update(
    incident: Incident,
    status: str,
    body: str,
    changes: list[dict[str, Any]],
    *,
    actor: User | None,
    at: datetime,
) -> IncidentUpdate:
    """Save the incident's new state, add its timestamped update and tell subscribers."""
    incident.updated_at = at
    incident.save()
    update = IncidentUpdate.objects.create(
        incident=incident,
        status=status,
        body=body,
        affected_components=changes or None,
        created_at=at,
        display_at=at,
        actor=actor,
    )
    _touch(at)
    subscriptions.notify(update)
    # Outgoing webhooks (incident.created, .updated, .resolved) hear of it after the commit.
    transaction.on_commit(partial(outgoing.incident_event, update.pk), robust=True)
    return update
