"""The public page's data in Statuspage's v2 shapes, and the cache they are served from.

Every status transaction bumps PageState.generation; a cached entry is good for as long
as the stamp it was built under (that generation, and the components' latest change, so a
model reload counts too) is current. One small query per request checks it, which keeps
the cache right across processes and hosts without a shared cache server.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Prefetch, QuerySet

from caredesk.servicemodel.models import ServiceSettings
from caredesk.status.models import (
    MAINTENANCE_ACTIVE,
    UNRESOLVED,
    AffectedComponent,
    Component,
    Environment,
    Incident,
    IncidentUpdate,
    PageState,
)
from caredesk.status.overall import Overall, overall, worst

RECENT = 50  # Statuspage's lists hold the 50 most recent

_lock = threading.Lock()
_memo: dict[str, Any] = {"stamp": None, "entries": {}}


def stamp() -> tuple[Any, ...]:
    """What the cache is keyed by; one query."""
    state, component = PageState._meta.db_table, Component._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT generation FROM {state} WHERE id = 1),"  # noqa: S608 (table names)
            f" (SELECT MAX(updated_at) FROM {component}), (SELECT COUNT(*) FROM {component})"
        )
        row = cursor.fetchone()
    return tuple(row or ())


def cached(
    key: str,
    build: Callable[[], Any],
    *,
    current: tuple[Any, ...] | None = None,
    tag: Any = None,
) -> Any:
    """`build()`'s result for the current stamp, built once per process per change.

    `tag` narrows an entry further (the HTML's minute); a new tag replaces the old entry.
    """
    current = stamp() if current is None else current
    with _lock:
        if _memo["stamp"] != current:
            _memo["stamp"], _memo["entries"] = current, {}
        hit = _memo["entries"].get(key)
        if hit is not None and hit[0] == tag:
            return hit[1]
    value = build()
    with _lock:
        if _memo["stamp"] == current:
            _memo["entries"][key] = (tag, value)
    return value


def forget() -> None:
    with _lock:
        _memo["stamp"], _memo["entries"] = None, {}


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Page:
    """One snapshot of the page: its settings, components and open or recent incidents."""

    def __init__(self) -> None:
        self.service = ServiceSettings.current()
        self.components = list(
            Component.objects.select_related("environment").order_by(
                "environment__position", "environment__key", "position", "name"
            )
        )
        self.environments = list(Environment.objects.all())
        state = PageState.objects.filter(pk=1).first()
        times = [c.updated_at for c in self.components]
        if state and state.updated_at:
            times.append(state.updated_at)
        self.updated_at = max(times, default=None)
        base = settings.BASE_URL + "/status"
        self.url = (self.service.status_page_url or base).rstrip("/")
        self.links = base
        self.id = hashlib.sha256(self.url.encode()).hexdigest()[:12]
        self._by_id = {c.pk: c for c in self.components}

    # --- shapes -------------------------------------------------------------------------

    def page(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.service.status_page_name or self.service.name,
            "url": self.url,
            "time_zone": self.service.time_zone or "Etc/UTC",
            "updated_at": iso(self.updated_at),
        }

    def component(self, c: Component) -> dict[str, Any]:
        return {
            "id": str(c.pk),
            "name": c.name,
            "status": c.status,
            "created_at": iso(c.created_at),
            "updated_at": iso(c.updated_at),
            "position": c.position + 1,
            "description": c.description or None,
            "showcase": True,
            "start_date": c.created_at.date().isoformat(),
            "group_id": c.environment_id,
            "page_id": self.id,
            "group": False,
            "only_show_if_degraded": False,
            "environment": c.environment_id,
            "version": c.version or None,
        }

    def group(self, env: Environment, members: list[Component]) -> dict[str, Any]:
        """An environment, as a Statuspage component group of its components."""
        return {
            "id": env.key,
            "name": env.name,
            "status": worst(c.status for c in members),
            "created_at": iso(min((c.created_at for c in members), default=None)),
            "updated_at": iso(max((c.updated_at for c in members), default=None)),
            "position": env.position + 1,
            "description": env.description or None,
            "showcase": False,
            "start_date": None,
            "group_id": None,
            "page_id": self.id,
            "group": True,
            "only_show_if_degraded": False,
            "components": [str(c.pk) for c in members],
            "environment": env.key,
            "version": None,
        }

    def all_components(self) -> list[dict[str, Any]]:
        out = []
        for env in self.environments:
            members = [c for c in self.components if c.environment_id == env.key]
            out.append(self.group(env, members))
            out.extend(self.component(c) for c in members)
        return out

    def update(self, u: IncidentUpdate) -> dict[str, Any]:
        return {
            "id": str(u.pk),
            "status": u.status,
            "body": u.body,
            "incident_id": str(u.incident_id),
            "created_at": iso(u.created_at),
            "updated_at": iso(u.created_at),
            "display_at": iso(u.display_at),
            "affected_components": u.affected_components,
            "deliver_notifications": u.deliver_notifications,
            "custom_tweet": None,
            "tweet_id": None,
        }

    def incident(self, i: Incident) -> dict[str, Any]:
        data = {
            "id": str(i.pk),
            "name": i.name,
            "status": i.status,
            "created_at": iso(i.created_at),
            "updated_at": iso(i.updated_at),
            "monitoring_at": iso(i.monitoring_at),
            "resolved_at": iso(i.resolved_at),
            "impact": i.impact,
            "shortlink": f"{self.url}/incidents/{i.pk}",
            "started_at": iso(i.started_at),
            "page_id": self.id,
            "incident_updates": [self.update(u) for u in i.updates.all()],
            "components": [
                self.component(self._by_id[a.component_id])
                for a in i.affected.all()
                if a.component_id in self._by_id
            ],
        }
        if i.is_maintenance:
            data["scheduled_for"] = iso(i.scheduled_for)
            data["scheduled_until"] = iso(i.scheduled_until)
        return data

    # --- queries ------------------------------------------------------------------------

    @staticmethod
    def incidents(kind: str) -> QuerySet[Incident]:
        return Incident.objects.filter(kind=kind).prefetch_related(
            Prefetch("updates", queryset=IncidentUpdate.objects.order_by("-display_at", "-id")),
            # The components themselves come from the page's own list, loaded once.
            Prefetch(
                "affected",
                queryset=AffectedComponent.objects.order_by(
                    "component__environment__position", "component__position", "component_id"
                ),
            ),
        )

    def open_incidents(self) -> list[Incident]:
        return list(
            self.incidents(Incident.Kind.INCIDENT)
            .filter(status__in=UNRESOLVED)
            .order_by("-created_at", "-id")
        )

    def recent_incidents(self) -> list[Incident]:
        return list(self.incidents(Incident.Kind.INCIDENT).order_by("-created_at", "-id")[:RECENT])

    def maintenances(self, statuses: Iterable[str] | None = None) -> list[Incident]:
        qs = self.incidents(Incident.Kind.MAINTENANCE)
        if statuses is None:
            return list(qs.order_by("-scheduled_for", "-id")[:RECENT])
        return list(qs.filter(status__in=list(statuses)).order_by("scheduled_for", "id"))

    def status(self, open_incidents: list[Incident] | None = None) -> Overall:
        if open_incidents is None:
            open_incidents = self.open_incidents()
        active = Incident.objects.filter(
            kind=Incident.Kind.MAINTENANCE, status__in=MAINTENANCE_ACTIVE
        ).exists()
        return overall(
            (c.status for c in self.components),
            (i.impact for i in open_incidents),
            maintenance_active=active,
        )

    # --- endpoints (Statuspage's /api/v2/…) ---------------------------------------------

    def summary_json(self) -> dict[str, Any]:
        unresolved = self.open_incidents()
        return {
            "page": self.page(),
            "components": self.all_components(),
            "incidents": [self.incident(i) for i in unresolved],
            "scheduled_maintenances": [
                self.incident(m) for m in self.maintenances(("scheduled", *MAINTENANCE_ACTIVE))
            ],
            "status": self.status(unresolved)._asdict(),
        }

    def status_json(self) -> dict[str, Any]:
        return {"page": self.page(), "status": self.status()._asdict()}

    def components_json(self) -> dict[str, Any]:
        return {"page": self.page(), "components": self.all_components()}

    def incidents_json(self) -> dict[str, Any]:
        return {
            "page": self.page(),
            "incidents": [self.incident(i) for i in self.recent_incidents()],
        }

    def unresolved_json(self) -> dict[str, Any]:
        return {"page": self.page(), "incidents": [self.incident(i) for i in self.open_incidents()]}

    def maintenances_json(self, statuses: Iterable[str] | None = None) -> dict[str, Any]:
        return {
            "page": self.page(),
            "scheduled_maintenances": [self.incident(m) for m in self.maintenances(statuses)],
        }


ENDPOINTS: dict[str, Callable[[Page], dict[str, Any]]] = {
    "summary.json": Page.summary_json,
    "status.json": Page.status_json,
    "components.json": Page.components_json,
    "incidents.json": Page.incidents_json,
    "incidents/unresolved.json": Page.unresolved_json,
    "scheduled-maintenances.json": lambda p: p.maintenances_json(),
    "scheduled-maintenances/upcoming.json": lambda p: p.maintenances_json(("scheduled",)),
    "scheduled-maintenances/active.json": lambda p: p.maintenances_json(MAINTENANCE_ACTIVE),
}


def endpoint(name: str) -> tuple[bytes, str]:
    """The endpoint's JSON body and its ETag, from the cache."""

    def build() -> tuple[bytes, str]:
        body = json.dumps(ENDPOINTS[name](Page()), separators=(",", ":")).encode()
        return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'

    value: tuple[bytes, str] = cached(f"json:{name}", build)
    return value


def endpoint_bytes(name: str) -> bytes:
    """The endpoint's JSON body, from the cache."""
    return endpoint(name)[0]
