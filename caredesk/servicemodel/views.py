"""The service model at a glance, for admins."""

from __future__ import annotations

from django.contrib.admin import site
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from caredesk.servicemodel.durations import format_duration
from caredesk.servicemodel.models import (
    WEEKDAYS,
    Calendar,
    Category,
    ChannelTarget,
    PriorityLevel,
    ServiceSettings,
    Team,
    TicketType,
)
from caredesk.status.models import Environment


def summary(request: HttpRequest) -> HttpResponse:
    types = TicketType.objects.select_related("team", "counter")
    context = {
        **site.each_context(request),
        "title": "Service model",
        "settings": ServiceSettings.current(),
        "types": [
            {
                "obj": t,
                "first": t.format_number(t.first_number),
                "next": t.format_number(t.counter.next_number) if hasattr(t, "counter") else "—",
            }
            for t in types
        ],
        "teams": Team.objects.select_related("calendar"),
        "calendars": [
            {
                "obj": c,
                "week": [(day, ", ".join(c.hours.get(day, [])) or "closed") for day in WEEKDAYS],
                "public_holidays": c.public_holidays_label(),
                "exceptions": c.exception_labels(),
            }
            for c in Calendar.objects.all()
        ],
        "priorities": [
            {
                "obj": p,
                "target": format_duration(p.escalation_target),
                "emergency": format_duration(p.emergency_escalation_target),
            }
            for p in PriorityLevel.objects.select_related("escalation_calendar")
        ],
        "channels": [
            {"obj": ch, "target": format_duration(ch.first_response_target)}
            for ch in ChannelTarget.objects.select_related("first_response_calendar")
        ],
        "categories": Category.objects.select_related("ticket_type"),
        "environments": Environment.objects.prefetch_related("components"),
    }
    return TemplateResponse(request, "servicemodel/summary.html", context)
