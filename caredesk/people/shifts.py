"""Agents' shifts: the optional rota that narrows when an agent is on duty.

An agent without shifts follows their team's hours; an agent with shifts is on duty only
inside one of them (people/coverage.py applies the rule). A weekly shift repeats on its
days on the wall clock of the service's time zone, so it is resolved through the SLA
calendars (a WeeklyCalendar per rota): overnight spans split at midnight and DST changes
are handled where every other calendar handles them. A dated shift runs between two
instants; once it is over it is history and no longer makes its agent one with shifts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet

from caredesk.core import audit
from caredesk.core.clock import now
from caredesk.core.errors import InvalidInput, NotFound
from caredesk.people.models import Shift, User
from caredesk.servicemodel.cache import snapshot
from caredesk.sla.business_time import (
    MINUTES_PER_DAY,
    WEEKDAYS,
    WeeklyCalendar,
    is_open,
    next_open,
    open_until,
)

_TIME = re.compile(r"^(\d{1,2}):(\d\d)$")
_WEEKLY = re.compile(r"^\s*(?P<days>[A-Za-z][A-Za-z,\s-]*?)\s+(?P<times>\d.*)$")
_STRETCH_LIMIT = 64  # touching shifts joined into one stretch, at most


def service_zone() -> str:
    """The time zone shifts are written in: the service model's (America/New_York)."""
    return snapshot().settings.time_zone


# --- reading and writing shift specs -------------------------------------------------------


def parse_days(text: str) -> tuple[int, ...]:
    """ "mon-fri" → (0, 1, 2, 3, 4); "sat,sun"; "fri-mon" wraps round the week."""
    found: set[int] = set()
    for part in (text or "").lower().replace(" ", "").split(","):
        first, _, last = part.partition("-")
        if first not in WEEKDAYS or (last and last not in WEEKDAYS):
            raise InvalidInput(
                f"{part or text!r} is not a weekday or a range of them (use mon … sun, e.g. "
                f'"mon-fri" or "sat,sun").',
                field="days",
            )
        a = WEEKDAYS.index(first)
        b = WEEKDAYS.index(last) if last else a
        found.update((a + i) % 7 for i in range((b - a) % 7 + 1))
    return tuple(sorted(found))


def format_days(days: Iterable[int]) -> str:
    """(0, 1, 2, 3, 4) → "mon-fri"; (5, 6) → "sat,sun"; runs of three or more as ranges."""
    ordered = sorted(set(days))
    runs: list[list[int]] = []
    for d in ordered:
        if runs and runs[-1][-1] == d - 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    words = []
    for run in runs:
        if len(run) >= 3:
            words.append(f"{WEEKDAYS[run[0]]}-{WEEKDAYS[run[-1]]}")
        else:
            words.extend(WEEKDAYS[d] for d in run)
    return ",".join(words)


def parse_time(text: str, *, field: str, end: bool = False) -> time:
    """ "22:00" → 22:00; an end may be "24:00", stored as 00:00 (midnight)."""
    m = _TIME.match((text or "").strip())
    hour, minute = (int(g) for g in m.groups()) if m else (-1, -1)
    if end and (hour, minute) == (24, 0):
        return time(0, 0)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        latest = "24:00" if end else "23:59"
        raise InvalidInput(
            f"{text!r} is not a time of day like 22:00 (the latest is {latest}).", field=field
        )
    return time(hour, minute)


def parse_weekly(spec: str) -> tuple[str, time, time]:
    """ "mon-fri 22:00-07:00" → ("mon-fri", 22:00, 07:00)."""
    m = _WEEKLY.match(spec or "")
    start_text, sep, end_text = m.group("times").partition("-") if m else ("", "", "")
    if not m or not sep:
        raise InvalidInput(
            f'{spec!r} is not a weekly shift like "mon-fri 22:00-07:00".', field="weekly"
        )
    days = format_days(parse_days(m.group("days")))
    return days, parse_time(start_text, field="start"), parse_time(end_text, field="end", end=True)


def _minute(t: time) -> int:
    return t.hour * 60 + t.minute


def _clock(t: time, *, end: bool = False) -> str:
    return "24:00" if end and t == time(0, 0) else f"{t:%H:%M}"


