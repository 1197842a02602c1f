"""What the public HTML pages show, gathered in a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import F, Q

from caredesk.status import uptime
from caredesk.status.models import (
    MAINTENANCE_ACTIVE,
    UNRESOLVED,
    Component,
    ComponentChange,
    Environment,
    Incident,
)
from caredesk.status.overall import overall, worst
from caredesk.status.public import Page

DAYS = 90
PAST_DAYS = 7


@dataclass
class UptimeView:
    percent: str  # "99.95%", or "no data"
    cells: list[tuple[str, str]]  # (status class, tooltip) per day, oldest first
    issues: list[str]  # the days with downtime or degradation, spelled out


def zone_of(page: Page) -> ZoneInfo:
    return ZoneInfo(page.service.time_zone or "UTC")


def bars(components: list[Component], now: datetime, zone: ZoneInfo) -> dict[int, uptime.Bar]:
    start, _ = uptime.day_bounds(now.astimezone(zone).date() - timedelta(days=DAYS - 1), zone)
    changes: dict[int, list[uptime.Change]] = defaultdict(list)
    rows = (
        ComponentChange.objects.filter(component__in=[c.pk for c in components], at__gt=start)
        .exclude(old_status=F("status"))  # a deploy alone leaves the bar as it was
        .order_by("at", "id")
        .values_list("component_id", "at", "old_status", "status")
    )
    for pk, at, old, new in rows:
        changes[pk].append(uptime.Change(at, old, new))
    return {
        c.pk: uptime.bar(
            current=c.status,
            since=c.created_at,
            changes=changes[c.pk],
            now=now,
            zone=zone,
            days=DAYS,
        )
        for c in components
    }


def view_of(bar: uptime.Bar) -> UptimeView:
    percent = "no data" if bar.uptime is None else f"{bar.uptime * 100:.2f}%"
    cells = [(day.worst or "nodata", uptime.describe(day)) for day in bar.days]
    issues = [uptime.describe(d) for d in bar.days if d.worst not in (None, "operational")]
    return UptimeView(percent, cells, issues[::-1])


def _open_items(page: Page, env: Environment | None) -> dict[str, list[Incident]]:
    qs = Incident.objects.prefetch_related("updates", "affected")
    if env is not None:
        qs = qs.filter(Q(environment=env) | Q(affected__component__environment=env)).distinct()
    items = list(
        qs.filter(
            Q(kind=Incident.Kind.INCIDENT, status__in=UNRESOLVED)
            | Q(kind=Incident.Kind.MAINTENANCE, status__in=("scheduled", *MAINTENANCE_ACTIVE))
        ).order_by("-created_at")
    )
    return {
        "incidents": [i for i in items if not i.is_maintenance],
        "active_maintenance": [i for i in items if i.status in MAINTENANCE_ACTIVE],
        "upcoming_maintenance": sorted(
            (i for i in items if i.status == "scheduled"),
            key=lambda i: i.scheduled_for or i.started_at,
        ),
    }


def _past(env: Environment | None, since: datetime, limit: int = 50) -> list[Incident]:
    qs = Incident.objects.filter(started_at__gte=since).exclude(
        kind=Incident.Kind.MAINTENANCE, status="scheduled"
    )
    if env is not None:
        qs = qs.filter(Q(environment=env) | Q(affected__component__environment=env)).distinct()
    return list(qs.prefetch_related("updates").order_by("-started_at", "-id")[:limit])


def by_day(items: list[Incident], now: datetime, zone: ZoneInfo) -> list[tuple[Any, list]]:
    today = now.astimezone(zone).date()
    days: list[tuple[Any, list]] = []
    for n in range(PAST_DAYS):
        day = today - timedelta(days=n)
        days.append((day, [i for i in items if i.started_at.astimezone(zone).date() == day]))
    return days


def overview(page: Page, now: datetime) -> dict[str, Any]:
    zone = zone_of(page)
    components = page.components
    all_bars = bars(components, now, zone)
    names: list[str] = []
    for c in components:
        if c.name not in names:
            names.append(c.name)
    cell = {(c.environment_id, c.name): c for c in components}
    envs = []
    for env in page.environments:
        members = [c for c in components if c.environment_id == env.key]
        envs.append(
            {
                "env": env,
                "components": members,
                "status": worst(c.status for c in members),
                "uptime": view_of(uptime.combined(all_bars[c.pk] for c in members)),
            }
        )
    open_items = _open_items(page, None)
    return {
        "page": page,
        "overall": page.status(open_items["incidents"]),
        "matrix": [
            (name, [cell.get((env.key, name)) for env in page.environments]) for name in names
        ],
        "environments": envs,
        "past": by_day(_past(None, now - timedelta(days=PAST_DAYS)), now, zone),
        **open_items,
    }


def environment(page: Page, env: Environment, now: datetime) -> dict[str, Any]:
    zone = zone_of(page)
    members = [c for c in page.components if c.environment_id == env.key]
    env_bars = bars(members, now, zone)
    open_items = _open_items(page, env)
    deploys = list(
        ComponentChange.objects.filter(component__environment=env)
        .exclude(version=F("old_version"))
        .select_related("component")
        .order_by("-at", "-id")[:20]
    )
    return {
        "page": page,
        "env": env,
        "overall": overall(
            (c.status for c in members),
            (i.impact for i in open_items["incidents"]),
            maintenance_active=bool(open_items["active_maintenance"]),
        ),
        "components": [{"component": c, "uptime": view_of(env_bars[c.pk])} for c in members],
        "deploys": deploys,
        "past": _past(env, now - timedelta(days=DAYS), limit=20),
        **open_items,
    }
