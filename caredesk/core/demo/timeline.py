"""When the demo's inquiries arrive: busier in staffed hours, quieter at night and weekends."""

from __future__ import annotations

import bisect
import itertools
import math
import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

EASTERN = ZoneInfo("America/New_York")
# Relative inquiry volume by local hour of day (the guide's staffed hours are 07:00-24:00).
HOURLY = (1, 1, 1, 1, 1, 2, 3, 6, 9, 10, 10, 10, 9, 9, 10, 10, 9, 8, 6, 5, 4, 3, 2, 1)
WEEKEND = 0.35
# This week is busier than the weeks before, so the queue shows work in every state.
RECENT_BOOST, RECENT_DAYS = 3.0, 5.0


def staffed(at: datetime) -> bool:
    """On-site hours in the guide: 07:00-24:00 on weekdays, 07:00-22:00 at weekends."""
    local = at.astimezone(EASTERN)
    close = 24 if local.weekday() < 5 else 22
    return 7 <= local.hour < close


def next_staffed(at: datetime) -> datetime:
    """`at` if the desk is staffed then, else the next 07:00 Eastern."""
    if staffed(at):
        return at
    local = at.astimezone(EASTERN)
    day = local.date() if local.hour < 7 else local.date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, 7, tzinfo=EASTERN).astimezone(at.tzinfo)


def arrivals(rng: random.Random, n: int, *, end: datetime, days: int = 60) -> list[float]:
    """`n` sorted arrival times (POSIX seconds) over the `days` before `end`."""
    start = end - timedelta(days=days)
    first_hour = start.replace(minute=0, second=0, microsecond=0)
    slots: list[tuple[float, float]] = []  # each hour, cut to [start, end)
    weights = []
    for h in range(days * 24 + 1):
        hour = first_hour + timedelta(hours=h)
        lo, hi = max(hour, start).timestamp(), min(hour + timedelta(hours=1), end).timestamp()
        if hi <= lo:
            continue
        local = hour.astimezone(EASTERN)
        age = (end - hour).total_seconds() / 86400
        recent = 1 + RECENT_BOOST * math.exp(-age / RECENT_DAYS)
        weekend = WEEKEND if local.weekday() >= 5 else 1.0
        weights.append(HOURLY[local.hour] * weekend * recent * (hi - lo) / 3600)
        slots.append((lo, hi - lo))
    cumulative = list(itertools.accumulate(weights))
    total = cumulative[-1]
    last = len(slots) - 1
    times = []
    for _ in range(n):
        lo, width = slots[min(bisect.bisect_right(cumulative, rng.random() * total), last)]
        times.append(lo + rng.random() * width)
    times.sort()
    return times
