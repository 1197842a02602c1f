"""Coverage: who is on duty at an instant, and who should take new work.

In staffed hours each team's own members are on; outside them Emergency Care covers.
An agent counts as on duty while their presence is available or busy. When nobody of a
team is available, Emergency Care takes the overflow (the guide: the phone goes to
Emergency Care "when every representative is busy").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When

from caredesk.people.models import ON_DUTY_PRESENCE, PresenceStatus, User
from caredesk.servicemodel.choices import EMERGENCY_TEAM, Role


def _agents() -> QuerySet[User]:
    return User.objects.filter(is_active=True).exclude(role=Role.CUSTOMER)


def covering_team(team: str, *, at: datetime) -> str:
    """The team whose members take `team`'s work at `at`: itself, or Emergency Care."""
    from caredesk.sla.services import emergency_staffing

    return EMERGENCY_TEAM if emergency_staffing(at) else team


def on_duty(team: str, *, at: datetime) -> QuerySet[User]:
    """The active agents on duty for `team` at `at`: the covering team's members who are
    available or busy. When none of them is, Emergency Care's present members take the
    overflow; when nobody at all has marked themselves present (a desk that does not keep
    presence), the covering team's roster answers, so that a breach notice reaches someone.
    """
    cover = covering_team(team, at=at)
    teams = [cover] if cover == EMERGENCY_TEAM else [cover, EMERGENCY_TEAM]
    present = _agents().filter(team_id__in=teams, presence__status__in=ON_DUTY_PRESENCE)
    found = set(present.values_list("team_id", flat=True).distinct())
    if cover in found:
        return present.filter(team_id=cover)
    if found:
        return present.filter(team_id=EMERGENCY_TEAM)
    return _agents().filter(team_id=cover)


def managers() -> QuerySet[User]:
    return User.objects.filter(is_active=True, role=Role.MANAGER)


@dataclass(frozen=True)
class Suggestion:
    """Who should take new work for a team now, best first, and why."""

    team: str  # the team whose members are suggested
    agents: list[User] = field(default_factory=list)
    overflow: bool = False  # Emergency Care because nobody of the team is available
    reason: str = ""

    @property
    def first(self) -> User | None:
        return self.agents[0] if self.agents else None


def who_should_take(team: str, *, at: datetime) -> Suggestion:
    """The on-duty agents who should take `team`'s next ticket: available before busy, then
    those with the fewest open assigned tickets. Outside staffed hours Emergency Care; in
    staffed hours Emergency Care too when no member of the team is available."""
    from caredesk.tickets.states import ACTIVE

    cover = covering_team(team, at=at)
    teams = [cover] if cover == EMERGENCY_TEAM else [cover, EMERGENCY_TEAM]
    # One query: both teams' present agents, ranked; the choice between them is made below.
    ranked: list[User] = list(
        _agents()
        .filter(team_id__in=teams, presence__status__in=ON_DUTY_PRESENCE)
        .annotate(
            open_tickets=Count("assigned_tickets", filter=Q(assigned_tickets__status__in=ACTIVE)),
            busy=Case(
                When(presence__status=PresenceStatus.AVAILABLE, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
        )
        .order_by("busy", "open_tickets", "id")
    )
    own = [a for a in ranked if a.team_id == cover]
    if cover == EMERGENCY_TEAM and cover != team:
        return Suggestion(cover, own, False, "Outside staffed hours: Emergency Care covers.")
    if any(getattr(a, "busy", 1) == 0 for a in own):
        return Suggestion(cover, own, False, "In staffed hours: the team's available members.")
    cover_agents = [a for a in ranked if a.team_id == EMERGENCY_TEAM]
    if cover_agents and cover != EMERGENCY_TEAM:
        return Suggestion(
            EMERGENCY_TEAM,
            cover_agents,
            True,
            "Nobody of the team is available: Emergency Care takes the overflow.",
        )
    return Suggestion(
        cover,
        own,
        False,
        "Nobody is available; the busy members take it next." if own else "Nobody is on duty.",
    )
