"""The desk's ticket page and its actions. Every action is a form feeding one service call;
refusals show as form errors, successes redirect back to the page (POST-redirect-GET)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Count, Prefetch, Window
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from caredesk.core.clock import now
from caredesk.core.errors import DomainError, InvalidInput
from caredesk.desk import timeline
from caredesk.desk.forms import (
    STATUS_ACTIONS,
    AssignForm,
    CcForm,
    EscalateForm,
    NoteForm,
    PriorityForm,
    ReplyForm,
    StatusForm,
    WorkOrderForm,
    WorkOrderMoveForm,
    eligible_agents,
    work_order_actions,
)
from caredesk.mail import ccs, outbound
from caredesk.mail.access import visible_inbound
from caredesk.mail.models import InboundEmail
from caredesk.people.access import visible_agents
from caredesk.people.coverage import who_should_take
from caredesk.people.models import User
from caredesk.portal.web import page, show_error, user_of
from caredesk.servicemodel.choices import Channel
from caredesk.tickets import services, work_orders
from caredesk.tickets.access import (
    visible_events,
    visible_messages,
    visible_tickets,
    work_order_of,
)
from caredesk.tickets.models import Ticket
from caredesk.tickets.states import ACTIVE, Status, can_move


def load(user: User, number: str) -> Ticket:
    ticket = (
        visible_tickets(user)
        .select_related(
            "type",
            "team",
            "assignee",
            "requester",
            "organization",
            "environment",
            "category",
            "origin",
        )
        .filter(number=number)
        .first()
    )
    if ticket is None:
        raise Http404(f"No ticket {number}.")
    return ticket


def _needs_work_order(ticket: Ticket) -> bool:
    return bool(ticket.category and ticket.category.work_order)


def _status_choices(ticket: Ticket) -> list[tuple[str, str]]:
    choices = []
    for action, label in STATUS_ACTIONS.items():
        if action == "reopen":
            ok = ticket.status == Status.RESOLVED
        elif action == "open":
            ok = ticket.status != Status.RESOLVED and can_move(ticket.status, Status.OPEN)
        else:
            ok = can_move(ticket.status, action)
        if ok:
            choices.append((action, label))
    return choices


def _render(
    request: HttpRequest, ticket: Ticket, bound: forms.Form | None = None, status: int = 200
) -> HttpResponse:
    user = user_of(request)
    agents = eligible_agents(user, ticket)
    order = work_order_of(user, ticket) if _needs_work_order(ticket) else None
    can_escalate = ticket.is_case and ticket.status in ACTIVE
    suggestion = None
    if can_escalate:
        suggestion = services.suggest_path(f"{ticket.subject}\n{ticket.description}")
    take = who_should_take(ticket.team_id, at=now()) if ticket.status in ACTIVE else None
    # Only someone the form offers (and the service accepts) is suggested.
    offered = {a.pk for a in agents}
    pick = next((a for a in take.agents if a.pk in offered), None) if take else None
    forms_by_prefix: dict[str, forms.Form] = {
        "reply": ReplyForm(),
        "note": NoteForm(),
        "assign": AssignForm(
            agents=agents, initial={"agent": ticket.assignee_id or (pick.pk if pick else "")}
        ),
        "priority": PriorityForm(initial={"priority": ticket.priority}),
        "cc": CcForm(),
        "wo": WorkOrderForm(
            initial={
                "scope": order.scope,
                "requested_by": order.requested_by,
                "estimate": order.estimate,
            }
            if order
            else {"requested_by": ticket.requester.display_name if ticket.requester else ""}
        ),
    }
    if can_escalate:  # its choices cost two queries; only an open case shows the form
        forms_by_prefix["escalate"] = EscalateForm(
            initial={"to": suggestion.to, "category": suggestion.category} if suggestion else None
        )
    if bound is not None and bound.prefix:
        forms_by_prefix[bound.prefix] = bound
    context: dict[str, Any] = {
        "ticket": ticket,
        "clocks": list(ticket.clocks.all()),
        "now": now(),
        "escalations": list(visible_tickets(user).filter(origin=ticket).order_by("id")),
        **_timeline(user, ticket, show_all=request.GET.get("timeline") == "all"),
        "opening_email": _opening_email(user, ticket),
        "suggestion": suggestion,
        "assign_pick": pick,
        "assign_reason": take.reason if take else "",
        "can_escalate": can_escalate,
        "may_take": services.may_work(user, ticket) and ticket.assignee_id != user.pk,
        "status_choices": _status_choices(ticket),
        "needs_work_order": _needs_work_order(ticket),
        "work_order": order,
        "work_order_actions": work_order_actions(order),
        "move_form": bound if isinstance(bound, WorkOrderMoveForm) else WorkOrderMoveForm(),
        "refused": _refusal(bound),
        "undelivered_mail": outbound.failed_on(ticket),
        # Replies from the desk go by email whenever the requester has an address.
        "copied": ccs.copied(ticket) if ticket.requester and ticket.requester.email else {},
        **{f"{prefix}_form": form for prefix, form in forms_by_prefix.items()},
    }
    return render(request, "desk/ticket.html", context, status=status)


# A long thread shows its latest entries; the rest are one click away (and the page stays
# fast: a 200-message ticket reads and renders a quarter of its timeline).
TIMELINE_LATEST = 50


def _timeline(user: User, ticket: Ticket, *, show_all: bool) -> dict[str, Any]:
    """The timeline's entries (its latest TIMELINE_LATEST unless `show_all`) and how many
    earlier ones are left out: three queries however long the thread."""
    # Replies and notes show as messages; their events would say it twice.
    events = (
        visible_events(user, ticket)
        .exclude(kind__in=timeline.SHOWN_AS_MESSAGES)
        .select_related("actor")
    )
    conversation = visible_messages(user, ticket).select_related("author")
    # Each message that came by email links to that email as received (one query for all).
    emails = Prefetch("inbound_emails", visible_inbound(user).only("ticket_message"), "emails")
    files = Prefetch("attachments", to_attr="files")
    if show_all:
        entries = timeline.build(list(conversation.prefetch_related(files, emails)), list(events))
        return {"timeline": entries, "timeline_hidden": 0}
    # The latest entries are among the latest of each kind; each row also carries its
    # kind's total (a window count), so the number left out costs no query of its own.
    total = Window(Count("id"))
    latest_events = list(
        events.annotate(total=total).order_by("-created_at", "-id")[:TIMELINE_LATEST]
    )
    latest_messages = list(
        conversation.annotate(total=total)
        .order_by("-created_at", "-id")
        .prefetch_related(files, emails)[:TIMELINE_LATEST]
    )
    entries = timeline.build(latest_messages[::-1], latest_events[::-1])[-TIMELINE_LATEST:]
    found = sum(rows[0].total for rows in (latest_events, latest_messages) if rows)
    return {"timeline": entries, "timeline_hidden": found - len(entries)}


MESSAGE = InboundEmail.Kind.MESSAGE


def _opening_email(user: User, ticket: Ticket) -> int | None:
    """The email a case was opened from (its description), to link to as received."""
    if ticket.channel != Channel.EMAIL:
        return None
    first = visible_inbound(user).filter(ticket=ticket, ticket_message=None, kind=MESSAGE)
    return first.order_by("id").values_list("id", flat=True).first()


def _refusal(form: forms.Form | None) -> dict[str, Any] | None:
    """Every error of a refused action, for the alert at the top of the page."""
    if form is None or not form.errors:
        return None
    errors = []
    for name, messages_ in form.errors.items():
        label = form.fields[name].label if name in form.fields else None
        errors += [f"{label}: {m}" if label else m for m in messages_]
    title = TITLES.get(form.prefix or "", "The change")
    return {"title": f"{title} was not done.", "errors": errors}


TITLES = {
    "reply": "The reply",
    "note": "The note",
    "escalate": "The escalation",
    "assign": "The assignment",
    "priority": "The priority change",
    "status": "The status change",
    "wo": "The work order",
    "wom": "The work order change",
    "cc": "The change of who is copied",
}


@page(who="agent")
def detail(request: HttpRequest, number: str) -> HttpResponse:
    return _render(request, load(user_of(request), number))


# --- actions: each takes the valid form's data and says what it did ------------------------


def _reply(ticket: Ticket, user: User, data: dict[str, Any]) -> str:
    services.reply(
        ticket,
        actor=user,
        body=data["body"],
        channel=Channel.EMAIL,
        attachments=data.get("attachments") or [],
    )
    return "Reply sent to the customer."


def _note(ticket: Ticket, user: User, data: dict[str, Any]) -> str:
    services.add_note(
        ticket, actor=user, body=data["body"], attachments=data.get("attachments") or []
    )
    return "Internal note added."


def _escalate(ticket: Ticket, user: User, data: dict[str, Any]) -> str:
    new = services.escalate(
        ticket, actor=user, to=data["to"], reason=data["reason"], category=data["category"] or None
    )
    return f"Escalated to {new.type.name} as {new.number}."


def _assign(ticket: Ticket, user: User, data: dict[str, Any]) -> str:
    choice = data["agent"]
    agent: User | None = None
    if choice == "me":
        agent = user
    elif choice:
        agent = visible_agents(user).filter(pk=choice if choice.isdigit() else 0).first()
        if agent is None:
            raise InvalidInput("Choose an agent from the list.", field="agent")
    services.assign(ticket, actor=user, agent=agent)
    return f"Assigned to {agent.display_name}." if agent else "The ticket is unassigned."


def _priority(ticket: Ticket, user: User, data: dict[str, Any]) -> str:
    services.set_priority(ticket, actor=user, priority=data["priority"])
    return f"Priority set to {ticket.get_priority_display()}."


def _status(ticket: Ticket, user: User, data: dict[str, Any]) -> str:
    action = data["action"]
    if action == "reopen":
        services.reopen(ticket, actor=user)
    elif action == "closed":
        services.close(ticket, actor=user)
    else:
        services.set_status(ticket, actor=user, status=action)
    return f"{ticket.number} is {ticket.get_status_display().lower()}."


def _draft(ticket: Ticket, user: User, data: dict[str, Any]) -> str:
    work_orders.draft_work_order(
        ticket,
        actor=user,
        scope=data["scope"],
        requested_by=data["requested_by"],
        estimate=data["estimate"],
    )
    return "Work order saved as a draft."


def _copy(ticket: Ticket, user: User, data: dict[str, Any]) -> str:
    email = ccs.copy_on_replies(ticket, actor=user, email=data["email"])
    return f"{email} is copied on this ticket's email replies from now on."


def _uncopy(ticket: Ticket, user: User, data: dict[str, Any]) -> str:
    email = ccs.stop_copying(ticket, actor=user, email=data["email"])
    return f"{email} is no longer copied on this ticket's email replies."


def _move(ticket: Ticket, user: User, data: dict[str, Any]) -> str:
    order = work_orders.move_work_order(
        ticket,
        actor=user,
        action=data["action"],
        note=data["note"],
        scheduled_for=data["scheduled_for"],
    )
    return f"Work order: {order.get_state_display().lower()}."


@dataclass(frozen=True)
class Action:
    form: Callable[[Any, Ticket, User], forms.Form]
    run: Callable[[Ticket, User, dict[str, Any]], str]


ACTIONS: dict[str, Action] = {
    "reply": Action(lambda data, _, __: ReplyForm(data), _reply),
    "note": Action(lambda data, _, __: NoteForm(data), _note),
    "escalate": Action(lambda data, _, __: EscalateForm(data), _escalate),
    "assign": Action(lambda data, t, u: AssignForm(data, agents=eligible_agents(u, t)), _assign),
    "priority": Action(lambda data, _, __: PriorityForm(data), _priority),
    "status": Action(lambda data, _, __: StatusForm(data), _status),
    "work-order": Action(lambda data, _, __: WorkOrderForm(data), _draft),
    "work-order-move": Action(lambda data, _, __: WorkOrderMoveForm(data), _move),
    "cc-add": Action(lambda data, _, __: CcForm(data), _copy),
    "cc-remove": Action(lambda data, _, __: CcForm(data), _uncopy),
}


@require_POST
@page(who="agent")
def act(request: HttpRequest, number: str, action: str) -> HttpResponse:
    user = user_of(request)
    ticket = load(user, number)
    if action not in ACTIONS:
        raise Http404("No such action.")
    spec = ACTIONS[action]
    form = spec.form(request.POST, ticket, user)
    form.files = request.FILES  # uploads ride along; only the reply and note forms read them
    status = 400
    if form.is_valid():
        try:
            done = spec.run(ticket, user, form.cleaned_data)
        except DomainError as error:
            status = error.status if 400 <= error.status < 500 else 400
            show_error(form, error)
            ticket = load(user, number)  # the refused call may have touched the instance
        else:
            messages.success(request, done)
            return redirect("desk:ticket", number=ticket.number)
    return _render(request, ticket, bound=form, status=status)
