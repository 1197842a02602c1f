"""The customer portal: raise a request, follow it, reply. Thin adapters over the services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.views import LoginView
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse

from caredesk.core.errors import DomainError, NotFound
from caredesk.core.pagination import keyset_page
from caredesk.people.models import User
from caredesk.portal.forms import PortalReplyForm, RequestForm, SignInForm
from caredesk.portal.web import page, query_with, show_error, ticket_or_404, user_of
from caredesk.servicemodel.choices import CASE_TYPE, Channel
from caredesk.status.models import Component, ComponentStatus
from caredesk.tickets import services
from caredesk.tickets.access import get_attachment, visible_messages, visible_tickets
from caredesk.tickets.downloads import attachment_response
from caredesk.tickets.models import Ticket

PAGE_SIZE = 25
# Worst first: the headline names the worst component status there is.
SEVERITY = [
    ComponentStatus.MAJOR_OUTAGE,
    ComponentStatus.PARTIAL_OUTAGE,
    ComponentStatus.DEGRADED_PERFORMANCE,
    ComponentStatus.UNDER_MAINTENANCE,
]


class SignInView(LoginView):
    template_name = "registration/signin.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        # Agents work in the desk; customers in the portal.
        if getattr(self.request.user, "is_agent", False):
            return reverse("desk:queue")
        return reverse("portal:home")


def _requests(user: User) -> QuerySet[Ticket]:
    """The user's cases with the escalations they may see, for the lists."""
    tickets = visible_tickets(user)
    return (
        tickets.filter(type_id=CASE_TYPE)
        .select_related("requester", "environment")
        .prefetch_related(
            Prefetch("escalations", queryset=tickets.order_by("id"), to_attr="visible_escalations")
        )
    )


def _status_headline() -> dict[str, str]:
    statuses = set(Component.objects.values_list("status", flat=True).distinct())
    for status in SEVERITY:
        if status in statuses:
            return {"status": status, "text": ComponentStatus(status).label}
    return {"status": ComponentStatus.OPERATIONAL, "text": "All systems operational"}


@transaction.atomic
def _open_request(user: User, data: dict[str, Any]) -> Ticket:
    """The case, and the files sent with it as the customer's first message: the request
    and its attachments stand or fall together (a file over the limit opens nothing)."""
    ticket = services.open_case(
        actor=user,
        subject=data["subject"],
        description=data["description"],
        channel=Channel.PORTAL,
        priority=data["priority"],
        environment=data["environment"] or None,
    )
    if data["attachments"]:
        services.reply(
            ticket,
            actor=user,
            body=f"{len(data['attachments'])} file(s) sent with the request.",
            channel=Channel.PORTAL,
            attachments=data["attachments"],
        )
    return ticket


@page(who="anyone")
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_authenticated:
        return render(request, "portal/welcome.html", {"form": SignInForm(request)})
    if getattr(user, "is_agent", False):
        return redirect("desk:queue")
    user = user_of(request)
    posted = request.method == "POST"
    form = RequestForm(
        request.POST if posted else None, request.FILES if posted else None, user=user
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ticket = _open_request(user, data)
        except DomainError as error:
            show_error(form, error)
        else:
            messages.success(
                request,
                f"Thank you. Your request is {ticket.number}; quote it whenever you write or call.",
            )
            return redirect("portal:request", number=ticket.number)
    latest = list(_requests(user)[:5])
    context = {"form": form, "latest": latest, "headline": _status_headline()}
    return render(request, "portal/home.html", context, status=400 if form.errors else 200)


@page(who="customer")
def request_list(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    if user.is_agent:
        return redirect("desk:queue")
    cursor = request.GET.get("cursor") or None
    try:
        rows, next_cursor = keyset_page(_requests(user), limit=PAGE_SIZE, cursor=cursor)
    except DomainError:
        rows, next_cursor = keyset_page(_requests(user), limit=PAGE_SIZE, cursor=None)
    older = query_with(request.GET, cursor=next_cursor) if next_cursor else None
    shared = bool(user.organization and user.organization.shares_tickets)
    return render(
        request, "portal/requests.html", {"tickets": rows, "older": older, "shared": shared}
    )


@page(who="customer")
def request_detail(request: HttpRequest, number: str) -> HttpResponse:
    user = user_of(request)
    if user.is_agent:
        return redirect("desk:ticket", number=number)
    ticket = ticket_or_404(user, number)
    posted = request.method == "POST"
    form = PortalReplyForm(request.POST if posted else None, request.FILES if posted else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.reply(
                ticket,
                actor=user,
                body=form.cleaned_data["body"],
                channel=Channel.PORTAL,
                attachments=form.cleaned_data["attachments"],
            )
        except DomainError as error:
            show_error(form, error)
        else:
            messages.success(request, "Your reply was added. We will answer by email.")
            return redirect("portal:request", number=ticket.number)
    conversation = (
        visible_messages(user, ticket)
        .select_related("author__team")
        .prefetch_related("attachments")
    )
    tickets = visible_tickets(user)
    context = {
        "ticket": ticket,
        "conversation": conversation,
        "escalations": tickets.filter(origin=ticket).select_related("type").order_by("id"),
        "origin": tickets.filter(pk=ticket.origin_id).first() if ticket.origin_id else None,
        "form": form,
    }
    return render(request, "portal/request.html", context, status=400 if form.errors else 200)


@page(who="customer")
def attachment(request: HttpRequest, pk: int) -> HttpResponseBase:
    """An attachment of a message the user may read (agents and customers alike), always
    as a download; any other number is a plain 404."""
    try:
        found = get_attachment(user_of(request), pk)
    except NotFound:
        raise Http404("No such attachment.") from None
    return attachment_response(found)
