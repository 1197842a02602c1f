"""Coverage: who is on duty at an instant.

In staffed hours each team's own members are on; outside them Emergency Care covers.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from caredesk.people.models import User
from caredesk.servicemodel.choices import EMERGENCY_TEAM, Role


def on_duty(team: str, *, at: datetime) -> QuerySet[User]:
    """The active agents who should take work for `team` at `at`."""
    from caredesk.sla.services import emergency_staffing

    agents = User.objects.filter(is_active=True).exclude(role=Role.CUSTOMER)
    if emergency_staffing(at):
        return agents.filter(team_id=EMERGENCY_TEAM)
    return agents.filter(team_id=team)


def managers() -> QuerySet[User]:
    return User.objects.filter(is_active=True, role=Role.MANAGER)
