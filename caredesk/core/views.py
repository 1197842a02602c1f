"""Health endpoints, open without sign-in."""

from __future__ import annotations

import os
from datetime import datetime

from django.http import HttpRequest, HttpResponse, JsonResponse


def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> HttpResponse:
    """200 when the database and queue answer, a worker beats and no mail is stuck; else
    503 naming what is wrong."""
    from caredesk.core.health import readiness

    found = readiness()
    body = {"status": "ok" if found.ready else "unavailable", **found.checks}
    return JsonResponse(body, status=200 if found.ready else 503)


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
    lines += _worker_and_mail_lines(at)
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; version=0.0.4")


def _worker_and_mail_lines(at: datetime) -> list[str]:
    from caredesk.core import health

    age = health.heartbeat_age(at)
    lines = [
        "# HELP caredesk_worker_up 1 while a worker's heartbeat is fresh (under 3 minutes).",
        "# TYPE caredesk_worker_up gauge",
        f"caredesk_worker_up {int(age is not None and age < health.HEARTBEAT_STALE.seconds)}",
    ]
    if age is not None:
        lines += [
            "# HELP caredesk_worker_heartbeat_age_seconds Seconds since a worker last beat; the"
            " beat waits in the queue with all other work, so this grows when the worker lags.",
            "# TYPE caredesk_worker_heartbeat_age_seconds gauge",
            f"caredesk_worker_heartbeat_age_seconds {age:.1f}",
        ]
    lines += [
        "# HELP caredesk_intake_messages_total Inbound emails taken in, by source and outcome.",
        "# TYPE caredesk_intake_messages_total counter",
    ]
    lines += [
        f'caredesk_intake_messages_total{{source="{source}",status="{status}"}} {n}'
        for (source, status), n in health.intake_counts().items()
    ]
    lines += [
        "# HELP caredesk_outbound_mail Outgoing mails by state.",
        "# TYPE caredesk_outbound_mail gauge",
    ]
    lines += [
        f'caredesk_outbound_mail{{state="{state}"}} {n}'
        for state, n in health.outbound_counts().items()
    ]
    lines += [
        "# HELP caredesk_outbound_mail_stuck Mails due for sending over 10 minutes ago.",
        "# TYPE caredesk_outbound_mail_stuck gauge",
        f"caredesk_outbound_mail_stuck {health.stuck_outbound(at)}",
        "# HELP caredesk_http_requests_total Requests this web process answered (per pid).",
        "# TYPE caredesk_http_requests_total counter",
    ]
    pid = os.getpid()
    for (method, code), n in sorted(health.requests_served().items()):
        lines.append(
            f'caredesk_http_requests_total{{pid="{pid}",method="{method}",code="{code}"}} {n}'
        )
    return lines
