"""Tickets linked to incidents in the REST API: agents link, list and unlink them."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Schema, Status

from caredesk.core.errors import Forbidden, NotFound
from caredesk.people.models import User
from caredesk.status import links, public
from caredesk.status.api import ERRORS, router
from caredesk.status.models import Incident
from caredesk.tickets.access import get_ticket


class LinkIn(Schema):
    ticket: str


class LinkedTicketOut(Schema):
    number: str
    subject: str
    status: str
    requester: str | None
    linked_at: str
    told_at: str | None


def _agent(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    if not user.is_agent:
        raise Forbidden("Only agents link tickets to incidents.")
    return user


def _any_incident(pk: int) -> Incident:
    found = Incident.objects.filter(pk=pk).first()
    if found is None:
        raise NotFound(f"There is no incident or maintenance {pk}.")
    return found


def _links_json(incident: Incident) -> list[dict[str, Any]]:
    found = incident.links.select_related("ticket", "ticket__requester").order_by("linked_at", "pk")
    return [
        {
            "number": link.ticket.number,
            "subject": link.ticket.subject,
            "status": link.ticket.status,
            "requester": link.ticket.requester.email if link.ticket.requester else None,
            "linked_at": public.iso(link.linked_at),
            "told_at": public.iso(link.told_at),
        }
        for link in found
    ]


@router.get(
    "/incidents/{incident_id}/tickets",
    response={200: list[LinkedTicketOut], **ERRORS},
    summary="Tickets linked to an incident",
)
def linked_tickets(request: HttpRequest, incident_id: int) -> list[dict[str, Any]]:
    """Works for incidents and maintenances alike (an upgrade's ticket links to its
    maintenance). Agents only."""
    _agent(request)
    return _links_json(_any_incident(incident_id))


@router.post(
    "/incidents/{incident_id}/tickets",
    response={201: list[LinkedTicketOut], **ERRORS},
    summary="Link a ticket to an incident",
)
def link_ticket(
    request: HttpRequest, incident_id: int, payload: LinkIn
) -> Status[list[dict[str, Any]]]:
    """`{"ticket": "CASE-100"}`; when the incident resolves, the requesters of its linked
    tickets that are still open are told by email. Answers every linked ticket."""
    actor = _agent(request)
    incident = _any_incident(incident_id)
    links.link_ticket(incident, get_ticket(actor, payload.ticket), actor=actor)
    return Status(201, _links_json(incident))


@router.post(
    "/incidents/{incident_id}/tickets/{number}/unlink",
    response={200: list[LinkedTicketOut], **ERRORS},
    summary="Unlink a ticket from an incident",
)
def unlink_ticket(request: HttpRequest, incident_id: int, number: str) -> list[dict[str, Any]]:
    actor = _agent(request)
    incident = _any_incident(incident_id)
    links.unlink_ticket(incident, get_ticket(actor, number), actor=actor)
    return _links_json(incident)
