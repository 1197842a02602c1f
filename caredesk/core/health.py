"""Is this instance ready to work? The facts behind /readyz and /metrics.

The worker proves it lives by a heartbeat: once a minute (and when it starts) it writes
the time into the queue's own key-value store, which every web host reads, whether the
queue is SQLite (embedded) or Redis (scaled). Mail that should have left long ago means
the worker is not sending; nothing can wait half-parsed in intake, because a message is
stored and parsed in one transaction (caredesk.mail.intake).
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from threading import Lock
from typing import Any

from django.db import connection
from huey.contrib.djhuey import HUEY

from caredesk.core.clock import now

HEARTBEAT_KEY = "caredesk.worker.heartbeat"
HEARTBEAT_STALE = timedelta(minutes=3)  # three missed beats: the worker is down or stuck
OUTBOUND_STUCK = timedelta(minutes=10)  # mail due this long ago and still not tried


def beat(*, at: datetime | None = None) -> None:
    """Record that a worker is alive. The periodic beat waits in the same queue as all other
    work, so a worker that falls behind shows as a growing heartbeat age: that age is the
    worker's lag, give or take the minute between beats."""
    at = at or now()
    HUEY.put(HEARTBEAT_KEY, {"at": at.isoformat(), "pid": os.getpid()})


def heartbeat() -> dict[str, Any] | None:
    value = HUEY.get(HEARTBEAT_KEY, peek=True)
    return value if isinstance(value, dict) else None


def heartbeat_age(at: datetime) -> float | None:
    """Seconds since a worker last beat, or None when no worker ever did."""
    last = heartbeat()
    if last is None:
        return None
    return max(0.0, (at - datetime.fromisoformat(last["at"])).total_seconds())


def stuck_outbound(at: datetime) -> int:
    """Outgoing mails due for sending more than OUTBOUND_STUCK ago."""
    from caredesk.mail.models import OutboundMail

    waiting = (OutboundMail.State.QUEUED, OutboundMail.State.FAILED)
    return OutboundMail.objects.filter(
        state__in=waiting, next_attempt_at__lt=at - OUTBOUND_STUCK
    ).count()


def intake_counts() -> dict[tuple[str, str], int]:
    """Inbound emails by (source, status), for /metrics."""
    from django.db.models import Count

    from caredesk.mail.models import InboundEmail

    rows = InboundEmail.objects.values_list("source", "status").annotate(n=Count("id"))
    return {(source, status): n for source, status, n in rows.order_by("source", "status")}


def outbound_counts() -> dict[str, int]:
    """Outgoing mails by state, for /metrics."""
    from django.db.models import Count

    from caredesk.mail.models import OutboundMail

    rows = OutboundMail.objects.values_list("state").annotate(n=Count("id")).order_by("state")
    return dict(rows)


@dataclass
class Readiness:
    ready: bool = True
    checks: dict[str, str] = field(default_factory=dict)

    def fail(self, name: str, why: str) -> None:
        self.ready = False
        self.checks[name] = why


def readiness(*, at: datetime | None = None) -> Readiness:
    """Database and queue reachable, a worker's heartbeat fresh, no mail stuck."""
    at = at or now()
    result = Readiness()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        result.checks["database"] = "ok"
    except Exception as exc:  # any failure means not ready; say which
        result.fail("database", str(exc))
        return result  # the other checks read the database too
    try:
        HUEY.pending_count()
        age = heartbeat_age(at)
        result.checks["queue"] = "ok"
    except Exception as exc:
        result.fail("queue", str(exc))
        age = None
    if "queue" in result.checks and age is None:
        result.fail("worker", "no worker has reported yet; start `caredesk worker`")
    elif age is not None and age > HEARTBEAT_STALE.total_seconds():
        result.fail("worker", f"the last worker heartbeat was {age:.0f} s ago")
    elif age is not None:
        result.checks["worker"] = "ok"
    stuck = stuck_outbound(at)
    if stuck:
        result.fail("outbound_mail", f"{stuck} mails waiting more than 10 minutes to be sent")
    else:
        result.checks["outbound_mail"] = "ok"
    return result


# --- HTTP requests, counted per process --------------------------------------------------

_requests: Counter[tuple[str, str]] = Counter()
_requests_lock = Lock()


def count_request(method: str, status: int) -> None:
    with _requests_lock:
        _requests[(method, f"{status // 100}xx")] += 1


def requests_served() -> dict[tuple[str, str], int]:
    with _requests_lock:
        return dict(_requests)


class RequestCounter:
    """Middleware: counts answered requests by method and status class in this process."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        response = self.get_response(request)
        count_request(request.method or "GET", response.status_code)
        return response
