"""The append-only event log: every change to a ticket is written here, by the services."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from django.db import transaction

from caredesk.api import outgoing
from caredesk.core.prepared import insert
from caredesk.people.models import User
from caredesk.tickets.models import Event, Ticket


def record(ticket: Ticket, kind: str, /, *, actor: User | None, at: datetime, **data: Any) -> Event:
    event = Event(ticket=ticket, kind=kind, actor=actor, data=data, created_at=at)
    insert(event)  # the busiest INSERT of all: compiled once
    if webhook := outgoing.webhook_event(kind, data):
        # Webhooks hear of a change once it is committed (never of a rolled-back one); a
        # failure to queue them is logged and never fails the change itself.
        transaction.on_commit(partial(outgoing.ticket_event, event.pk, webhook), robust=True)
    return event


def latest_event_id() -> int:
    """The newest event's id: every change to any ticket writes one, so a ticket list drawn
    at a smaller id may be out of date. One lookup on the primary key."""
    return Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
