"""Status page management in the REST API (/api/v1/status/…): thin adapters over services.

For deploy pipelines and incident tooling: set a component's status or version, open and
update incidents (Statuspage's management shape: `components` maps component ids to their
new status), schedule and move maintenance. Managers and admins only, with a token whose
scope is `status` or `all`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Router, Schema, Status

from caredesk.api.auth import TokenAuth
from caredesk.core import audit
from caredesk.core.errors import Forbidden, NotFound
from caredesk.people.models import ApiToken, TokenScope, User
from caredesk.status import public, services
from caredesk.status.models import Component, Incident


class ErrorOut(Schema):
    message: str
    field: str | None = None


class ComponentOut(Schema):
    id: str
    name: str
    status: str
    environment: str
    version: str | None
    description: str | None
    position: int
    group_id: str | None
    created_at: str
    updated_at: str


class AffectedOut(Schema):
    code: str
    name: str
    old_status: str
    new_status: str


class UpdateOut(Schema):
    id: str
    status: str
    body: str
    incident_id: str
    created_at: str
    display_at: str
    affected_components: list[AffectedOut] | None


class IncidentOut(Schema):
    id: str
    name: str
    status: str
    impact: str
    created_at: str
    updated_at: str
    started_at: str
    monitoring_at: str | None
    resolved_at: str | None
    shortlink: str
    scheduled_for: str | None = None
    scheduled_until: str | None = None
    incident_updates: list[UpdateOut]
    components: list[ComponentOut]


class ComponentIn(Schema):
    status: str | None = None
    version: str | None = None


class IncidentIn(Schema):
    name: str
    body: str
    status: str = "investigating"
    impact: str | None = None
    environment: str | None = None
    components: dict[str, str] = {}


class IncidentUpdateIn(Schema):
    status: str
    body: str
    impact: str | None = None
    components: dict[str, str] = {}


class MaintenanceIn(Schema):
    name: str
    body: str
    scheduled_for: datetime
    scheduled_until: datetime
    components: list[str]
    target_version: str = ""
    environment: str | None = None
    auto_transition: bool = True


class MaintenanceUpdateIn(Schema):
    status: str
    body: str = ""


router = Router(tags=["status"], auth=TokenAuth("status"))
ERRORS: dict[int, type[Schema]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ErrorOut,
}


def _manager(request: HttpRequest) -> User:
    token = getattr(request, "auth", None)
    if isinstance(token, ApiToken) and token.scope not in (TokenScope.STATUS, TokenScope.ALL):
        raise Forbidden(
            f"This token's scope ({token.scope}) does not manage the status page; "
            "create one with --scope status."
        )
    user = request.user
    assert isinstance(user, User)
    if not services.can_manage(user):
        raise Forbidden("Only managers and admins may change the status page.")
    return user


def _component(component_id: int) -> Component:
    found = Component.objects.select_related("environment").filter(pk=component_id).first()
    if found is None:
        raise NotFound(f"There is no component {component_id}.")
    return found


def _incident(pk: int, kind: str) -> Incident:
    found = Incident.objects.filter(pk=pk, kind=kind).first()
    if found is None:
        raise NotFound(f"There is no {kind} {pk}.")
    return found


def _incident_json(incident: Incident) -> dict[str, Any]:
    page = public.Page()
    fresh = page.incidents(incident.kind).get(pk=incident.pk)
    return page.incident(fresh)


@router.get("/components", response={200: list[ComponentOut], **ERRORS}, summary="Components")
def list_components(request: HttpRequest) -> list[dict[str, Any]]:
    """Every component with its id, environment and version (the ids the other calls take)."""
    _manager(request)
    page = public.Page()
    return [page.component(c) for c in page.components]


@router.post(
    "/components/{component_id}",
    response={200: ComponentOut, **ERRORS},
    summary="Set a component's status or version",
)
def set_component(request: HttpRequest, component_id: int, payload: ComponentIn) -> dict[str, Any]:
    """A deploy pipeline's call: `{"version": "12.1"}`, `{"status": "partial_outage"}` or both.
    Each change is recorded in the component's history."""
    return _set(request, _component(component_id), payload)


