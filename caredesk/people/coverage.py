"""Coverage: who is on duty at an instant, and who should take new work.

In staffed hours each team's own members are on; outside them Emergency Care covers.
An agent counts as on duty while their presence is available or busy. When nobody of a
team is available, Emergency Care takes the overflow (the guide: the phone goes to
Emergency Care "when every representative is busy").

Shifts are optional: an agent without any follows the team's hours as above; an agent with
shifts is on duty only inside one of them, and still needs to be available or busy where
presence is kept (people/shifts.py). A shift narrows an agent's duty; it never moves the
staffed hours, so outside them Emergency Care covers as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, QuerySet, Value, When

from caredesk.core.prepared import Prepared
from caredesk.people.models import ON_DUTY_PRESENCE, PresenceStatus, Shift, User
from caredesk.people.shifts import attach_shifts, counting, rota_of, service_zone
from caredesk.servicemodel.choices import EMERGENCY_TEAM, Role


def _agents() -> QuerySet[User]:
    return User.objects.filter(is_active=True).exclude(role=Role.CUSTOMER)


def _on_rota(
    agents: QuerySet[User],
    at: datetime,
    *,
    ranked: QuerySet[User] | None = None,
    found: list[User] | None = None,
) -> list[User]:
    """The agents whose shifts hold `at`, and those without shifts (as `ranked` orders them,
    when given, or `found` when they are read already): two queries, the agents and their
    shifts, whatever their number."""
    zone = service_zone()
    if found is None:
        found = list(agents if ranked is None else ranked)
    attach_shifts(found, of=agents, at=at)
    return [a for a in found if (r := rota_of(a, zone)) is None or r.on(at)]


def _ids(agents: Iterable[User]) -> list[int]:
    return [a.pk for a in agents]


def covering_team(team: str, *, at: datetime) -> str:
    """The team whose members take `team`'s work at `at`: itself, or Emergency Care."""
    from caredesk.sla.services import emergency_staffing

    return EMERGENCY_TEAM if emergency_staffing(at) else team


def on_duty(team: str, *, at: datetime) -> QuerySet[User]:
    """The active agents on duty for `team` at `at`: the covering team's members who are
    available or busy, and inside a shift when they have shifts. When none of them is,
    Emergency Care's present members take the overflow; when nobody at all has marked
    themselves present (a desk that does not keep presence), the covering team's roster
    (still by shifts) answers, so that a breach notice reaches someone.
    """
    cover = covering_team(team, at=at)
    teams = [cover] if cover == EMERGENCY_TEAM else [cover, EMERGENCY_TEAM]
    present = _on_rota(
        _agents().filter(team_id__in=teams, presence__status__in=ON_DUTY_PRESENCE), at
    )
    found = {a.team_id for a in present}
    if found:
        pick = cover if cover in found else EMERGENCY_TEAM
        return _agents().filter(pk__in=_ids(a for a in present if a.team_id == pick))
    return _agents().filter(pk__in=_ids(_on_rota(_agents().filter(team_id=cover), at)))


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


