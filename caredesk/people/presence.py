"""Agents' presence: available, busy, away or offline, with an audit row for every change."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from caredesk.core.clock import now
from caredesk.core.errors import Forbidden, InvalidInput
from caredesk.people.models import Presence, PresenceChange, PresenceStatus, User
from caredesk.servicemodel.choices import Role

# Who may set another agent's presence (a lead signing out someone who forgot to).
SUPERVISORS = frozenset({Role.MANAGER, Role.ADMIN})


def presence_of(agent: User) -> str:
    """The agent's presence status; offline when never set."""
    found = Presence.objects.filter(agent=agent).values_list("status", flat=True).first()
    return found or PresenceStatus.OFFLINE


@transaction.atomic
def set_presence(agent: User, status: str, *, actor: User, at: datetime | None = None) -> Presence:
    """Set an agent's presence; agents set their own, managers and admins anyone's."""
    statuses = [s.value for s in PresenceStatus]
    if status not in statuses:
        raise InvalidInput(
            f"Unknown presence {status!r}; use one of {', '.join(statuses)}.", field="status"
        )
    if not agent.is_agent or not agent.is_active:
        raise InvalidInput(f"{agent.email} is not an active agent.", field="agent")
    if actor.pk != agent.pk and actor.role not in SUPERVISORS:
        raise Forbidden("Only managers and admins set another agent's presence.", field="agent")
    at = at or now()
    # Lock the row so two concurrent changes each audit the state they actually replaced.
    presence = Presence.objects.select_for_update().filter(agent=agent).first()
    before = presence.status if presence else PresenceStatus.OFFLINE
    if presence is None:
        presence = Presence.objects.create(agent=agent, status=status, since=at)
    elif before != status:
        presence.status, presence.since = status, at
        presence.save(update_fields=["status", "since"])
    if before != status:
        PresenceChange.objects.create(agent=agent, actor=actor, before=before, after=status, at=at)
    return presence
