"""Surges: several new cases or TSUP tickets about one environment in a short window.

The desk reads them to suggest opening an incident (or, when one is already open for the
environment, linking the new tickets to it). Each environment carries its threshold from
the service model (`surge_tickets` within `surge_window`). A ticket is about an
environment when it names it in its environment field, or its subject or description
mentions the environment's key as a word ("NA4 dialer down").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import F
from django.db.models.functions import Substr

from caredesk.core.clock import now
from caredesk.people.models import Organization
from caredesk.status.models import UNRESOLVED, Component, Environment, Incident, LinkedTicket
from caredesk.tickets.models import Ticket

# Customer Care cases and Technical Support tickets: the ones outages produce.
SURGE_TYPES = ("customer-care", "technical-support")
# Only the start of a long description is read: a pasted log must not slow the desk.
SCAN_CHARS = 2000


@dataclass
class Surge:
    environment: Environment
    window: timedelta
    tickets: list[Ticket]  # newest first
    components: list[Component] = field(default_factory=list)  # named in the tickets
    incident: Incident | None = None  # an open incident already about the environment
    unlinked: list[Ticket] = field(default_factory=list)  # its tickets not linked to it yet

    @property
    def numbers(self) -> list[str]:
        return [t.number for t in self.tickets]


def _word(text: str) -> re.Pattern[str]:
    # "NA4" matches in "NA4 is down" and "(na4)" but not in "NA45" or "DNA4".
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(text)}(?![A-Za-z0-9])", re.IGNORECASE)


def _text(ticket: Ticket) -> str:
    head = getattr(ticket, "head", None)
    return f"{ticket.subject}\n{ticket.description[:SCAN_CHARS] if head is None else head}"


def environments_of(ticket: Ticket, keys: list[str], single_env_orgs: dict[int, str]) -> set[str]:
    """The environments a ticket is about: its field; else the keys its words name; else
    the one environment its organization uses, when it uses exactly one."""
    if ticket.environment_id:
        return {ticket.environment_id}
    text = _text(ticket)
    named = {key for key in keys if _word(key).search(text)}
    if named:
        return named
    only = single_env_orgs.get(ticket.organization_id or 0)
    return {only} if only else set()


def _single_env_orgs(org_ids: set[int]) -> dict[int, str]:
    rows = Organization.environments.through.objects.filter(
        organization_id__in=org_ids
    ).values_list("organization_id", "environment_id")
    by_org: dict[int, list[str]] = {}
    for org, env in rows:
        by_org.setdefault(org, []).append(env)
    return {org: envs[0] for org, envs in by_org.items() if len(envs) == 1}


def surges(*, at: datetime | None = None) -> list[Surge]:
    """Every environment whose new tickets reached its threshold within its window.

    An environment with an open incident is left out once all its new tickets are linked
    to that incident: there is nothing more to suggest.
    """
    at = at or now()
    every = list(Environment.objects.all())
    envs = [e for e in every if e.surge_tickets > 0]
    if not envs:
        return []
    since = at - max(e.surge_window for e in envs)
    window = (
        Ticket.objects.filter(created_at__gt=since, created_at__lte=at, type_id__in=SURGE_TYPES)
        .only(
            "pk", "number", "subject", "environment_id", "organization_id", "created_at", "origin"
        )
        .annotate(head=Substr("description", 1, SCAN_CHARS))
        .order_by("-created_at", "-id")
    )
    # An escalation repeats its case: count the inquiry once. Sorted out here, not in SQL:
    # SQLite's statistics count NULLs as one value of `origin_id`, so `origin_id IS NULL`
    # looks selective and it would scan every case instead of the window's few tickets.
    recent: list[Ticket] = [t for t in window if t.origin_id is None]
    if not recent:
        return []
    orgs = _single_env_orgs({t.organization_id for t in recent if t.organization_id})
    keys = [e.key for e in every]
    about = {t.pk: environments_of(t, keys, orgs) for t in recent}
    found = []
    for env in envs:
        start = at - env.surge_window
        tickets = [t for t in recent if t.created_at > start and env.key in about[t.pk]]
        if len(tickets) >= env.surge_tickets:
            found.append(Surge(environment=env, window=env.surge_window, tickets=tickets))
    if not found:
        return []
    _components(found)
    return _open_incidents(found)


def _components(found: list[Surge]) -> None:
    by_env: dict[str, list[Component]] = {}
    for c in Component.objects.filter(environment__in=[s.environment for s in found]):
        by_env.setdefault(c.environment_id, []).append(c)
    for surge in found:
        texts = [_text(t) for t in surge.tickets]
        surge.components = [
            c
            for c in by_env.get(surge.environment.key, [])
            if any(_word(c.name).search(text) for text in texts)
        ]


def _open_incidents(found: list[Surge]) -> list[Surge]:
    """Attach each environment's open incident (the latest started), if any, and leave out
    the surges with nothing left to do: all their tickets linked to it. Two queries however
    many environments surge (open incidents are few)."""
    # One row per open incident and environment of an affected component (or none).
    rows = list(
        Incident.objects.filter(kind=Incident.Kind.INCIDENT, status__in=UNRESOLVED)
        .annotate(via=F("affected__component__environment_id"))
        .order_by("-started_at", "-id")
    )
    for surge in found:
        key = surge.environment.key
        surge.incident = next((i for i in rows if key in (i.environment_id, i.via)), None)
    with_incident = [s for s in found if s.incident is not None]
    if not with_incident:
        return found
    linked = set(
        LinkedTicket.objects.filter(
            incident__in={s.incident.pk for s in with_incident if s.incident},
            ticket__in=[t.pk for s in with_incident for t in s.tickets],
        ).values_list("incident_id", "ticket_id")
    )
    for surge in with_incident:
        assert surge.incident is not None
        surge.unlinked = [t for t in surge.tickets if (surge.incident.pk, t.pk) not in linked]
    return [s for s in found if s.incident is None or s.unlinked]


def for_environment(key: str, *, at: datetime | None = None) -> Surge | None:
    return next((s for s in surges(at=at) if s.environment.key == key), None)