def describe(shift: Shift, zone: str | None = None) -> str:
    """ "mon-fri 22:00-07:00", or "2026-12-24 22:00 EST to 2026-12-25 07:00 EST"."""
    if shift.days and shift.start is not None and shift.end is not None:
        return f"{shift.days} {_clock(shift.start)}-{_clock(shift.end, end=True)}"
    if shift.starts_at is None or shift.ends_at is None:
        return "an incomplete shift"
    tz = ZoneInfo(zone or service_zone())
    a, b = shift.starts_at.astimezone(tz), shift.ends_at.astimezone(tz)
    return f"{a:%Y-%m-%d %H:%M %Z} to {b:%Y-%m-%d %H:%M %Z}"


def check(shift: Shift) -> None:
    """The model's own rules (admin forms call this through Shift.clean): weekly with days,
    a start and an end on whole minutes, or dated with an end after its start. Normalizes
    the days ("Fri-Mon" → "mon,fri-sun")."""
    errors: dict[str, str] = {}
    dated = shift.starts_at is not None or shift.ends_at is not None
    if shift.days or shift.start is not None or shift.end is not None:
        if dated:
            errors["__all__"] = (
                "A shift is weekly (days, start, end) or dated (from, to), not both."
            )
        try:
            if not shift.days.strip():
                raise InvalidInput('A weekly shift needs its days, like "mon-fri".')
            shift.days = format_days(parse_days(shift.days))
        except InvalidInput as err:
            errors["days"] = err.message
        for name in ("start", "end"):
            value = getattr(shift, name)
            if value is None:
                errors[name] = "A weekly shift needs a start and an end."
            elif value.second or value.microsecond:
                errors[name] = "Whole minutes only, like 22:00."
    elif shift.starts_at is None or shift.ends_at is None:
        errors["__all__"] = "Give days, a start and an end (weekly), or a from and a to (dated)."
    elif shift.ends_at <= shift.starts_at:
        errors["ends_at"] = "A shift ends after it starts."
    if errors:
        raise ValidationError(errors)


def parse_instant(text: str, *, field: str, zone: str) -> datetime:
    """An ISO 8601 instant; one without an offset is read in the service's time zone."""
    try:
        value = datetime.fromisoformat((text or "").strip())
    except ValueError:
        raise InvalidInput(
            f"{text!r} is not a date and time like 2026-12-24T22:00 (ISO 8601).", field=field
        ) from None
    if value.tzinfo is not None:
        return value
    tz = ZoneInfo(zone)
    local = value.replace(tzinfo=tz)
    # A wall-clock time the spring change skips does not exist; say so rather than guess.
    if local.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != value:
        raise InvalidInput(f"{text} does not exist in {zone} (the clocks skip it).", field=field)
    return local


# --- the rules -----------------------------------------------------------------------------


def _agent(agent: User) -> User:
    if not agent.is_agent or not agent.is_active:
        raise InvalidInput(f"{agent.email} is not an active agent.", field="agent")
    return agent


@transaction.atomic
def add_shift(
    agent: User,
    *,
    actor: User | None,
    source: str,
    weekly: str | None = None,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    note: str = "",
) -> Shift:
    """Add a weekly shift ("mon-fri 22:00-07:00") or a dated one (from, to) to the rota."""
    _agent(agent)
    if (weekly is None) == (starts_at is None and ends_at is None):
        raise InvalidInput("Give a weekly shift or a from and a to, one of them.", field="weekly")
    if weekly is not None:
        days, start, end = parse_weekly(weekly)
        shift = Shift(agent=agent, days=days, start=start, end=end, note=note.strip())
    else:
        if starts_at is None or ends_at is None:
            raise InvalidInput("A dated shift needs both a from and a to.", field="to")
        if ends_at <= starts_at:
            raise InvalidInput("A shift ends after it starts.", field="to")
        if ends_at <= now():
            raise InvalidInput("That shift is already over.", field="to")
        shift = Shift(agent=agent, starts_at=starts_at, ends_at=ends_at, note=note.strip())
    try:
        shift.full_clean(exclude=["agent"])
    except ValidationError as err:
        field, messages = next(iter(err.message_dict.items()))
        raise InvalidInput(" ".join(messages), field=field) from None
    shift.save()
    audit.record(
        actor=actor, source=source, action="shift.added", obj=shift, after=audit.snapshot(shift)
    )
    return shift


@transaction.atomic
def remove_shift(shift_id: int, *, actor: User | None, source: str) -> Shift:
    shift = Shift.objects.select_related("agent").filter(pk=shift_id).first()
    if shift is None:
        raise NotFound(f"No shift {shift_id}.", field="id")
    before = audit.snapshot(shift)
    shift.delete()
    shift.pk = shift_id
    audit.record(actor=actor, source=source, action="shift.removed", obj=shift, before=before)
    return shift


