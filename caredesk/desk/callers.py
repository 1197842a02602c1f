"""Finding the caller for a new case: by phone number, email, name or organization, with
each caller's open tickets, in a fixed number of queries."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from caredesk.people.access import visible_contacts
from caredesk.people.models import User
from caredesk.portal.web import page, user_of
from caredesk.tickets.access import visible_tickets
from caredesk.tickets.models import Ticket
from caredesk.tickets.states import ACTIVE

MAX_CALLERS = 8
MAX_OPEN = 5  # open tickets shown per caller
MIN_DIGITS = 4  # fewer digits match too many numbers to help


@dataclass(frozen=True)
class Caller:
    contact: User
    open_tickets: list[Ticket]


def find_callers(agent: User, text: str) -> list[Caller]:
    text = text.strip()
    if len(text) < 2:
        return []
    match = (
        Q(email__icontains=text) | Q(name__icontains=text) | Q(organization__name__icontains=text)
    )
    digits = re.sub(r"\D", "", text)
    if len(digits) >= MIN_DIGITS:
        # Numbers are stored in E.164; the caller ID or a typed number matches by its digits.
        match |= Q(phone__contains=digits[-10:])
    contacts = list(
        visible_contacts(agent)
        .filter(match, is_active=True)
        .select_related("organization")
        .order_by("name", "email")[:MAX_CALLERS]
    )
    return with_open_tickets(agent, contacts)


def with_open_tickets(agent: User, contacts: list[User]) -> list[Caller]:
    found: dict[int, list[Ticket]] = {c.pk: [] for c in contacts}
    tickets = (
        visible_tickets(agent)
        .filter(requester__in=found.keys(), status__in=ACTIVE)
        .select_related("team")
        .order_by("-id")[: MAX_OPEN * MAX_CALLERS * 4]
    )
    for ticket in tickets:
        shown = found[ticket.requester_id]  # type: ignore[index]
        if len(shown) < MAX_OPEN:
            shown.append(ticket)
    return [Caller(c, found[c.pk]) for c in contacts]


def caller_by_id(agent: User, value: str) -> Caller | None:
    if not value.isdigit():
        return None
    contact = (
        visible_contacts(agent)
        .filter(pk=int(value), is_active=True)
        .select_related("organization")
        .first()
    )
    return with_open_tickets(agent, [contact])[0] if contact else None


@page(who="agent")
def callers(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("caller_q", "")[:200]
    found = find_callers(user_of(request), q)
    return render(request, "desk/_callers.html", {"callers": found, "caller_q": q.strip()})
