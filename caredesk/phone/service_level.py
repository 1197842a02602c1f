"""Answer-time service level: offered, answered and abandoned calls, average speed of
answer and the share answered within the target, per 15- or 30-minute interval (in the
service model's zone), per queue, with the on-site team and Emergency Care apart; and the
staff each interval needs by Erlang C.

Counting rules (stated once, used by the API, the CSV, the wallboard and the simulator):
- a call is offered when it rang in the interval, came in, was not a transfer leg (a
  transfer continues a call already offered) nor from a blocked number, and was decided
  (answered or ended);
- short abandons (the caller hung up within 5 s) are reported apart and not offered;
- service level = answered within the target ÷ offered: every abandon, busy or failed
  call counts as a miss.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import Q

from caredesk.core.clock import now
from caredesk.core.errors import InvalidInput
from caredesk.core.spreadsheet import csv_text
from caredesk.phone.erlang import agents_needed
from caredesk.phone.models import Call, CallOutcome, Direction
from caredesk.reports.services import period, zone_of
from caredesk.servicemodel.cache import snapshot

TARGET_SECONDS = 30.0
GOAL = 0.8
INTERVALS = (15, 30, 60)
MAX_DAYS = 31
ON_SITE = "customer-care"


@dataclass
class Figures:
    """One group's calls: the counts and the sums the averages come from."""

    interval: str  # ISO start of the interval in the model's zone, or "" for totals
    queue: str
    routed_to: str
    offered: int = 0
    answered: int = 0
    answered_in_target: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    other_missed: int = 0  # busy, rejected, failed
    asa_seconds: float | None = None
    handle_seconds: float | None = None
    service_level: float | None = None  # percent
    agents_needed: int | None = None
    waits: list[float] = field(default_factory=list, repr=False)
    handles: list[float] = field(default_factory=list, repr=False)

    def add(self, call: Call) -> None:
        if call.outcome == CallOutcome.SHORT_ABANDONED:
            self.short_abandoned += 1
            return
        self.offered += 1
        if call.answered_at is not None:
            self.answered += 1
            wait = call.wait_seconds or 0.0
            self.waits.append(wait)
            if wait <= TARGET_SECONDS:
                self.answered_in_target += 1
            if call.duration_seconds is not None:
                self.handles.append(call.duration_seconds)
        elif call.outcome == CallOutcome.ABANDONED:
            self.abandoned += 1
        else:
            self.other_missed += 1

    def finish(self, interval_seconds: float | None) -> None:
        if self.waits:
            self.asa_seconds = round(sum(self.waits) / len(self.waits), 1)
        if self.handles:
            self.handle_seconds = round(sum(self.handles) / len(self.handles), 1)
        if self.offered:
            self.service_level = round(100 * self.answered_in_target / self.offered, 1)
        if interval_seconds and self.handle_seconds:
            self.agents_needed = agents_needed(
                calls=self.offered,
                interval_seconds=interval_seconds,
                handle_seconds=self.handle_seconds,
                target_seconds=TARGET_SECONDS,
                goal=GOAL,
            )

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["waits"], data["handles"]
        return data


@dataclass
class ServiceLevel:
    first_day: date
    last_day: date
    interval_minutes: int
    time_zone: str
    at: datetime
    rows: list[Figures]  # per interval, queue and staffing, in time order
    totals: list[Figures]  # per queue and staffing over the period
    overall: Figures

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.first_day,
            "to": self.last_day,
            "interval_minutes": self.interval_minutes,
            "time_zone": self.time_zone,
            "at": self.at,
            "target_seconds": TARGET_SECONDS,
            "goal_percent": GOAL * 100,
            "rows": [r.as_dict() for r in self.rows],
            "totals": [r.as_dict() for r in self.totals],
            "overall": self.overall.as_dict(),
        }


def zone() -> zoneinfo.ZoneInfo:
    return zone_of(snapshot().settings)


def interval_start(at: datetime, minutes: int, tz: zoneinfo.ZoneInfo) -> datetime:
    local = at.astimezone(tz)
    return local.replace(minute=local.minute - local.minute % minutes, second=0, microsecond=0)


def offered_calls(start: datetime, end: datetime) -> list[Call]:
    """The decided inbound first legs that rang in [start, end)."""
    return list(
        Call.objects.filter(
            direction=Direction.IN,
            transferred_from__isnull=True,
            blocked=False,
            started_at__gte=start,
            started_at__lt=end,
        )
        .filter(Q(answered_at__isnull=False) | Q(ended_at__isnull=False))
        .only("id", "queue", "routed_to", "outcome", "started_at", "answered_at", "ended_at")
        .order_by("started_at", "id")
    )


def compute(
    *,
    first: date | None = None,
    last: date | None = None,
    interval: int = 30,
    queue: str | None = None,
    at: datetime | None = None,
) -> ServiceLevel:
    """The service level of the days from `first` to `last` (default: today)."""
    if interval not in INTERVALS:
        raise InvalidInput(
            f"interval must be one of {', '.join(map(str, INTERVALS))} minutes.", field="interval"
        )
    at = at or now()
    tz = zone()
    # One day by default (a wallboard's today), where the SLA report defaults to a week.
    last = last or first or at.astimezone(tz).date()
    first, last, start, end = period(first or last, last, zone=tz, at=at)
    if (last - first).days >= MAX_DAYS:
        raise InvalidInput(f"A service-level report covers at most {MAX_DAYS} days.", field="to")
    seconds = interval * 60.0
    rows: dict[tuple[str, str, str], Figures] = {}
    totals: dict[tuple[str, str], Figures] = {}
    overall = Figures("", "", "")
    for call in offered_calls(start, end):
        if queue and call.queue != queue:
            continue
        assert call.started_at is not None
        slot = interval_start(call.started_at, interval, tz).isoformat()
        key = (slot, call.queue, call.routed_to)
        rows.setdefault(key, Figures(*key)).add(call)
        totals.setdefault(key[1:], Figures("", *key[1:])).add(call)
        overall.add(call)
    for row in rows.values():
        row.finish(seconds)
    for row in (*totals.values(), overall):
        row.finish(None)
    return ServiceLevel(
        first_day=first,
        last_day=last,
        interval_minutes=interval,
        time_zone=str(tz),
        at=at,
        rows=[rows[k] for k in sorted(rows)],
        totals=[totals[k] for k in sorted(totals)],
        overall=overall,
    )


CSV_COLUMNS = (
    "interval",
    "queue",
    "routed_to",
    "offered",
    "answered",
    "answered_in_target",
    "abandoned",
    "short_abandoned",
    "other_missed",
    "asa_seconds",
    "handle_seconds",
    "service_level",
    "agents_needed",
)


def as_csv(report: ServiceLevel) -> str:
    rows = (row.as_dict() for row in report.rows)
    return csv_text(CSV_COLUMNS, ([data[c] for c in CSV_COLUMNS] for data in rows))
