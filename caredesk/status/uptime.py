"""Daily uptime from the status history, as Statuspage computes it.

A major outage counts fully as downtime and a partial outage at 30%; degraded
performance and maintenance do not count. Days are the page's calendar days (its time
zone), so a bar's day matches the dates people read beside it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DOWNTIME_WEIGHT = {"major_outage": 1.0, "partial_outage": 0.3}
SEVERITY = ["operational", "under_maintenance", "degraded_performance", "partial_outage",
            "major_outage"]  # fmt: skip


@dataclass
class Day:
    day: date
    seconds: dict[str, float] = field(default_factory=dict)  # time spent in each status

    @property
    def observed(self) -> float:
        return sum(self.seconds.values())

    @property
    def downtime(self) -> float:
        return sum(DOWNTIME_WEIGHT.get(s, 0.0) * t for s, t in self.seconds.items())

    @property
    def uptime(self) -> float | None:
        """The fraction of the day up, or None for a day with no data."""
        return 1 - self.downtime / self.observed if self.observed else None

    @property
    def worst(self) -> str | None:
        seen = [s for s, t in self.seconds.items() if t > 0]
        return max(seen, key=SEVERITY.index) if seen else None


@dataclass
class Bar:
    days: list[Day]

    @property
    def uptime(self) -> float | None:
        observed = sum(d.observed for d in self.days)
        return 1 - sum(d.downtime for d in self.days) / observed if observed else None


@dataclass(frozen=True)
class Change:
    at: datetime
    old_status: str
    status: str


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    # Midnight to midnight on the page's clock: 23 or 25 hours on DST days.
    start = datetime.combine(day, time.min, zone)
    end = datetime.combine(day + timedelta(days=1), time.min, zone)
    return start, end


def bar(
    *,
    current: str,
    since: datetime,
    changes: Sequence[Change],
    now: datetime,
    zone: ZoneInfo,
    days: int = 90,
) -> Bar:
    """One component's daily bar; `changes` are its changes in or after the window, oldest
    first, and `since` is when the component (and so its data) began."""
    today = now.astimezone(zone).date()
    first_day = today - timedelta(days=days - 1)
    window_start, _ = day_bounds(first_day, zone)
    # The status at the window's start is what the first later change moved away from.
    later = [c for c in changes if c.at > window_start]
    status = later[0].old_status if later else current
    # Segments of constant status: (start, end, status).
    segments = []
    cursor = max(window_start, since)
    for change in later:
        if change.at > cursor:
            segments.append((cursor, min(change.at, now), status))
        cursor = max(cursor, change.at)
        status = change.status
    if now > cursor:
        segments.append((cursor, now, status))
    out = []
    for n in range(days):
        d = first_day + timedelta(days=n)
        start, end = day_bounds(d, zone)
        day = Day(d)
        for seg_start, seg_end, seg_status in segments:
            overlap = (min(end, seg_end) - max(start, seg_start)).total_seconds()
            if overlap > 0:
                day.seconds[seg_status] = day.seconds.get(seg_status, 0.0) + overlap
        out.append(day)
    return Bar(out)


def combined(bars: Iterable[Bar]) -> Bar:
    """Several components' bars as one (an environment's): their times added up day by day."""
    bars = list(bars)
    if not bars:
        return Bar([])
    days = []
    for parts in zip(*(b.days for b in bars), strict=True):
        day = Day(parts[0].day)
        for part in parts:
            for status, seconds in part.seconds.items():
                day.seconds[status] = day.seconds.get(status, 0.0) + seconds
        days.append(day)
    return Bar(days)


def describe(day: Day) -> str:
    """A day's tooltip: its date, its uptime and what happened."""
    label = day.day.strftime("%b %-d, %Y")
    if day.uptime is None:
        return f"{label}: no data"
    parts = [f"{label}: {day.uptime * 100:.2f}% uptime"]
    for status in ("major_outage", "partial_outage", "degraded_performance", "under_maintenance"):
        seconds = day.seconds.get(status, 0.0)
        if seconds >= 60:
            parts.append(f"{status.replace('_', ' ')} {duration(seconds)}")
    if len(parts) == 1:
        parts.append("no downtime recorded")
    return "; ".join(parts)


def duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{hours} h {minutes} min"
    return f"{hours} h" if hours else f"{minutes} min"
