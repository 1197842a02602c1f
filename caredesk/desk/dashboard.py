"""The managers' dashboard: open work by team and age, SLA compliance today and this week,
breaches, and how long first responses and escalations took. The figures come from the
reports app (the same numbers as the SLA report and its API); the charts are its SVG."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from caredesk.core.clock import now
from caredesk.people.models import User
from caredesk.portal.web import page, user_of
from caredesk.reports.services import Report, Row, distributions, sla_compliance, zone_of
from caredesk.reports.views import bars, chart_geometry, histogram
from caredesk.servicemodel.choices import Role, SlaTarget
from caredesk.servicemodel.models import ServiceSettings, Team
from caredesk.sla.models import Clock
from caredesk.tickets.access import visible_tickets
from caredesk.tickets.states import ACTIVE

# Age buckets of open tickets, by time since opening: (label, upper bound).
AGES: tuple[tuple[str, timedelta | None], ...] = (
    ("under 1 h", timedelta(hours=1)),
    ("1 to 4 h", timedelta(hours=4)),
    ("4 to 24 h", timedelta(hours=24)),
    ("1 to 3 days", timedelta(days=3)),
    ("over 3 days", None),
)
MANAGERS = frozenset({Role.MANAGER, Role.ADMIN})


@dataclass(frozen=True)
class TeamAges:
    team: Team
    counts: list[int]  # one per AGES bucket
    total: int


@dataclass(frozen=True)
class Compliance:
    label: str
    first_response: Row | None
    escalation: Row | None
    breaches: int  # breached, or running past due

    @classmethod
    def of(cls, label: str, report: Report) -> Compliance:
        standard = {r.target: r for r in report.totals if not r.emergency}
        return cls(
            label,
            standard.get(SlaTarget.FIRST_RESPONSE),
            standard.get(SlaTarget.ESCALATION),
            sum(r.breached + r.running_overdue for r in report.totals),
        )


def open_by_team_and_age(user: User, at: datetime) -> list[TeamAges]:
    """Open tickets counted by team and age in one aggregate query."""
    bounds = [at - limit for _, limit in AGES if limit is not None]
    buckets = {}
    newer: datetime | None = None
    for i, bound in enumerate(bounds):
        window = Q(created_at__gt=bound)
        if newer is not None:
            window &= Q(created_at__lte=newer)
        buckets[f"age{i}"] = Count("id", filter=window)
        newer = bound
    buckets[f"age{len(bounds)}"] = Count("id", filter=Q(created_at__lte=bounds[-1]))
    # Grouped by status first, so that SQLite reads the few open tickets through the status
    # index rather than every ticket through the team index; the statuses are summed here.
    counted: dict[str, list[int]] = {}
    for found in (
        visible_tickets(user)
        .filter(status__in=ACTIVE)
        .values("status", "team_id")
        .annotate(**buckets)
        .order_by()
    ):
        row: dict[str, Any] = dict(found)
        sums = counted.setdefault(row["team_id"], [0] * len(AGES))
        for i in range(len(AGES)):
            sums[i] += int(row[f"age{i}"])
    rows = []
    for team in Team.objects.all():
        counts = counted.get(team.key, [0] * len(AGES))
        rows.append(TeamAges(team, counts, sum(counts)))
    return rows


def overdue_now(at: datetime) -> int:
    """Running clocks already past due: breaches still open, which someone can act on."""
    # Such a clock's ticket has its earliest running due time (sla_due_at) past too: the
    # indexed column finds the few tickets, instead of reading every clock there is.
    return Clock.objects.filter(
        stopped_at__isnull=True, due_at__lte=at, ticket__sla_due_at__lte=at
    ).count()


@page(who="agent")
def dashboard(request: HttpRequest) -> HttpResponse:
    user: User = user_of(request)
    if user.role not in MANAGERS and not user.is_superuser:
        raise Http404("No such page.")
    at = now()
    today = at.astimezone(zone_of(ServiceSettings.current())).date()
    monday = today - timedelta(days=today.weekday())
    # The dashboard shows counts and time buckets, not percentiles: both come from SQL.
    day = sla_compliance(first=today, last=today, group="team", at=at, percentiles=False)
    week = sla_compliance(first=monday, last=today, group="team", at=at, percentiles=False)
    team_bars, team_height = bars(week)
    took = distributions(week)
    responses, escalations = took[SlaTarget.FIRST_RESPONSE], took[SlaTarget.ESCALATION]
    context = {
        "at": at,
        "ages": [label for label, _ in AGES],
        "open_rows": open_by_team_and_age(user, at),
        "periods": [
            Compliance.of("Today", day),
            Compliance.of(f"This week (since {monday:%a %b} {monday.day})", week),
        ],
        "overdue": overdue_now(at),
        "team_bars": team_bars,
        "team_height": team_height,
        "response_columns": histogram(responses),
        "responses": sum(n for _, n in responses),
        "escalation_columns": histogram(escalations),
        "escalations": sum(n for _, n in escalations),
        "chart": chart_geometry(),
    }
    return render(request, "desk/dashboard.html", context)
