"""SLA compliance reports: counts and time buckets by aggregate SQL, percentiles in Python.

A report covers the clocks started in a period of whole days in the service model's time
zone, grouped by channel, priority, team, day or week, and split by target and by
emergency staffing: escalations that began outside staffed hours run on the model's
emergency target and are reported apart, as the guide allows.

Each clock is counted in exactly one bucket, as of the report's instant:
met; breached (stopped late); running_overdue (still open and past due, or already marked
breached by the sweep); running (open, not yet due, or paused).
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import (
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    Q,
    QuerySet,
)
from django.db.models.functions import TruncDate, TruncWeek

from caredesk.core.clock import now
from caredesk.core.errors import InvalidInput
from caredesk.core.spreadsheet import csv_text, safe_cell  # noqa: F401 -- safe_cell re-exported
from caredesk.servicemodel.choices import Channel, Priority, SlaTarget
from caredesk.servicemodel.models import PriorityLevel, ServiceSettings, Team
from caredesk.sla.models import Clock, Outcome

GROUPS = ("channel", "priority", "team", "day", "week")
DEFAULT_DAYS = 7
MAX_DAYS = 400
# Percentiles rank durations in Python; beyond this many answered clocks in one report the
# counts stay exact but the percentiles are left out rather than guessed from a sample.
MAX_TIMED = 200_000
CSV_COLUMNS = (
    "group",
    "label",
    "target",
    "emergency",
    "met",
    "breached",
    "running_overdue",
    "running",
    "total",
    "percent_met",
    "answered",
    "median_seconds",
    "p90_seconds",
)


@dataclass
class Row:
    """One group's clocks of one target, under standard or emergency staffing."""

    group: str
    label: str
    target: str
    emergency: bool
    met: int = 0
    breached: int = 0
    running_overdue: int = 0
    running: int = 0
    total: int = 0
    percent_met: float | None = None
    answered: int = 0  # stopped clocks, the ones with a response or escalation time
    median_seconds: float | None = None
    p90_seconds: float | None = None
    durations: list[float] = field(default_factory=list, repr=False)

    def finish(self, ranked: bool) -> None:
        decided = self.met + self.breached + self.running_overdue
        self.percent_met = round(100 * self.met / decided, 1) if decided else None
        if ranked and self.durations:
            ordered = sorted(self.durations)
            self.median_seconds = percentile(ordered, 50)
            self.p90_seconds = percentile(ordered, 90)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["durations"]
        return data


@dataclass
class Report:
    first_day: date
    last_day: date
    group: str
    time_zone: str
    at: datetime
    rows: list[Row]
    totals: list[Row]  # per target and staffing, over every group
    ranked: bool  # False when the period held too many answered clocks to rank

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.first_day,
            "to": self.last_day,
            "group": self.group,
            "time_zone": self.time_zone,
            "at": self.at,
            "percentiles": self.ranked,
            "rows": [r.as_dict() for r in self.rows],
            "totals": [r.as_dict() for r in self.totals],
        }


