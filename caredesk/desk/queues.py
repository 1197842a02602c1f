"""The desk's ticket lists: which tickets a queue holds, filters and search, the order by SLA
urgency, keyset pages over that order, and the stamp that tells a list it is out of date."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet

from caredesk.core.errors import InvalidInput
from caredesk.people.models import User
from caredesk.servicemodel.choices import EMERGENCY_TEAM
from caredesk.servicemodel.models import Team
from caredesk.tickets.models import Ticket
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


def all_queues(teams: list[Team]) -> list[Queue]:
    """A queue for each of `teams` (Team.objects.all(), in their order), then the views."""
    return [Queue(t.key, t.name, "team") for t in teams] + PERSONAL


def default_queue(user: User, queues: list[Queue]) -> str:
    keys = {q.key for q in queues}
    return user.team_id if user.team_id in keys else "all"


def in_queue(
    tickets: QuerySet[Ticket], key: str, user: User, *, open_only: bool, at: datetime
) -> QuerySet[Ticket]:
    """The tickets of a queue; every queue but "all" holds open tickets unless a status filter
    asks for others."""
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
        tickets = tickets.filter(sla_due_at__lte=at + SOON)
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
# The order: tickets with a running clock by due time (then newest first), then the others,
# newest first. Each part walks the ticket_sla_due index; a page takes from the first part
# and, when it runs out, from the second. A cursor names the last row shown: its due time
# (or none) and id.


def encode_cursor(ticket: Ticket) -> str:
    due = ticket.sla_due_at
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
    """One page of `tickets` in urgency order and the cursor of the next page (or None)."""
    due, pk = decode_cursor(cursor) if cursor else (None, None)
    rows: list[Ticket] = []
    if due is not None or pk is None:
        timed = tickets.filter(sla_due_at__isnull=False)
        if due is not None:
            timed = timed.filter(Q(sla_due_at__gt=due) | Q(sla_due_at=due, id__lt=pk))
        rows = list(timed.order_by("sla_due_at", "-id")[: limit + 1])
    if len(rows) <= limit:
        untimed = tickets.filter(sla_due_at__isnull=True)
        if due is None and pk is not None:
            untimed = untimed.filter(id__lt=pk)
        rows += list(untimed.order_by("-id")[: limit + 1 - len(rows)])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode_cursor(rows[-1]) if more and rows else None
