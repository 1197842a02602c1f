"""Ticket statuses and the moves allowed between them."""

from __future__ import annotations

from django.db import models


class Status(models.TextChoices):
    NEW = "new", "New"
    OPEN = "open", "Open"
    WAITING_ON_CUSTOMER = "waiting_on_customer", "Waiting on customer"
    ESCALATED = "escalated", "Escalated"  # a case whose escalation is open
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"


S = Status
TRANSITIONS: dict[str, frozenset[str]] = {
    S.NEW: frozenset({S.OPEN, S.WAITING_ON_CUSTOMER, S.ESCALATED, S.RESOLVED}),
    S.OPEN: frozenset({S.WAITING_ON_CUSTOMER, S.ESCALATED, S.RESOLVED}),
    S.WAITING_ON_CUSTOMER: frozenset({S.OPEN, S.ESCALATED, S.RESOLVED}),
    S.ESCALATED: frozenset({S.OPEN, S.WAITING_ON_CUSTOMER, S.RESOLVED}),
    S.RESOLVED: frozenset({S.OPEN, S.CLOSED}),
    S.CLOSED: frozenset(),  # final: a later inquiry opens a new case
}
ACTIVE = frozenset({S.NEW, S.OPEN, S.WAITING_ON_CUSTOMER, S.ESCALATED})


def can_move(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())
