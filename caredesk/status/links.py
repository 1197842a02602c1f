"""Tickets joined to incidents: agents link cases and TSUP tickets to an incident (or a
maintenance, e.g. an upgrade's Project Coordination ticket), and when it resolves the
requesters of the linked tickets still open are told by email."""

from __future__ import annotations

from functools import partial

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string

from caredesk.core.clock import now
from caredesk.core.errors import Conflict, DomainError, Forbidden
from caredesk.people.models import User
from caredesk.status.models import Incident, LinkedTicket
from caredesk.tickets import events
from caredesk.tickets.models import Ticket
from caredesk.tickets.states import Status

DONE = (Status.RESOLVED, Status.CLOSED)


def _require_agent(actor: User | None) -> None:
    if actor is not None and not actor.is_agent:
        raise Forbidden("Only agents link tickets to incidents.")


def link_ticket(incident: Incident, ticket: Ticket, *, actor: User | None) -> LinkedTicket:
    """Link a ticket to an incident; linking it again changes nothing."""
    _require_agent(actor)
    at = now()
    with transaction.atomic():
        link, created = LinkedTicket.objects.get_or_create(
            incident=incident, ticket=ticket, defaults={"linked_at": at, "linked_by": actor}
        )
        if created:
            events.record(
                ticket,
                "incident_linked",
                actor=actor,
                at=at,
                incident=incident.pk,
                name=incident.name,
            )
    return link


def unlink_ticket(incident: Incident, ticket: Ticket, *, actor: User | None) -> None:
    _require_agent(actor)
    with transaction.atomic():
        deleted, _ = LinkedTicket.objects.filter(incident=incident, ticket=ticket).delete()
        if deleted:
            events.record(
                ticket,
                "incident_unlinked",
                actor=actor,
                at=now(),
                incident=incident.pk,
                name=incident.name,
            )


def on_resolved(incident: Incident) -> None:
    """Schedule the requesters' notice, to run once the resolving transaction commits."""
    transaction.on_commit(partial(_tell, incident.pk))


def _tell(incident_id: int) -> None:
    from caredesk.status import tasks

    tasks.tell_linked_requesters(incident_id)


def open_links(incident_id: int) -> list[int]:
    """The links whose ticket is still open and whose requester has not been told."""
    return list(
        LinkedTicket.objects.filter(incident_id=incident_id, told_at=None)
        .exclude(ticket__status__in=DONE)
        .exclude(ticket__requester=None)
        .values_list("pk", flat=True)
    )


def tell_requester(link_id: int) -> None:
    """Email one requester that the incident behind their ticket is resolved; once."""
    link = (
        LinkedTicket.objects.select_related("incident", "ticket", "ticket__requester")
        .filter(pk=link_id, told_at=None)
        .first()
    )
    if link is None or link.ticket.status in DONE or link.ticket.requester is None:
        return
    ticket, incident = link.ticket, link.incident
    requester = ticket.requester
    assert requester is not None
    context = {
        "ticket": ticket,
        "incident": incident,
        "requester": requester,
        "incident_url": f"{settings.BASE_URL}/status/incidents/{incident.pk}/",
        "ticket_url": f"{settings.BASE_URL}/requests/{ticket.number}/",
    }
    subject = render_to_string("status/emails/ticket-resolved-subject.txt", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=render_to_string("status/emails/ticket-resolved-body.txt", context),
        from_email=ticket.team.email or settings.DEFAULT_FROM_EMAIL,
        to=[requester.email],
        headers={"Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(
        render_to_string("status/emails/ticket-resolved-body.html", context), "text/html"
    )
    message.send()
    at = now()
    with transaction.atomic():
        if LinkedTicket.objects.filter(pk=link.pk, told_at=None).update(told_at=at):
            events.record(
                ticket,
                "incident_resolved_notice",
                actor=None,
                at=at,
                incident=incident.pk,
                to=requester.email,
            )


def resolve_linked(
    incident: Incident, *, actor: User
) -> tuple[list[Ticket], list[tuple[str, str]]]:
    """Resolve the incident's linked tickets that are still open, in one action.

    Each goes through the ticket services' own resolve (its rules, its events); one that
    they refuse (a Work Order not done, say) is reported and the others still resolve.
    Answers the resolved tickets and the refusals as (number, reason).
    """
    from caredesk.tickets import services as tickets

    _require_agent(actor)
    if incident.is_open:
        raise Conflict(
            f"{incident.name} is still {incident.status}; resolve it first.", field="status"
        )
    done: list[Ticket] = []
    refused: list[tuple[str, str]] = []
    found = (
        LinkedTicket.objects.filter(incident=incident)
        .exclude(ticket__status__in=DONE)
        .select_related("ticket", "ticket__category")
        .order_by("linked_at", "pk")
    )
    for link in found:
        try:
            done.append(tickets.resolve(link.ticket, actor=actor))
        except DomainError as error:
            refused.append((link.ticket.number, error.message))
    return done, refused
