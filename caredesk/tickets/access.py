"""Who sees which tickets, messages, attachments, events and work orders: the one place that
queries them for a user (the rule itself is caredesk.core.access.scope_to_user)."""

from __future__ import annotations

from django.db.models import QuerySet

from caredesk.core.access import access_for, is_agent, scope_to_user
from caredesk.core.errors import NotFound
from caredesk.people.models import User
from caredesk.tickets.models import Attachment, Event, Message, Ticket, WorkOrder


@access_for("tickets.Ticket")
def visible_tickets(user: User | None) -> QuerySet[Ticket]:
    """Agents see every ticket; a contact sees their own, and their organization's when shared."""
    return scope_to_user(
        Ticket.objects.all(), user, requester="requester", organization="organization"
    )


def get_ticket(user: User | None, number: str, *, for_update: bool = False) -> Ticket:
    """The ticket with this number if the user may see it; otherwise NotFound, never Forbidden."""
    tickets = visible_tickets(user)
    if for_update:
        tickets = tickets.select_for_update()
    try:
        return tickets.get(number=number)
    except Ticket.DoesNotExist:
        raise NotFound(f"No ticket {number}.", field="number") from None


def fresh_ticket(user: User | None, ticket: Ticket) -> QuerySet[Ticket]:
    """The ticket read again (after a change), through the same rule."""
    return visible_tickets(user).filter(pk=ticket.pk)


@access_for("tickets.Message")
def visible_messages(user: User | None, ticket: Ticket | None = None) -> QuerySet[Message]:
    """Messages as the user may read them (of one ticket when given): contacts never see
    internal notes, nor any message of a ticket they may not see."""
    messages = Message.objects.all() if ticket is None else Message.objects.filter(ticket=ticket)
    if is_agent(user):
        return messages
    return messages.filter(ticket__in=visible_tickets(user), kind=Message.Kind.REPLY)


@access_for("tickets.Attachment")
def visible_attachments(user: User | None) -> QuerySet[Attachment]:
    """Attachments of the messages the user may read."""
    return Attachment.objects.filter(message__in=visible_messages(user))


def get_attachment(user: User | None, pk: int) -> Attachment:
    """The attachment if the user may read its message; otherwise NotFound."""
    found = visible_attachments(user).select_related("message__ticket").filter(pk=pk).first()
    if found is None:
        raise NotFound(f"No attachment {pk}.", field="attachment")
    return found


@access_for("tickets.Event")
def visible_events(user: User | None, ticket: Ticket) -> QuerySet[Event]:
    """A ticket's history: agents only, since it names internal notes."""
    return Event.objects.filter(ticket=ticket) if is_agent(user) else Event.objects.none()


@access_for("tickets.WorkOrder")
def work_order_of(user: User | None, ticket: Ticket) -> WorkOrder | None:
    """The work order of a ticket the user may see (customers approve them, so they see it)."""
    orders = WorkOrder.objects.filter(ticket__in=visible_tickets(user), ticket=ticket)
    return orders.select_related("ticket").first()
