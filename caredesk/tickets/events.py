"""The append-only event log: every change to a ticket is written here, by the services."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from caredesk.people.models import User
from caredesk.tickets.models import Event, Ticket


def record(ticket: Ticket, kind: str, /, *, actor: User | None, at: datetime, **data: Any) -> Event:
    return Event.objects.create(ticket=ticket, kind=kind, actor=actor, data=data, created_at=at)