def shifts_of(agent: User | None = None) -> QuerySet[Shift]:
    found = Shift.objects.select_related("agent").order_by("agent__email", "starts_at", "id")
    return found.filter(agent=agent) if agent is not None else found


# --- when a rota is on ---------------------------------------------------------------------


def counting(at: datetime) -> Q:
    """The shifts that still count at `at`: weekly ones, and dated ones not yet over."""
    return Q(starts_at__isnull=True) | Q(ends_at__gt=at)


def attach_shifts(agents: Iterable[User], *, of: QuerySet[User], at: datetime) -> None:
    """Set `agent.current_shifts` on each of `agents`, which `of` selects: one query (with
    `of` as a subquery), whatever the number of agents, so query counts stay flat."""
    found: dict[int, list[Shift]] = {}
    for shift in Shift.objects.filter(counting(at), agent__in=of.values("pk")):
        found.setdefault(shift.agent_id, []).append(shift)
    for agent in agents:
        agent.current_shifts = found.get(agent.pk, [])  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Rota:
    """An agent's shifts as instants: a weekly calendar and dated spans."""

    weekly: WeeklyCalendar | None
    dated: tuple[tuple[datetime, datetime], ...]

    def on(self, at: datetime) -> bool:
        if self.weekly is not None and is_open(self.weekly, at):
            return True
        return any(a <= at < b for a, b in self.dated)

    def until(self, at: datetime) -> datetime | None:
        """When the stretch of duty that holds `at` ends (touching shifts join); None when
        off duty at `at`, or on for longer than a week."""
        t = at
        for _ in range(_STRETCH_LIMIT):
            if not self.on(t):
                return t if t > at else None
            ends = [b for a, b in self.dated if a <= t < b]
            if self.weekly is not None and is_open(self.weekly, t):
                closes = open_until(self.weekly, t)
                if closes is None:
                    return None
                ends.append(closes)
            t = max(ends)
        return None

    def next_start(self, at: datetime) -> datetime | None:
        """When the agent next comes on duty after `at` (after the current stretch, if on)."""
        if self.on(at):
            ends = self.until(at)
            return self.next_start(ends) if ends is not None else None
        starts = [a for a, _ in self.dated if a >= at]
        if self.weekly is not None:
            starts.append(next_open(self.weekly, at))
        return min(starts, default=None)


def rota(shifts: Iterable[Shift], zone: str) -> Rota | None:
    """The rota of these shifts; None when there are none (the agent follows the team)."""
    weekly: list[tuple[tuple[int, ...], int, int]] = []
    dated: list[tuple[datetime, datetime]] = []
    for s in shifts:
        if s.days and s.start is not None and s.end is not None:
            weekly.append((parse_days(s.days), _minute(s.start), _minute(s.end)))
        elif s.starts_at is not None and s.ends_at is not None:
            dated.append((s.starts_at, s.ends_at))
    if not weekly and not dated:
        return None
    cal = _weekly_calendar(zone, tuple(sorted(weekly))) if weekly else None
    return Rota(cal, tuple(sorted(dated)))


def rota_of(agent: User, zone: str) -> Rota | None:
    """The rota of an agent given its shifts with `attach_shifts`."""
    return rota(getattr(agent, "current_shifts", ()), zone)


@lru_cache(maxsize=1024)
def _weekly_calendar(
    zone: str, lines: tuple[tuple[tuple[int, ...], int, int], ...]
) -> WeeklyCalendar:
    # Shared by every agent with the same rota, so each date is resolved to UTC once.
    week: list[list[tuple[int, int]]] = [[] for _ in WEEKDAYS]
    for days, start, end in lines:
        for day in days:
            if end > start:
                week[day].append((start, end))
                continue
            # Overnight (or 24 hours when end == start): the rest of this day, then the
            # next day's morning; an end of 00:00 is midnight and adds nothing.
            week[day].append((start, MINUTES_PER_DAY))
            if end:
                week[(day + 1) % 7].append((0, end))
    return WeeklyCalendar(time_zone=zone, week=tuple(tuple(d) for d in week))


def clock_label(instant: datetime, *, at: datetime, zone: str, end: bool = False) -> str:
    """ "07:00" within a day of `at`, "Sat 22:00" further off, in the service's zone; an
    `end` at midnight reads "24:00" (of the day before), as calendars write it."""
    local = instant.astimezone(ZoneInfo(zone))
    clock = f"{local:%H:%M}"
    if end and clock == "00:00":
        local, clock = local - timedelta(days=1), "24:00"
    if instant - at < timedelta(hours=24):
        return clock
    return f"{local:%a} {clock}"
