"""The agent desk: queues, search and the new-case form. The ticket page is in ticket.py."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

from caredesk.core.clock import now
from caredesk.core.errors import DomainError
from caredesk.core.pagination import keyset_page
from caredesk.desk import notices
from caredesk.desk.coverage import coverage_at
from caredesk.desk.forms import NewCaseForm, QueueFilterForm
from caredesk.people import services as people
from caredesk.people.models import User
from caredesk.portal.web import page, query_with, show_error, user_of
from caredesk.servicemodel.choices import EMERGENCY_TEAM
from caredesk.servicemodel.models import Team
from caredesk.tickets import services
from caredesk.tickets.access import visible_tickets
from caredesk.tickets.models import Ticket
from caredesk.tickets.states import ACTIVE, Status

PAGE_SIZE = 50
MAX_SEARCH_WORDS = 6


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


@dataclass(frozen=True)
class Queue:
    key: str
    name: str
    group: str  # "team" or "personal"


PERSONAL = [
    Queue("mine", "Mine", "personal"),
    Queue("unassigned", "Unassigned", "personal"),
    Queue("waiting", "Waiting on customer", "personal"),
    Queue("escalated", "Escalated", "personal"),
    Queue("all", "All tickets", "personal"),
]


def _queues() -> list[Queue]:
    return [Queue(t.key, t.name, "team") for t in Team.objects.all()] + PERSONAL


def _default_queue(user: User, queues: list[Queue]) -> str:
    keys = {q.key for q in queues}
    return user.team_id if user.team_id in keys else "all"


def _in_queue(
    tickets: QuerySet[Ticket], key: str, user: User, *, open_only: bool
) -> QuerySet[Ticket]:
    """The tickets of a queue; team queues, "mine" and "unassigned" hold open tickets unless
    a status filter asks for others."""
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
    elif key != EMERGENCY_TEAM:
        # Emergency Care covers every team, so its queue is every open ticket.
        tickets = tickets.filter(team_id=key)
    return tickets.filter(status__in=ACTIVE) if open_only else tickets


def find_number(user: User, text: str) -> Ticket | None:
    """The ticket whose number the search text is ("case-100" and "#CASE-100" too)."""
    number = text.strip().lstrip("#")
    if not number or " " in number:
        return None
    return visible_tickets(user).filter(number__in={number, number.upper()}).first()


def _list_rows(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    return tickets.select_related("team", "assignee", "requester", "organization")


@page(who="agent")
def queue(request: HtmxHttpRequest) -> HttpResponse:
    user = user_of(request)
    queues = _queues()
    form = QueueFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    q = (filters.get("q") or "").strip()
    if q and (found := find_number(user, q)):
        url = reverse("desk:ticket", args=[found.number])
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)

    tickets = visible_tickets(user)
    requested = request.GET.get("view", "")
    chosen = requested if requested in {x.key for x in queues} else _default_queue(user, queues)
    current = "" if q else chosen
    if q:
        # A search looks through every ticket, open or not, whatever the queue.
        for word in q.split()[:MAX_SEARCH_WORDS]:
            tickets = tickets.filter(subject__icontains=word)
    else:
        tickets = _in_queue(tickets, current, user, open_only=not filters.get("status"))
    if filters.get("status"):
        tickets = tickets.filter(status=filters["status"])
    if filters.get("priority"):
        tickets = tickets.filter(priority=filters["priority"])

    error = ""
    try:
        rows, next_cursor = keyset_page(
            _list_rows(tickets), limit=PAGE_SIZE, cursor=request.GET.get("cursor") or None
        )
    except DomainError as err:
        error = err.message
        rows, next_cursor = keyset_page(_list_rows(tickets), limit=PAGE_SIZE, cursor=None)
    context = {
        "queues": queues,
        "current": current,
        "form": form,
        "q": q,
        "tickets": rows,
        "older": query_with(request.GET, cursor=next_cursor) if next_cursor else None,
        "first_page": query_with(request.GET, cursor=None),
        "paged": bool(request.GET.get("cursor")),
        "error": error,
        "view_param": chosen,
    }
    # A history restore after a cache miss wants the whole page back, not the table.
    partial = request.htmx and not request.htmx.history_restore_request
    if not partial:
        context["coverage"] = coverage_at(now())
    response = render(request, "desk/queue.html#results" if partial else "desk/queue.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@page(who="agent")
def new_case(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    form = NewCaseForm(request.POST if request.method == "POST" else None, user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            # The contact and the case stand or fall together: no stray contact on refusal.
            with transaction.atomic():
                requester = people.find_or_create_contact(
                    data["requester_email"],
                    name=data["requester_name"],
                    organization=data["organization"],
                )
                ticket = services.open_case(
                    actor=user,
                    subject=data["subject"],
                    description=data["description"],
                    channel=data["channel"],
                    requester=requester,
                    organization=data["organization"] or requester.organization,
                    priority=data["priority"],
                    environment=data["environment"].key if data["environment"] else None,
                )
        except DomainError as error:
            if error.field == "requester":
                error.field = "requester_email"
            show_error(form, error)
        else:
            return redirect("desk:ticket", number=ticket.number)
    return render(request, "desk/new_case.html", {"form": form}, status=400 if form.errors else 200)


@page(who="agent")
def notifications(request: HttpRequest) -> HttpResponse:
    """The agent's recent notices; opening the page marks them read."""
    user = user_of(request)
    rows = list(notices.recent(user))
    notices.mark_read(user, [n.pk for n in rows if n.read_at is None])
    return render(request, "desk/notifications.html", {"notices": rows})