def _busy() -> Case:
    # Available (0) before busy (1).
    return Case(
        When(presence__status=PresenceStatus.AVAILABLE, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )


def _present(teams: Iterable[str]) -> QuerySet[User]:
    return _agents().filter(team_id__in=teams, presence__status__in=ON_DUTY_PRESENCE)


_BY_PRESENCE: dict[tuple[str, ...], Prepared[User]] = {}


def _by_presence(teams: tuple[str, ...], at: datetime) -> list[User]:
    """The teams' present agents on their rota, available before busy, then by id. The
    phone asks on every call, so the query is compiled once per process, and the agents'
    shifts are read only when one of them has any."""
    query = _BY_PRESENCE.get(teams)
    if query is None:
        query = _BY_PRESENCE[teams] = Prepared(
            lambda: (
                _present(teams)
                .annotate(
                    busy=_busy(), has_shifts=Exists(Shift.objects.filter(agent=OuterRef("pk")))
                )
                .order_by("busy", "id")
            )
        )
    found = query.all()
    if not any(agent.has_shifts for agent in found):  # type: ignore[attr-defined]
        return found  # nobody has a rota: everyone present is on duty
    return _on_rota(_present(teams), at, found=found)


def _teams(cover: str) -> tuple[str, ...]:
    """The teams whose present agents may take work that `cover` covers."""
    return (cover,) if cover == EMERGENCY_TEAM else (cover, EMERGENCY_TEAM)


def _by_workload(teams: tuple[str, ...], at: datetime) -> list[User]:
    """The teams' present agents on their rota, available before busy, then by their open
    assigned tickets, then by id: two queries, the ranked agents and their shifts."""
    from caredesk.tickets.states import ACTIVE

    present = _present(teams)
    return _on_rota(
        present,
        at,
        ranked=present.annotate(
            open_tickets=Count("assigned_tickets", filter=Q(assigned_tickets__status__in=ACTIVE)),
            busy=_busy(),
        ).order_by("busy", "open_tickets", "id"),
    )


def _choose(team: str, cover: str, ranked: list[User]) -> Suggestion:
    """The rule: who of `ranked` (best first, of the covering team and Emergency Care) takes
    `team`'s next ticket when `cover` covers it."""
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


def who_should_take(team: str, *, at: datetime, by_workload: bool = True) -> Suggestion:
    """The on-duty agents who should take `team`'s next ticket: available before busy, then
    those with the fewest open assigned tickets; an agent with shifts only inside one.
    Outside staffed hours Emergency Care; in staffed hours Emergency Care too when no member
    of the team is available. `by_workload=False` leaves out the open tickets (ties go by
    id): the same team and agents at a cost that does not grow with the tickets, for the
    phone, which routes every call by it."""
    cover = covering_team(team, at=at)
    teams = _teams(cover)
    ranked = _by_workload(teams, at) if by_workload else _by_presence(teams, at)
    return _choose(team, cover, ranked)


def who_should_take_each(teams: Iterable[str], *, at: datetime) -> dict[str, Suggestion]:
    """`who_should_take` for each of `teams` (by workload): two queries in all, whatever the
    number of teams, as every team's candidates are ranked in one list and an agent's rank
    does not depend on which team asks."""
    covers = {team: covering_team(team, at=at) for team in teams}
    if not covers:
        return {}
    involved = sorted({t for cover in covers.values() for t in _teams(cover)})
    ranked = _by_workload(tuple(involved), at)
    return {
        team: _choose(team, cover, [a for a in ranked if a.team_id in _teams(cover)])
        for team, cover in covers.items()
    }


@dataclass(frozen=True)
class ComingOn:
    """The members of a team whose shifts start soonest after an instant."""

    at: datetime
    agents: list[User]


def coming_on(*, at: datetime, within: timedelta = timedelta(days=7)) -> dict[str, ComingOn]:
    """For each team, who comes on next by their shifts (not counting those on a shift at
    `at`), within `within`: two queries, whatever the number of agents."""
    zone = service_zone()
    with_shifts = _agents().filter(
        team__isnull=False, pk__in=Shift.objects.filter(counting(at)).values("agent_id")
    )
    agents = list(with_shifts.order_by("name", "email"))
    attach_shifts(agents, of=with_shifts, at=at)
    found: dict[str, ComingOn] = {}
    for agent in agents:
        rota = rota_of(agent, zone)
        start = rota.next_start(at) if rota is not None and not rota.on(at) else None
        if start is None or start - at > within or agent.team_id is None:
            continue
        best = found.get(agent.team_id)
        if best is None or start < best.at:
            found[agent.team_id] = ComingOn(start, [agent])
        elif start == best.at:
            best.agents.append(agent)
    return found
