"""In-desk notices: posted by the SLA notify task, counted in the nav, read on the notices page."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import QuerySet

from caredesk.core.clock import now
from caredesk.desk.models import NoticeKind, Notification
from caredesk.people.models import User
from caredesk.sla.models import Clock

RECENT = 100


def post_sla_notices(clock: Clock, what: str, people: Iterable[User]) -> None:
    """One notice per person for a clock's warning or breach (`what` is the sweep's word)."""
    kind = NoticeKind.BREACH if what == "breach" else NoticeKind.WARNING
    ticket = clock.ticket
    text = f"{kind.label}: {clock.get_kind_display().lower()} — {ticket.subject}"[:300]
    at = now()
    Notification.objects.bulk_create(
        [
            Notification(user=p, ticket=ticket, clock=clock, kind=kind, text=text, created_at=at)
            for p in people
        ],
        ignore_conflicts=True,  # a retried task finds the rows of its first attempt
    )


def unread_count(user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def recent(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user).select_related("ticket")[:RECENT]


def mark_read(user: User, ids: list[int], *, at: datetime | None = None) -> int:
    """Mark the user's own notices read; the count changed."""
    if not ids:
        return 0
    return Notification.objects.filter(user=user, pk__in=ids, read_at__isnull=True).update(
        read_at=at or now()
    )