@router.post(
    "/environments/{environment}/components/{name}",
    response={200: ComponentOut, **ERRORS},
    summary="Set a component's status or version, by environment and name",
)
def set_component_by_name(
    request: HttpRequest, environment: str, name: str, payload: ComponentIn
) -> dict[str, Any]:
    return _set(request, services.component_by_name(environment, name), payload)


def _set(request: HttpRequest, component: Component, payload: ComponentIn) -> dict[str, Any]:
    actor = _manager(request)
    with transaction.atomic():
        before = audit.snapshot(component)
        component = services.set_component(
            component, actor=actor, status=payload.status, version=payload.version
        )
        after = audit.snapshot(component)
        if before != after:
            audit.record(
                actor=actor, source="api", action="changed", obj=component,
                before=before, after=after,
            )  # fmt: skip
    return public.Page().component(component)


@router.post("/incidents", response={201: IncidentOut, **ERRORS}, summary="Open an incident")
def create_incident(request: HttpRequest, payload: IncidentIn) -> Status[dict[str, Any]]:
    """`components` maps component ids to the status each is now in; the impact, when not
    given, follows the worst of them."""
    actor = _manager(request)
    incident = services.create_incident(
        actor=actor,
        name=payload.name,
        body=payload.body,
        status=payload.status,
        impact=payload.impact,
        environment=payload.environment,
        components=payload.components,
    )
    return Status(201, _incident_json(incident))


@router.get(
    "/incidents/{incident_id}", response={200: IncidentOut, **ERRORS}, summary="One incident"
)
def get_incident(request: HttpRequest, incident_id: int) -> dict[str, Any]:
    _manager(request)
    return _incident_json(_incident(incident_id, Incident.Kind.INCIDENT))


@router.post(
    "/incidents/{incident_id}/updates",
    response={201: IncidentOut, **ERRORS},
    summary="Post an incident update",
)
def update_incident(
    request: HttpRequest, incident_id: int, payload: IncidentUpdateIn
) -> Status[dict[str, Any]]:
    """A new status and message; resolving puts the incident's components back to
    operational unless `components` says otherwise."""
    actor = _manager(request)
    incident = _incident(incident_id, Incident.Kind.INCIDENT)
    services.update_incident(
        incident,
        actor=actor,
        status=payload.status,
        body=payload.body,
        impact=payload.impact,
        components=payload.components,
    )
    return Status(201, _incident_json(incident))


@router.post(
    "/maintenances", response={201: IncidentOut, **ERRORS}, summary="Schedule a maintenance"
)
def create_maintenance(request: HttpRequest, payload: MaintenanceIn) -> Status[dict[str, Any]]:
    """With `target_version` it is an upgrade: the components take that version when it
    completes. It starts and completes on time unless `auto_transition` is false."""
    actor = _manager(request)
    maintenance = services.schedule_maintenance(
        actor=actor,
        name=payload.name,
        body=payload.body,
        scheduled_for=payload.scheduled_for,
        scheduled_until=payload.scheduled_until,
        components=payload.components,
        target_version=payload.target_version,
        environment=payload.environment,
        auto_transition=payload.auto_transition,
    )
    return Status(201, _incident_json(maintenance))


@router.get(
    "/maintenances/{maintenance_id}",
    response={200: IncidentOut, **ERRORS},
    summary="One maintenance",
)
def get_maintenance(request: HttpRequest, maintenance_id: int) -> dict[str, Any]:
    _manager(request)
    return _incident_json(_incident(maintenance_id, Incident.Kind.MAINTENANCE))


@router.post(
    "/maintenances/{maintenance_id}/updates",
    response={201: IncidentOut, **ERRORS},
    summary="Move a maintenance along",
)
def update_maintenance(
    request: HttpRequest, maintenance_id: int, payload: MaintenanceUpdateIn
) -> Status[dict[str, Any]]:
    """scheduled → in_progress → verifying → completed; completing one that never started
    cancels it."""
    actor = _manager(request)
    maintenance = _incident(maintenance_id, Incident.Kind.MAINTENANCE)
    services.update_maintenance(maintenance, actor=actor, status=payload.status, body=payload.body)
    return Status(201, _incident_json(maintenance))


# The subscriber and linked-ticket endpoints live beside this module, on the same router.
from caredesk.status import api_subscribers, api_tickets  # noqa: E402, F401
