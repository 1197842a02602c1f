"""Bulk changes from a ticket list: the same assignment or status for every checked ticket.

Each ticket goes through the same service call as its own page, in its own transaction, so
each change writes its own event and one refusal leaves the others done."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from caredesk.core.errors import DomainError, InvalidInput
from caredesk.desk.forms import BulkForm, active_agents
from caredesk.people.models import User
from caredesk.portal.web import back_to, page, user_of
from caredesk.tickets import services
from caredesk.tickets.access import visible_tickets
from caredesk.tickets.models import Ticket
from caredesk.tickets.states import Status

MAX_TICKETS = 200  # a page of the list holds 50; this bounds a crafted request


def _agent(choice: str, user: User, agents: list[User]) -> User | None:
    if choice == "me":
        return user
    if choice == "none":
        return None
    found = next((a for a in agents if str(a.pk) == choice), None)
    if found is None:
        raise InvalidInput("Choose an agent from the list.", field="agent")
    return found


def _set_status(ticket: Ticket, user: User, status: str) -> None:
    if status == Status.OPEN and ticket.status == Status.RESOLVED:
        services.reopen(ticket, actor=user)
    elif ticket.status != status:
        services.set_status(ticket, actor=user, status=status)


def apply(
    user: User, numbers: list[str], *, agent: str, status: str, agents: list[User]
) -> tuple[list[str], list[str]]:
    """Change each ticket; the numbers changed and one line per refusal."""
    tickets = list(
        visible_tickets(user).select_related("team", "assignee").filter(number__in=numbers)
    )
    done, refused = [], []
    target = _agent(agent, user, agents) if agent else None
    for ticket in sorted(tickets, key=lambda t: t.pk):
        try:
            if agent:
                services.assign(ticket, actor=user, agent=target)
            if status:
                _set_status(ticket, user, status)
        except DomainError as error:
            refused.append(f"{ticket.number}: {error.message}")
        else:
            done.append(ticket.number)
    missing = set(numbers) - {t.number for t in tickets}
    refused += [f"{n}: no such ticket." for n in sorted(missing)]
    return done, refused


@require_POST
@page(who="agent")
def bulk(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    agents = active_agents(user)
    form = BulkForm(request.POST, agents=agents)
    back = back_to(request, fallback=reverse("desk:queue"))
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, f"Nothing was changed: {error}")
        return redirect(back)
    numbers = form.cleaned_data["tickets"][:MAX_TICKETS]
    try:
        done, refused = apply(
            user,
            numbers,
            agent=form.cleaned_data["agent"],
            status=form.cleaned_data["status"],
            agents=agents,
        )
    except DomainError as error:
        messages.error(request, f"Nothing was changed: {error.message}")
        return redirect(back)
    if done:
        messages.success(request, f"Changed {len(done)} ticket(s): {', '.join(done)}.")
    for line in refused:
        messages.error(request, line)
    return redirect(back)
