"""The desk's linked tickets: link and unlink cases and TSUP tickets to an incident (from
the incident or from the ticket page), and resolve its open ones in one action."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from caredesk.core.errors import DomainError
from caredesk.portal.web import page, user_of
from caredesk.status import links
from caredesk.status.desk_forms import LinkForm
from caredesk.status.desk_views import detail, get_incident, refusal_status, show_domain_error
from caredesk.status.models import Incident
from caredesk.tickets.access import get_ticket


@require_POST
@page(who="agent")
def link(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    item = get_incident(pk)
    form = LinkForm(request.POST)
    if form.is_valid():
        try:
            ticket = get_ticket(user, form.cleaned_data["ticket"].strip())
            links.link_ticket(item, ticket, actor=user)
        except DomainError as error:
            show_domain_error(form, error)
            return detail(request, item, bound=form, status=refusal_status(error))
        messages.success(request, f"{ticket.number} linked.")
        return redirect("desk:status:incident", pk=pk)
    return detail(request, item, bound=form, status=400)


@require_POST
@page(who="agent")
def link_from_ticket(request: HttpRequest, number: str) -> HttpResponse:
    """The ticket page's "link to an open incident"; back to the ticket either way."""
    user = user_of(request)
    try:
        ticket = get_ticket(user, number)
    except DomainError:
        raise Http404(f"No ticket {number}.") from None
    pk = _int(request.POST.get("incident"))
    found = Incident.objects.filter(pk=pk).first() if pk is not None else None
    if found is None:
        messages.error(request, "Choose an incident to link the ticket to.")
    else:
        try:
            links.link_ticket(found, ticket, actor=user)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"{ticket.number} linked to {found.name}.")
    return redirect("desk:ticket", number=ticket.number)


def _int(value: str | None) -> int | None:
    try:
        return int(value or "")
    except ValueError:
        return None


@require_POST
@page(who="agent")
def unlink(request: HttpRequest, pk: int, number: str) -> HttpResponse:
    user = user_of(request)
    item = get_incident(pk)
    try:
        links.unlink_ticket(item, get_ticket(user, number), actor=user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{number} unlinked.")
    return redirect("desk:status:incident", pk=pk)


@require_POST
@page(who="agent")
def resolve_linked(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    item = get_incident(pk)
    try:
        done, refused = links.resolve_linked(item, actor=user)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("desk:status:incident", pk=pk)
    if done:
        messages.success(request, f"Resolved {', '.join(t.number for t in done)}.")
    for number, reason in refused:
        messages.error(request, f"{number}: {reason}")
    return redirect("desk:status:incident", pk=pk)
