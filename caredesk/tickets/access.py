"""Who sees which tickets: the one place that queries tickets for a user."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from caredesk.core.errors import NotFound
from caredesk.people.models import User
from caredesk.tickets.models import Message, Ticket


def visible_tickets(user: User | None) -> QuerySet[Ticket]:
    """Agents see every ticket; a contact sees their own, and their organization's when shared."""
    tickets = Ticket.objects.all()
    if user is None or not user.is_active:
        return tickets.none()
    if user.is_agent:
        return tickets
    mine = Q(requester=user)
    org = user.organization
    if org is not None and org.shares_tickets:
        mine |= Q(organization=org)
    return tickets.filter(mine)


def get_ticket(user: User | None, number: str, *, for_update: bool = False) -> Ticket:
    """The ticket with this number if the user may see it; otherwise NotFound, never Forbidden."""
    tickets = visible_tickets(user)
    if for_update:
        tickets = tickets.select_for_update()
    try:
        return tickets.get(number=number)
    except Ticket.DoesNotExist:
        raise NotFound(f"No ticket {number}.", field="number") from None


def visible_messages(user: User | None, ticket: Ticket) -> QuerySet[Message]:
    """A ticket's messages as the user may read them: contacts never see internal notes."""
    messages = Message.objects.filter(ticket=ticket)
    if user is None or not user.is_agent:
        messages = messages.filter(kind=Message.Kind.REPLY)
    return messages
