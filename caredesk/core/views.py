"""Health endpoints, open without sign-in."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse


def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> HttpResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any failure means not ready; say which
        return JsonResponse({"status": "unavailable", "database": str(exc)}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text exposition: open work, SLA state and the background queue."""
    from django.db.models import Count, Q
    from huey.contrib.djhuey import HUEY

    from caredesk.core.clock import now
    from caredesk.sla.models import Clock
    from caredesk.tickets.models import Ticket
    from caredesk.tickets.states import ACTIVE

    at = now()
    lines = [
        "# HELP caredesk_tickets_open Tickets not resolved or closed, by type and status.",
        "# TYPE caredesk_tickets_open gauge",
    ]
    open_tickets = (
        Ticket.objects.filter(status__in=ACTIVE)
        .values("type_id", "status")
        .annotate(n=Count("id"))
        .order_by("type_id", "status")
    )
    for row in open_tickets:
        lines.append(
            f'caredesk_tickets_open{{type="{row["type_id"]}",status="{row["status"]}"}} {row["n"]}'
        )
    running = Clock.objects.filter(stopped_at__isnull=True).aggregate(
        running=Count("id"),
        overdue=Count("id", filter=Q(due_at__lte=at)),
    )
    breaches = Clock.objects.filter(outcome="breached").values("kind").annotate(n=Count("id"))
    lines += [
        "# HELP caredesk_sla_clocks_running SLA clocks still running.",
        "# TYPE caredesk_sla_clocks_running gauge",
        f"caredesk_sla_clocks_running {running['running']}",
        "# HELP caredesk_sla_clocks_overdue Running SLA clocks past their due time.",
        "# TYPE caredesk_sla_clocks_overdue gauge",
        f"caredesk_sla_clocks_overdue {running['overdue']}",
        "# HELP caredesk_sla_breaches_total SLA clocks that breached, by target.",
        "# TYPE caredesk_sla_breaches_total counter",
    ]
    lines += [f'caredesk_sla_breaches_total{{kind="{b["kind"]}"}} {b["n"]}' for b in breaches]
    lines += [
        "# HELP caredesk_queue_pending Background tasks waiting in the queue.",
        "# TYPE caredesk_queue_pending gauge",
        f"caredesk_queue_pending {HUEY.pending_count()}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; version=0.0.4")
