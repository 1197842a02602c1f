from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django import template

from caredesk.status import services, surges, uptime
from caredesk.status.models import MAINTENANCE_OPEN, UNRESOLVED, ComponentStatus, Incident
from caredesk.status.surges import Surge
from caredesk.tickets.models import Ticket

register = template.Library()


@register.filter
def status_label(value: str) -> str:
    """A component status's words: "partial_outage" reads "Partial outage"."""
    try:
        return str(ComponentStatus(value).label)
    except ValueError:
        return value


@register.filter
def status_window(value: timedelta) -> str:
    """A surge window in words: 30 minutes, 1 hour, 1 h 30 min."""
    minutes = int(value.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return uptime.duration(value.total_seconds())


@register.filter
def surge_query(surge: Surge) -> str:
    """The query that opens the incident composer prefilled from a surge."""
    params: list[tuple[str, str]] = [("environment", surge.environment.key)]
    params += [("component", str(c.pk)) for c in surge.components]
    params += [("ticket", number) for number in surge.numbers]
    return urlencode(params)


@register.inclusion_tag("status/_desk_surges.html", takes_context=True)
def status_surges(context: template.Context) -> dict[str, Any]:
    """The surge notices every desk page shows (the status editor shows them itself)."""
    request = context["request"]
    user = request.user
    match = getattr(request, "resolver_match", None)
    if not getattr(user, "is_agent", False) or (match and match.namespace == "desk:status"):
        return {"surges": []}
    return {
        "surges": surges.surges(),
        "can_manage": services.can_manage(user),
        "csrf_token": context.get("csrf_token"),
        "request": request,
    }


@register.inclusion_tag("status/_desk_ticket_incidents.html", takes_context=True)
def ticket_incidents(context: template.Context, ticket: Ticket) -> dict[str, Any]:
    """A ticket page's incidents: those it is linked to, and the open ones to link it to."""
    linked = list(Incident.objects.filter(links__ticket=ticket).order_by("-started_at", "-id"))
    open_items = (
        Incident.objects.filter(status__in=(*UNRESOLVED, *MAINTENANCE_OPEN))
        .exclude(pk__in=[i.pk for i in linked])
        .order_by("-started_at", "-id")
    )
    return {
        "ticket": ticket,
        "linked": linked,
        "open": list(open_items),
        "csrf_token": context.get("csrf_token"),
    }
