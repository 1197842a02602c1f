"""The phone in the desk: the live wallboard, and the caller pop-up on the answering agent's
desk (htmx polls a small partial; a poll that finds nothing new answers 204 and swaps
nothing, so a form the agent is using stays as it is)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from caredesk.core.clock import now
from caredesk.core.errors import DomainError
from caredesk.people.models import ON_DUTY_PRESENCE, Presence, PresenceStatus, User
from caredesk.phone import service_level
from caredesk.phone.access import visible_calls
from caredesk.phone.models import Call, Direction
from caredesk.phone.services import attach_call
from caredesk.phone.timeline import seconds_text
from caredesk.portal.web import page, ticket_or_404, user_of
from caredesk.servicemodel.choices import CASE_TYPE, EMERGENCY_TEAM
from caredesk.tickets.access import visible_tickets
from caredesk.tickets.models import Ticket
from caredesk.tickets.states import ACTIVE

# How long an ended call stays on the agent's pop-up, to attach it or open its case.
POPUP_AFTER_END = timedelta(minutes=10)
# The session key of the calls an agent took off their pop-up, and how many it remembers
# (the pop-up shows three calls at most, of the last 12 hours).
DISMISSED = "dismissed_calls"
MAX_DISMISSED = 50
WAITING_WINDOW = timedelta(hours=2)
CHART_WIDTH, CHART_HEIGHT = 640, 120


@dataclass(frozen=True)
class Waiting:
    call: Call
    seconds: float

    @property
    def text(self) -> str:
        return seconds_text(self.seconds)

    @property
    def late(self) -> bool:
        return self.seconds > service_level.TARGET_SECONDS


@dataclass(frozen=True)
class Column:
    label: str
    x: int
    y: int
    height: int
    width: int
    offered: int
    level: float | None

    @property
    def bad(self) -> bool:
        return self.level is not None and self.level < service_level.GOAL * 100


def _columns(rows: list[service_level.Figures]) -> list[Column]:
    """Offered calls per interval, each column coloured by its service level."""
    merged: dict[str, service_level.Figures] = {}
    for row in rows:
        total = merged.setdefault(row.interval, service_level.Figures(row.interval, "", ""))
        total.offered += row.offered
        total.answered_in_target += row.answered_in_target
    most = max((f.offered for f in merged.values()), default=0) or 1
    step = max(4, CHART_WIDTH // max(1, len(merged)))
    columns = []
    for i, (slot, figures) in enumerate(sorted(merged.items())):
        height = round((CHART_HEIGHT - 20) * figures.offered / most)
        level = 100 * figures.answered_in_target / figures.offered if figures.offered else None
        columns.append(
            Column(
                slot[11:16],
                i * step,
                CHART_HEIGHT - height,
                height,
                step - 2,
                figures.offered,
                level,
            )
        )
    return columns


def board(user: User, at: datetime, day: date | None = None) -> dict[str, object]:
    """Everything the wallboard shows `user` at `at`; the figures of `day` (default today)."""
    today = service_level.compute(first=day, interval=15, at=at)
    live = (
        visible_calls(user)
        .filter(direction=Direction.IN, ended_at__isnull=True, started_at__gte=at - WAITING_WINDOW)
        .select_related("contact", "organization", "answered_by")
    )
    waiting = [
        Waiting(c, (at - c.started_at).total_seconds())
        for c in live
        if c.answered_at is None and c.started_at is not None
    ]
    waiting.sort(key=lambda w: -w.seconds)
    talking = [c for c in live if c.answered_at is not None]
    presence = Presence.objects.filter(
        agent__is_active=True, agent__team_id__in=[CASE_TYPE, EMERGENCY_TEAM]
    ).values_list("agent__team_id", "status")
    available: dict[str, int] = {}
    present: dict[str, int] = {}
    for team, status in presence:
        available[team] = available.get(team, 0) + (status == PresenceStatus.AVAILABLE)
        present[team] = present.get(team, 0) + (status in ON_DUTY_PRESENCE)
    current = service_level.interval_start(at, 15, service_level.zone()).isoformat()
    return {
        "at": at,
        "level": today,
        "waiting": waiting,
        "longest": waiting[0] if waiting else None,
        "talking": talking,
        "staff": [
            ("Customer Care (on site)", available.get(CASE_TYPE, 0), present.get(CASE_TYPE, 0)),
            ("Emergency Care", available.get(EMERGENCY_TEAM, 0), present.get(EMERGENCY_TEAM, 0)),
        ],
        "current_rows": [r for r in today.rows if r.interval == current],
        "columns": _columns(today.rows),
        "chart": {"width": CHART_WIDTH, "height": CHART_HEIGHT + 18, "base": CHART_HEIGHT},
        "day": today.first_day,
        "target": int(service_level.TARGET_SECONDS),
        "goal": int(service_level.GOAL * 100),
    }


@require_GET
@page(who="agent")
def wallboard(request: HttpRequest) -> HttpResponse:
    partial = bool(getattr(request, "htmx", False))
    template = "phone/wallboard.html#board" if partial else "phone/wallboard.html"
    try:
        day = date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        day = None
    if request.GET.get("format") == "csv":
        report = service_level.compute(first=day, interval=15)
        response = HttpResponse(
            service_level.as_csv(report), content_type="text/csv; charset=utf-8"
        )
        name = f"service-level-{report.first_day}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    context = board(user_of(request), now(), day)
    context["day_param"] = f"?day={day.isoformat()}" if day else ""
    return render(request, template, context)


# --- the caller pop-up ---------------------------------------------------------------------


def my_calls(user: User, at: datetime, dismissed: list[int] | tuple[int, ...] = ()) -> list[Call]:
    """The agent's calls in progress, answered by them or placed by them and answered, and
    those that ended a few minutes ago, but for the ones they dismissed."""
    return list(
        visible_calls(user)
        .filter(answered_by=user, answered_at__gte=at - timedelta(hours=12))
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=at - POPUP_AFTER_END))
        .exclude(pk__in=dismissed)
        .select_related("contact", "organization", "ticket")
        .order_by("-answered_at")[:3]
    )


def _open_tickets(user: User, call: Call) -> list[Ticket]:
    mine = Q(pk__in=[])
    if call.contact_id:
        mine |= Q(requester_id=call.contact_id)
    if call.organization_id:
        mine |= Q(organization_id=call.organization_id)
    return list(
        visible_tickets(user)
        .filter(mine, status__in=ACTIVE)
        .exclude(pk=call.ticket_id or 0)
        .order_by("-id")[:5]
    )


@require_GET
@page(who="agent")
def popup(request: HttpRequest) -> HttpResponse:
    return _popup(request, known=request.GET.get("v", ""))


def _popup(request: HttpRequest, known: str = "") -> HttpResponse:
    user = user_of(request)
    calls = my_calls(user, now(), request.session.get(DISMISSED, []))
    shown = [(c, _open_tickets(user, c)) for c in calls]
    state = "|".join(
        f"{c.pk}:{c.ticket_id}:{c.ended_at is not None}:{','.join(str(t.pk) for t in ts)}"
        for c, ts in shown
    )
    version = hashlib.sha256(state.encode()).hexdigest()[:12]
    if known == version:
        return HttpResponse(status=204)
    return render(request, "phone/_popup.html", {"shown": shown, "version": version})


@require_POST
@page(who="agent")
def dismiss(request: HttpRequest, call_id: str) -> HttpResponse:
    """Takes a call off the agent's pop-up (kept in their session; the call is unchanged)."""
    call = visible_calls(user_of(request)).filter(call_id=call_id).only("pk").first()
    if call is None:
        raise Http404("No such call.")
    dismissed = [pk for pk in request.session.get(DISMISSED, []) if pk != call.pk]
    request.session[DISMISSED] = [call.pk, *dismissed][:MAX_DISMISSED]
    if getattr(request, "htmx", False):
        return _popup(request)
    return redirect("desk:queue")


@require_POST
@page(who="agent")
def attach(request: HttpRequest, call_id: str) -> HttpResponse:
    user = user_of(request)
    call = visible_calls(user).filter(call_id=call_id).select_related("ticket").first()
    if call is None:
        raise Http404("No such call.")
    ticket = ticket_or_404(user, request.POST.get("ticket", ""))
    try:
        attach_call(call, actor=user, ticket=ticket)
    except DomainError as err:
        messages.error(request, err.message)
    else:
        messages.success(request, f"The call is on {ticket.number}.")
    url = f"/desk/tickets/{ticket.number}/"
    return HttpResponseClientRedirect(url) if getattr(request, "htmx", False) else redirect(url)