def percentile(ordered: list[float], p: float) -> float:
    """The p-th percentile of sorted values by nearest rank (a duration that occurred)."""
    rank = max(1, -(-len(ordered) * p // 100))  # ceil(n * p / 100), at least 1
    return ordered[int(rank) - 1]


def zone_of(service: ServiceSettings) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(service.time_zone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def period(
    first: date | None, last: date | None, *, zone: zoneinfo.ZoneInfo, at: datetime
) -> tuple[date, date, datetime, datetime]:
    """Whole local days [first, last] and the instants [start, end) they span."""
    today = at.astimezone(zone).date()
    last = last or (today if first is None else min(today, first + timedelta(DEFAULT_DAYS - 1)))
    first = first or last - timedelta(DEFAULT_DAYS - 1)
    if first > last:
        raise InvalidInput("`from` must not be after `to`.", field="from")
    if (last - first).days >= MAX_DAYS:
        raise InvalidInput(f"Ask for at most {MAX_DAYS} days at a time.", field="to")
    # Local midnights, so a day of 23 or 25 hours (DST) is covered exactly.
    start = datetime.combine(first, time(), zone)
    end = datetime.combine(last + timedelta(1), time(), zone)
    return first, last, start, end


def _group_expression(group: str, zone: zoneinfo.ZoneInfo) -> Any:
    return {
        "channel": F("ticket__channel"),
        "priority": F("ticket__priority"),
        "team": F("ticket__team_id"),
        "day": TruncDate("started_at", tzinfo=zone),
        "week": TruncWeek("started_at", tzinfo=zone),
    }[group]


def _key(group: str, value: Any, zone: zoneinfo.ZoneInfo) -> str:
    if isinstance(value, datetime):  # TruncWeek: the local midnight starting the week
        return value.astimezone(zone).date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _labels(group: str) -> dict[str, str]:
    if group == "channel":
        return dict(Channel.choices)
    if group == "priority":
        return dict(PriorityLevel.objects.values_list("key", "name")) or dict(Priority.choices)
    if group == "team":
        return dict(Team.objects.values_list("key", "name"))
    return {}


def _order(group: str) -> dict[str, int]:
    if group == "channel":
        return {c.value: i for i, c in enumerate(Channel)}
    if group == "priority":
        ranks = dict(PriorityLevel.objects.values_list("key", "rank"))
        return ranks or {p.value: i for i, p in enumerate(Priority)}
    if group == "team":
        return {k: i for i, k in enumerate(Team.objects.values_list("key", flat=True))}
    return {}


def _label(group: str, key: str, labels: dict[str, str]) -> str:
    if group == "week":
        day = date.fromisoformat(key)
        return f"Week of {day:%b} {day.day}, {day.year}"
    if group == "day":
        day = date.fromisoformat(key)
        return f"{day:%a %b} {day.day}, {day.year}"
    return labels.get(key, key)


def sla_compliance(
    *,
    first: date | None = None,
    last: date | None = None,
    group: str = "channel",
    at: datetime | None = None,
    percentiles: bool = True,
) -> Report:
    """SLA compliance of the clocks started in the period, by `group`, target and staffing.

    Without `percentiles` the report holds the counts only (no median or 90th percentile):
    ranking reads every answered clock of the period, the counts are one aggregate query."""
    if group not in GROUPS:
        raise InvalidInput(
            f"Unknown group {group!r}; use one of {', '.join(GROUPS)}.", field="group"
        )
    at = at or now()
    service = ServiceSettings.current()
    zone = zone_of(service)
    first, last, start, end = period(first, last, zone=zone, at=at)
    clocks = Clock.objects.filter(started_at__gte=start, started_at__lt=end).annotate(
        key=_group_expression(group, zone)
    )
    running = Q(stopped_at__isnull=True)
    overdue = running & (Q(outcome=Outcome.BREACHED) | Q(due_at__lte=at))
    counted = (
        clocks.values("key", "kind", "emergency")
        .annotate(
            met=Count("id", filter=Q(outcome=Outcome.MET)),
            breached=Count("id", filter=Q(stopped_at__isnull=False, outcome=Outcome.BREACHED)),
            running_overdue=Count("id", filter=overdue),
            still_open=Count("id", filter=running),
            answered=Count("id", filter=Q(stopped_at__isnull=False)),
            total=Count("id"),
        )
        .order_by()
    )
    labels = _labels(group)
    rows: dict[tuple[str, str, bool], Row] = {}
    for found in counted:
        key = _key(group, found["key"], zone)
        row = rows.setdefault(
            (key, found["kind"], found["emergency"]),
            Row(key, _label(group, key, labels), found["kind"], found["emergency"]),
        )
        row.met += found["met"]
        row.breached += found["breached"]
        row.running_overdue += found["running_overdue"]
        row.running += found["still_open"] - found["running_overdue"]
        row.total += found["total"]
        row.answered += found["answered"]
    ranked = percentiles and _collect_durations(clocks, rows, group, zone)
    order = _order(group)
    targets = [t.value for t in SlaTarget]
    ordered = sorted(
        rows.values(),
        key=lambda r: (
            order.get(r.group, len(order)),
            r.group,
            targets.index(r.target),
            r.emergency,
        ),
    )
    totals = _totals(ordered)
    for row in [*ordered, *totals]:
        row.finish(ranked)
    return Report(first, last, group, str(zone), at, ordered, totals, ranked)


def _collect_durations(
    clocks: QuerySet[Clock],
    rows: dict[tuple[str, str, bool], Row],
    group: str,
    zone: zoneinfo.ZoneInfo,
) -> bool:
    """Attach each stopped clock's duration to its row; False when there are too many."""
    took = ExpressionWrapper(F("stopped_at") - F("started_at"), output_field=DurationField())
    found = list(
        clocks.filter(stopped_at__isnull=False)
        .annotate(took=took)
        .values_list("key", "kind", "emergency", "took")
        .order_by()[: MAX_TIMED + 1]
    )
    if len(found) > MAX_TIMED:
        return False
    for value, kind, emergency, duration in found:
        row = rows.get((_key(group, value, zone), kind, emergency))
        if row is not None and duration is not None:
            row.durations.append(duration.total_seconds())
    return True


def _totals(rows: Iterable[Row]) -> list[Row]:
    merged: dict[tuple[str, bool], Row] = {}
    for row in rows:
        total = merged.setdefault(
            (row.target, row.emergency), Row("all", "All", row.target, row.emergency)
        )
        for name in ("met", "breached", "running_overdue", "running", "total", "answered"):
            setattr(total, name, getattr(total, name) + getattr(row, name))
        total.durations.extend(row.durations)
    targets = [t.value for t in SlaTarget]
    return sorted(merged.values(), key=lambda r: (targets.index(r.target), r.emergency))


# --- CSV ----------------------------------------------------------------------------------


def report_csv(report: Report) -> str:
    rows = []
    for row in [*report.rows, *report.totals]:
        data = row.as_dict()
        data["emergency"] = "yes" if row.emergency else "no"
        rows.append([data[c] for c in CSV_COLUMNS])
    return csv_text(CSV_COLUMNS, rows)


# --- the distribution of first-response times ------------------------------------------

RESPONSE_BUCKETS: tuple[tuple[str, float], ...] = (
    ("≤ 30 s", 30),
    ("≤ 2 min", 120),
    ("≤ 5 min", 300),
    ("≤ 10 min", 600),
    ("≤ 30 min", 1800),
    ("≤ 1 h", 3600),
    ("≤ 4 h", 4 * 3600),
    ("> 4 h", float("inf")),
)


class Elapsed(Func):
    """Seconds from `start` to `end` (two datetime columns), computed by the database: to the
    millisecond on SQLite, whose julianday() keeps milliseconds; exact on PostgreSQL."""

    output_field = FloatField()
    arg_joiner = " - "

    def __init__(self, start: str, end: str) -> None:
        super().__init__(end, start)  # the SQL reads "end - start"

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # Rounded to whole milliseconds, which drops the float error of two day numbers.
        return self.as_sql(
            compiler,
            connection,
            template="ROUND((julianday(%(expressions)s)) * 86400000) / 1000.0",
            arg_joiner=") - julianday(",
            **extra,
        )

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler, connection, template="EXTRACT(EPOCH FROM (%(expressions)s))", **extra
        )


def distribution(report: Report, target: str = SlaTarget.FIRST_RESPONSE) -> list[tuple[str, int]]:
    """How many answered clocks of `target` in the report's period took how long, in fixed
    buckets."""
    return distributions(report)[target]


def distributions(report: Report) -> dict[str, list[tuple[str, int]]]:
    """`distribution` of every target, from one aggregate query whatever the number of
    clocks."""
    zone = zoneinfo.ZoneInfo(report.time_zone)
    _, _, start, end = period(report.first_day, report.last_day, zone=zone, at=report.at)
    # Cumulative counts (at most 30 s, at most 2 min, ...); the buckets are their differences.
    upto = {
        f"b{i}": Count("id", filter=Q(took__lte=limit))
        for i, (_, limit) in enumerate(RESPONSE_BUCKETS)
        if limit != float("inf")
    }
    counted: dict[str, dict[str, Any]] = {
        row["kind"]: dict(row)
        for row in Clock.objects.filter(
            started_at__gte=start, started_at__lt=end, stopped_at__isnull=False
        )
        .annotate(took=Elapsed("started_at", "stopped_at"))
        .values("kind")
        .annotate(total=Count("id"), **upto)
        .order_by()
    }
    found = {}
    for target in SlaTarget:
        row = counted.get(target.value, {})
        cumulative: list[int] = [
            row.get(f"b{i}", row.get("total", 0)) for i in range(len(RESPONSE_BUCKETS))
        ]
        found[target.value] = [
            (name, n - (cumulative[i - 1] if i else 0))
            for i, ((name, _), n) in enumerate(zip(RESPONSE_BUCKETS, cumulative, strict=True))
        ]
    return found
