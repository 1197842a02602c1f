"""Where a new inbound call goes: the on-site Customer Care team in staffed hours when a
representative is available; otherwise Emergency Care (the guide's 24-hour line).

The decision reuses people.coverage's who_should_take, so the desk's "On duty now" panel
and the phone agree. An overflow in staffed hours goes to Emergency Care but keeps the
staffed-hours targets (DESIGN): only `emergency_hours` means emergency staffing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from caredesk.people.coverage import who_should_take
from caredesk.people.models import PresenceStatus, User
from caredesk.servicemodel.choices import CASE_TYPE, EMERGENCY_TEAM


@dataclass(frozen=True)
class Route:
    team: str  # customer-care or emergency-care
    overflow: bool  # Emergency Care because no representative is available
    emergency_hours: bool  # outside staffed hours
    reason: str
    agent: User | None = None  # an available agent (by presence and shifts), if any


def _available(agent: User) -> bool:
    # who_should_take ranks available (0) before busy (1).
    return getattr(agent, "busy", 1) == 0


def route(*, at: datetime) -> Route:
    # Every call asks: without the agents' workload, whose count grows with the tickets.
    found = who_should_take(CASE_TYPE, at=at, by_workload=False)
    if found.team == EMERGENCY_TEAM and not found.overflow:
        return Route(EMERGENCY_TEAM, False, True, found.reason, found.first)
    if found.overflow:
        return Route(EMERGENCY_TEAM, True, False, found.reason, found.first)
    if any(_available(a) for a in found.agents):
        pick = next(a for a in found.agents if _available(a))
        return Route(CASE_TYPE, False, False, found.reason, pick)
    if found.agents:
        # Every representative is busy and no Emergency Care member marked themselves
        # present: the line still overflows to Emergency Care, as the guide says.
        return Route(
            EMERGENCY_TEAM, True, False, "Every representative is busy: Emergency Care answers."
        )
    if _nobody_keeps_presence():
        return Route(CASE_TYPE, False, False, "In staffed hours (nobody keeps presence).")
    return Route(EMERGENCY_TEAM, True, False, "No representative is available.")


def _nobody_keeps_presence() -> bool:
    """A desk where no agent ever marked themselves available or busy: route by the
    calendar alone rather than send every staffed-hours call to Emergency Care."""
    return not User.objects.filter(
        presence__status__in=[PresenceStatus.AVAILABLE, PresenceStatus.BUSY]
    ).exists()
