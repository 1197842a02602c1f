"""Presence and coverage in the desk: the agent's presence control and who is on duty now."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from caredesk.core.clock import now
from caredesk.core.errors import DomainError
from caredesk.people.coverage import coming_on, who_should_take_each
from caredesk.people.models import Presence, PresenceStatus, User
from caredesk.people.presence import presence_of, set_presence
from caredesk.people.shifts import clock_label, rota_of, service_zone
from caredesk.portal.web import back_to, page, user_of
from caredesk.servicemodel.cache import snapshot
from caredesk.servicemodel.choices import EMERGENCY_TEAM
from caredesk.servicemodel.models import Team
from caredesk.sla.business_time import CalendarError, next_open
from caredesk.sla.calendars import calendar_for
from caredesk.sla.services import emergency_staffing

# What an agent chooses in the desk; offline is what signing out of work means, not a button.
CHOICES = [PresenceStatus.AVAILABLE, PresenceStatus.BUSY, PresenceStatus.AWAY]


@dataclass(frozen=True)
class OnDuty:
    agent: User
    presence: str  # a PresenceStatus value
    presence_label: str
    until: str = ""  # the end of the agent's current shift ("07:00"); blank without shifts


@dataclass(frozen=True)
class TeamCover:
    team: Team
    covered_by: str  # the name of the team whose members take the work
    emergency: bool  # Emergency Care covers another team's work
    overflow: bool
    reason: str
    agents: list[OnDuty]
    next_at: str = ""  # when the team's next shift starts ("22:00", "Sat 07:00")
    next_agents: list[User] = field(default_factory=list)  # who comes on then


@dataclass(frozen=True)
class Coverage:
    at: datetime
    emergency_hours: bool
    teams: list[TeamCover]
    staffed_from: str = ""  # outside staffed hours: when the on-site team is back ("07:00")


def coverage_at(at: datetime, teams: list[Team] | None = None) -> Coverage:
    """Who takes each team's work at `at`, until when, and who comes on next: two queries for
    every team's agents on duty and their shifts, one for every shown agent's presence, and
    two for the shifts to come, whatever the number of teams and agents. `teams`: every
    team, when the caller has them."""
    zone = service_zone()
    teams = list(Team.objects.all()) if teams is None else teams
    upcoming = coming_on(at=at)
    names = {t.key: t.name for t in teams}
    each = who_should_take_each([t.key for t in teams], at=at)
    suggestions = [(t, each[t.key]) for t in teams]
    ids = {a.pk for _, s in suggestions for a in s.agents}
    status = dict(Presence.objects.filter(agent_id__in=ids).values_list("agent_id", "status"))
    labels = dict(PresenceStatus.choices)
    rows = []
    for team, s in suggestions:
        agents = []
        for a in s.agents:
            st = status.get(a.pk, PresenceStatus.OFFLINE)
            rota = rota_of(a, zone)
            ends = rota.until(at) if rota is not None else None
            until = clock_label(ends, at=at, zone=zone, end=True) if ends is not None else ""
            agents.append(OnDuty(a, st, labels[st], until))
        coming = upcoming.get(team.key)
        rows.append(
            TeamCover(
                team=team,
                covered_by=names.get(s.team, s.team),
                emergency=s.team == EMERGENCY_TEAM and team.key != EMERGENCY_TEAM,
                overflow=s.overflow,
                reason=s.reason,
                agents=agents,
                next_at=clock_label(coming.at, at=at, zone=zone) if coming else "",
                next_agents=coming.agents if coming else [],
            )
        )
    emergency = emergency_staffing(at)
    return Coverage(
        at=at,
        emergency_hours=emergency,
        teams=rows,
        staffed_from=_staffed_from(at, zone) if emergency else "",
    )


def _staffed_from(at: datetime, zone: str) -> str:
    """When the on-site team is back ("07:00"), from the calendar that defines staffed hours."""
    key = snapshot().settings.emergency_calendar_id
    try:
        back = next_open(calendar_for(key), at) if key else None
    except CalendarError:  # a calendar that never opens again
        return ""
    return clock_label(back, at=at, zone=zone) if back else ""


def presence_context(user: User, *, back: str, error: str = "") -> dict[str, object]:
    """The control's context; `back` is the page the no-JavaScript form returns to."""
    current = presence_of(user)
    return {
        "back": back,
        "presence": current,
        "presence_label": dict(PresenceStatus.choices)[current],
        "presence_choices": [(c.value, c.label) for c in CHOICES],
        "presence_error": error,
    }


@require_POST
@page(who="agent")
def set_my_presence(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    error = ""
    try:
        set_presence(user, request.POST.get("status", ""), actor=user)
    except DomainError as err:
        error = err.message
    back = back_to(request, fallback="")
    if getattr(request, "htmx", False):
        # 200 even when refused: htmx does not swap 4xx responses, and the control says why.
        context = presence_context(user, back=back or reverse("desk:queue"), error=error)
        response = render(request, "desk/_presence.html", context)
        if not error:
            response["HX-Trigger"] = "presence-changed"
        return response
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"You are {presence_of(user)}.")
    return redirect(back or "desk:queue")


@require_GET
@page(who="agent")
def coverage_panel(request: HttpRequest) -> HttpResponse:
    return render(request, "desk/queue.html#coverage", {"coverage": coverage_at(now())})
