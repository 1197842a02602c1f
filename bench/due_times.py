"""Due-time computations per second: add_business_time on the staffed calendar.

Start instants are random over 2026-2027 (fixed seed) and targets are the model's
email, Medium and Low targets; the run lasts at least a second.

    .venv/bin/python bench/due_times.py [--seconds S]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from caredesk.sla.business_time import WEEKDAYS, WeeklyCalendar, add_business_time  # noqa: E402

TARGET_PER_SECOND = 100_000


def staffed_calendar() -> WeeklyCalendar:
    model = tomllib.loads((ROOT / "service-model.toml").read_text())
    cal = model["calendars"]["staffed"]
    hours = {day: cal.get(day, []) for day in WEEKDAYS}
    return WeeklyCalendar.from_hours(cal["time_zone"], hours, cal.get("holidays", []))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.5, help="minimum run time")
    args = parser.parse_args()

    rng = random.Random(20260308)
    origin = datetime(2026, 1, 1, tzinfo=UTC)
    span = int(timedelta(days=730).total_seconds())
    starts = [origin + timedelta(seconds=rng.randrange(span)) for _ in range(100_000)]
    targets = [timedelta(minutes=10), timedelta(hours=4), timedelta(hours=8)]
    durations = [rng.choice(targets) for _ in starts]
    work = list(zip(starts, durations, strict=True))
    cal = staffed_calendar()

    done = 0
    began = time.perf_counter()
    elapsed = 0.0
    while elapsed < args.seconds:
        for start, duration in work:
            add_business_time(cal, start, duration)
        done += len(work)
        elapsed = time.perf_counter() - began
    rate = done / elapsed
    verdict = "ok" if rate >= TARGET_PER_SECOND else "BELOW TARGET"
    print(
        f"add_business_time (staffed calendar): {done:,} due times in {elapsed:.2f} s"
        f" = {rate:,.0f}/s (target {TARGET_PER_SECOND:,}/s: {verdict})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
