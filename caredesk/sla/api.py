"""SLA questions in the REST API: when would a clock be due, and why."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema

from caredesk.api.schemas import ErrorOut
from caredesk.core.clock import now
from caredesk.core.errors import InvalidInput
from caredesk.sla.services import compute_due

router = Router(tags=["sla"])


class DueQuery(Schema):
    target: Literal["first_response", "escalation"]
    channel: Literal["email", "phone", "portal", "api"] = "email"
    priority: Literal["low", "medium", "high", "critical"] = "medium"
    at: datetime | None = None


class DueOut(Schema):
    target: str
    channel: str
    priority: str
    received_at: datetime
    due_at: datetime
    calendar: str
    target_seconds: int
    emergency: bool
    explanation: str


@router.get(
    "/due",
    response={200: DueOut, 401: ErrorOut, 422: ErrorOut},
    summary="When would a clock be due",
)
def due(request: HttpRequest, query: Query[DueQuery]) -> dict[str, object]:
    """Answers "when will I hear back?": the due time of a first-response or escalation
    clock started at `at` (default now), from the same functions that keep the real clocks."""
    received = query.at or now()
    if received.tzinfo is None:
        raise InvalidInput("Give `at` with its offset, e.g. 2026-11-28T22:05:00-05:00.", field="at")
    found = compute_due(
        query.target, channel=query.channel, priority=query.priority, started_at=received
    )
    return {
        "target": query.target,
        "channel": query.channel,
        "priority": query.priority,
        "received_at": received,
        "due_at": found.due_at,
        "calendar": found.calendar,
        "target_seconds": int(found.target.total_seconds()),
        "emergency": found.emergency,
        "explanation": found.explanation,
    }
