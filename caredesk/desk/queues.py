"""The desk's ticket lists: which tickets a queue holds, filters and search, the order by SLA
urgency, keyset pages over that order, and the stamp that tells a list it is out of date."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import F, OuterRef, Q, QuerySet, Subquery

from caredesk.core.errors import InvalidInput
from caredesk.people.models import User
from caredesk.servicemodel.choices import EMERGENCY_TEAM
from caredesk.servicemodel.models import Team
from caredesk.sla.models import Clock
from caredesk.tickets.models import Event, Ticket
from caredesk.tickets.states import ACTIVE, Status

MAX_SEARCH_WORDS = 6
# "Breaching soon": a running clock due within this long, or already past due.
SOON = timedelta(hours=1)


@dataclass(frozen=True)
class Queue:
    key: str
    name: str
    group: str  # "team" or "personal"


PERSONAL = [
    Queue("mine", "Mine", "personal"),
    Queue("unassigned", "Unassigned", "personal"),
    Queue("breaching", "Breaching soon", "personal"),
    Queue("waiting", "Waiting on customer", "personal"),
    Queue("escalated", "Escalated", "personal"),
    Queue("all", "All tickets", "personal"),
]


def all_queues() -> list[Queue]:
    return [Queue(t.key, t.name, "team") for t in Team.objects.all()] + PERSONAL


def default_queue(user: User, queues: list[Queue]) -> str:
    keys = {q.key for q in queues}
    return user.team_id if user.team_id in keys else "all"


def next_due() -> Subquery:
    """The earliest due time among a ticket's running clocks (none while paused or stopped)."""
    running = Clock.objects.filter(
        ticket=OuterRef("pk"), stopped_at__isnull=True, due_at__isnull=False
    ).order_by("due_at")
    return Subquery(running.values("due_at")[:1])


def with_urgency(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    return tickets.annotate(next_due=next_due())


def in_queue(
    tickets: QuerySet[Ticket], key: str, user: User, *, open_only: bool, at: datetime
) -> QuerySet[Ticket]:
    """The tickets of a queue; every queue but "all" holds open tickets unless a status filter
    asks for others. `tickets` carries the `next_due` annotation."""
    if key == "all":
        return tickets
    if key == "waiting":
        return tickets.filter(status=Status.WAITING_ON_CUSTOMER)
    if key == "escalated":
        return tickets.filter(status=Status.ESCALATED)
    if key == "mine":
        tickets = tickets.filter(assignee=user)
    elif key == "unassigned":
        tickets = tickets.filter(assignee__isnull=True)
    elif key == "breaching":
        tickets = tickets.filter(Q(next_due__lte=at + SOON))
    elif key != EMERGENCY_TEAM:
        # Emergency Care covers every team, so its queue is every open ticket.
        tickets = tickets.filter(team_id=key)
    return tickets.filter(status__in=ACTIVE) if open_only else tickets


def filtered(tickets: QuerySet[Ticket], filters: dict[str, Any], user: User) -> QuerySet[Ticket]:
    """The filter form's choices, each one narrowing the list."""
    if filters.get("team"):
        tickets = tickets.filter(team_id=filters["team"])
    if filters.get("status"):
        tickets = tickets.filter(status=filters["status"])
    if filters.get("priority"):
        tickets = tickets.filter(priority=filters["priority"])
    assignee = filters.get("assignee") or ""
    if assignee == "me":
        tickets = tickets.filter(assignee=user)
    elif assignee == "none":
        tickets = tickets.filter(assignee__isnull=True)
    elif assignee.isdigit():
        tickets = tickets.filter(assignee_id=int(assignee))
    if filters.get("organization"):
        tickets = tickets.filter(organization=filters["organization"])
    return tickets


def search(tickets: QuerySet[Ticket], text: str) -> QuerySet[Ticket]:
    """Every word must appear in the subject, the description, or the requester's name or
    address, or the organization's name."""
    for word in text.split()[:MAX_SEARCH_WORDS]:
        tickets = tickets.filter(
            Q(subject__icontains=word)
            | Q(description__icontains=word)
            | Q(requester__email__icontains=word)
            | Q(requester__name__icontains=word)
            | Q(organization__name__icontains=word)
        )
    return tickets


# --- keyset pages in urgency order -------------------------------------------------------
# The order is (next_due ascending, tickets without a running clock last; then newest first).
# A cursor names the last row shown: its due time (or none) and id.


def encode_cursor(ticket: Ticket) -> str:
    due: datetime | None = getattr(ticket, "next_due", None)
    text = f"{due.isoformat() if due else '-'}|{ticket.pk}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime | None, int]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        due_text, _, id_text = text.partition("|")
        pk = int(id_text)
        due = None if due_text == "-" else datetime.fromisoformat(due_text)
        if not 0 <= pk < 2**63 or (due is not None and due.tzinfo is None):
            raise ValueError
        return due, pk
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("That page link is out of date; start again.", field="cursor") from None


def urgency_page(
    tickets: QuerySet[Ticket], *, limit: int, cursor: str | None
) -> tuple[list[Ticket], str | None]:
    """One page of `tickets` (annotated with next_due) and the cursor of the next page."""
    if cursor:
        due, pk = decode_cursor(cursor)
        if due is None:
            tickets = tickets.filter(Q(next_due__isnull=True, id__lt=pk))
        else:
            tickets = tickets.filter(
                Q(next_due__gt=due) | Q(next_due=due, id__lt=pk) | Q(next_due__isnull=True)
            )
    # SQLite sorts NULL first in ascending order, PostgreSQL last: say which, for both.
    ordered = tickets.order_by(F("next_due").asc(nulls_last=True), "-id")
    rows = list(ordered[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode_cursor(rows[-1]) if more and rows else None


def stamp() -> int:
    """The newest event's id: every change to any ticket writes one, so a list whose stamp
    is older than this may be out of date. One lookup on the primary key."""
    return Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
