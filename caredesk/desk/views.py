"""The agent desk: queues, search and the new-case form. The ticket page is in ticket.py."""

from __future__ import annotations

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
from caredesk.desk import callers, notices, queues
from caredesk.desk.coverage import coverage_at
from caredesk.desk.forms import BulkForm, NewCaseForm, QueueFilterForm, active_agents
from caredesk.people import services as people
from caredesk.people.models import User
from caredesk.portal.web import page, query_with, show_error, user_of
from caredesk.servicemodel.models import Team
from caredesk.tickets import services
from caredesk.tickets.access import visible_tickets
from caredesk.tickets.events import latest_event_id
from caredesk.tickets.models import Ticket

PAGE_SIZE = 50


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def find_number(user: User, text: str) -> Ticket | None:
    """The ticket whose number the search text is ("case-100" and "#CASE-100" too)."""
    number = text.strip().lstrip("#")
    if not number or " " in number:
        return None
    return visible_tickets(user).filter(number__in={number, number.upper()}).first()


# The columns a queue's rows show (desk_tags.queue_rows) and its cursor reads: half the
# cost of building fifty tickets with every column of their four related rows. A column
# left out here is read again for every row (the flat query-count tests would say so).
LIST_COLUMNS = (
    "number",
    "subject",
    "status",
    "priority",
    "sla_due_at",
    "team__name",
    "requester__name",
    "requester__email",
    "organization__name",
    "assignee__name",
    "assignee__email",
)


def _list_rows(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    return tickets.select_related("team", "assignee", "requester", "organization").only(
        *LIST_COLUMNS
    )


@page(who="agent")
def queue(request: HtmxHttpRequest) -> HttpResponse:
    user = user_of(request)
    at = now()
    since = request.GET.get("since", "")
    latest = latest_event_id()
    if request.htmx and since.isdigit() and int(since) >= latest:
        # The poll of an open list: nothing changed since it was drawn, so nothing to swap.
        return HttpResponse(status=204)
    every_team = list(Team.objects.all())  # the queues and the coverage panel
    all_queues = queues.all_queues(every_team)
    agents = active_agents(user)
    teams = [(q.key, q.name) for q in all_queues if q.group == "team"]
    form = QueueFilterForm(request.GET, user=user, teams=teams, agents=agents)
    filters = form.cleaned_data if form.is_valid() else {}
    q = (filters.get("q") or "").strip()
    if q and (found := find_number(user, q)):
        url = reverse("desk:ticket", args=[found.number])
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)

    tickets = visible_tickets(user)
    requested = request.GET.get("view", "")
    keys = {x.key for x in all_queues}
    chosen = requested if requested in keys else queues.default_queue(user, all_queues)
    current = "" if q else chosen
    if q:
        # A search looks through every ticket, open or not, whatever the queue.
        tickets = queues.search(tickets, q)
    else:
        tickets = queues.in_queue(
            tickets, current, user, open_only=not filters.get("status"), at=at
        )
    tickets = queues.filtered(tickets, filters, user)

    error = ""
    cursor = request.GET.get("cursor") or None
    try:
        rows, next_cursor = queues.urgency_page(_list_rows(tickets), limit=PAGE_SIZE, cursor=cursor)
    except DomainError as err:
        error = err.message
        rows, next_cursor = queues.urgency_page(_list_rows(tickets), limit=PAGE_SIZE, cursor=None)
    context = {
        "queues": all_queues,
        "current": current,
        "form": form,
        "q": q,
        "tickets": rows,
        # One reverse() for the page, not three per row: the rows add the number.
        "tickets_path": reverse("desk:ticket", args=["-"]).removesuffix("-/"),
        "now": at,
        "soon": at + queues.SOON,
        "stamp": latest,
        "refresh": query_with(request.GET, since=str(latest)),
        "older": query_with(request.GET, cursor=next_cursor, since=None) if next_cursor else None,
        "first_page": query_with(request.GET, cursor=None, since=None),
        "paged": bool(cursor),
        "error": error,
        "view_param": chosen,
        "bulk_form": BulkForm(agents=agents),
        "back": request.get_full_path(),
    }
    # A history restore after a cache miss wants the whole page back, not the table.
    partial = request.htmx and not request.htmx.history_restore_request
    if not partial:
        context["coverage"] = coverage_at(at, every_team)
    response = render(request, "desk/queue.html#results" if partial else "desk/queue.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@page(who="agent")
def new_case(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    caller = callers.caller_by_id(user, request.GET.get("caller", ""))
    initial = {}
    if caller is not None:
        contact = caller.contact
        initial = {
            "requester_email": contact.email,
            "requester_name": contact.name,
            "organization": contact.organization_id,
        }
    form = NewCaseForm(
        request.POST if request.method == "POST" else None, user=user, initial=initial
    )
    if caller is not None:
        # The caller is known: the next thing to type is what they call about.
        form.fields["requester_email"].widget.attrs.pop("autofocus", None)
        form.fields["subject"].widget.attrs["autofocus"] = True
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
    caller_q = request.GET.get("caller_q", "")[:200]
    context = {
        "form": form,
        "caller": caller,
        "caller_q": caller_q,
        # Without JavaScript the search is a plain GET of this page.
        "found_callers": callers.find_callers(user, caller_q) if caller_q and not caller else [],
    }
    return render(request, "desk/new_case.html", context, status=400 if form.errors else 200)


@page(who="agent")
def notifications(request: HttpRequest) -> HttpResponse:
    """The agent's recent notices; opening the page marks them read."""
    user = user_of(request)
    rows = list(notices.recent(user))
    notices.mark_read(user, [n.pk for n in rows if n.read_at is None])
    return render(request, "desk/notifications.html", {"notices": rows})
