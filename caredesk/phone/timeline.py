"""Calls in a ticket's timeline: when it rang, how long the caller waited, who answered,
how long they talked and how it ended."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from caredesk.phone.models import CallOutcome


def seconds_text(value: float | None) -> str:
    if value is None:
        return "—"
    total = round(value)
    minutes, secs = divmod(total, 60)
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def _clock(value: str | None) -> str:
    if not value:
        return "—"
    at = timezone.localtime(datetime.fromisoformat(value))
    return at.strftime("%H:%M:%S")


def describe_call(kind: str, data: dict[str, Any]) -> tuple[str, str | None, str]:
    """(text, linked ticket number, detail) for a call.* event."""
    caller = data.get("from") or "a withheld number"
    # An agent's outbound call: `from` holds the customer's number, the one called.
    call = f"call to {caller}" if data.get("direction") == "out" else f"call from {caller}"
    if kind == "call.answered":
        return (
            f"answered a call from {caller} after {seconds_text(data.get('wait_seconds'))}",
            None,
            f"rang {_clock(data.get('started_at'))}, answered {_clock(data.get('answered_at'))}"
            f" by {data.get('answered_by') or 'an unknown agent'}"
            f" ({data.get('routed_to') or 'not routed'})",
        )
    if kind == "call.ended":
        outcome = str(CallOutcome(data["outcome"]).label) if data.get("outcome") else "ended"
        return (
            f"{call} ended: {outcome.lower()}, talked {seconds_text(data.get('duration_seconds'))}",
            None,
            f"rang {_clock(data.get('started_at'))}, answered {_clock(data.get('answered_at'))},"
            f" ended {_clock(data.get('ended_at'))};"
            f" waited {seconds_text(data.get('wait_seconds'))}",
        )
    if kind == "call.attached":
        return f"attached the {call} to this ticket", None, ""
    if kind == "call.detached":
        return "moved the call to", data.get("to"), ""
    return kind.replace(".", " "), None, ""
