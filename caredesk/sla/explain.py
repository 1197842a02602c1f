"""Due times that explain themselves, in the calendar's own wall clock. Pure, no Django.

    received Saturday 22:05 ET, outside email-monitoring hours; the clock starts Sunday 07:00;
    due 07:10

The zone is named once, at the receipt, by the abbreviation people use ("ET",
not "EST" or "EDT"); a later time names it again only when its abbreviation
differs, or when its wall time happens twice on a fall-back night, where the
exact abbreviation ("01:30 EST") tells the two apart.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from caredesk.sla.business_time import WeeklyCalendar, is_open, next_open

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
TARGET_WORDS = {"first_response": "first response", "escalation": "escalation"}

# Daylight-saving pairs that people name without the season, in zones of the Americas.
_GENERIC = {
    "EST": "ET",
    "EDT": "ET",
    "CST": "CT",
    "CDT": "CT",
    "MST": "MT",
    "MDT": "MT",
    "PST": "PT",
    "PDT": "PT",
    "AKST": "AKT",
    "AKDT": "AKT",
    "HST": "HT",
    "HDT": "HT",
    "AST": "AT",
    "ADT": "AT",
    "NST": "NT",
    "NDT": "NT",
}
_GENERIC_REGIONS = (
    "America/",
    "US/",
    "Canada/",
    "Pacific/Honolulu",
    "EST5EDT",
    "CST6CDT",
    "MST7MDT",
    "PST8PDT",
)


def hours_words(target: str, channel: str | None = None) -> str:
    """What the open time of a target's calendar is called in an explanation."""
    if target == "first_response" and channel == "email":
        return "email-monitoring hours"
    return "staffed hours"


def explain_due(
    *,
    received: datetime,
    due: datetime,
    calendar: WeeklyCalendar,
    hours: str = "staffed hours",
    emergency: bool = False,
) -> str:
    """Why a clock received at `received` on `calendar` is due at `due`, in one sentence.

    `hours` names the calendar's open time ("email-monitoring hours"); `emergency`
    says the inquiry arrived during emergency staffing, whose target applies.
    """
    zone = calendar.zone
    got = received.astimezone(zone)
    label = zone_label(got, calendar.time_zone)
    parts = [f"received {DAY_NAMES[got.weekday()]} {_clock(got)} {label}"]
    if emergency:
        parts[0] += ", during emergency staffing"
    start = got
    if not calendar.always_open:
        if is_open(calendar, received):
            parts[0] += f", within {hours}"
        else:
            start = next_open(calendar, received).astimezone(zone)
            parts[0] += f", outside {hours}"
            parts.append(f"the clock starts {_when(start, got, calendar.time_zone)}")
    parts.append(f"due {_when(due.astimezone(zone), start, calendar.time_zone)}")
    return "; ".join(parts)


def describe_target(
    *,
    target: str,
    duration: timedelta,
    channel: str | None = None,
    priority: str | None = None,
    calendar: WeeklyCalendar | None = None,
    hours: str = "staffed hours",
    emergency: bool = False,
) -> str:
    """The promise itself: "email first response within 10 min, counted in staffed hours"."""
    whose = channel if target == "first_response" else priority
    words = [w for w in (whose, TARGET_WORDS.get(target, target.replace("_", " "))) if w]
    text = " ".join(words)
    if emergency:
        text += " during emergency staffing"
    text += f" within {format_duration(duration)}"
    if calendar is not None:
        text += ", counted around the clock" if calendar.always_open else f", counted in {hours}"
    return text


def explain(
    *,
    target: str,
    received: datetime,
    calendar: WeeklyCalendar,
    duration: timedelta,
    due: datetime,
    channel: str | None = None,
    priority: str | None = None,
    emergency: bool = False,
    hours: str | None = None,
) -> str:
    """The promise and the reasoning: "<describe_target>: <explain_due>".

    Emergency staffing is said once, in the reasoning, next to the receipt.
    """
    words = hours or hours_words(target, channel)
    promise = describe_target(
        target=target,
        duration=duration,
        channel=channel,
        priority=priority,
        calendar=calendar,
        hours=words,
    )
    reason = explain_due(
        received=received, due=due, calendar=calendar, hours=words, emergency=emergency
    )
    return f"{promise}: {reason}"


def format_duration(value: timedelta) -> str:
    """10 min, 4 h, 1 h 30 min, 30 s, 2 d 4 h."""
    seconds = int(value.total_seconds())
    parts = []
    for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size} {unit}")
            seconds %= size
    return " ".join(parts) or "0 s"


def zone_label(local: datetime, time_zone: str) -> str:
    """The zone's abbreviation at a local time: "ET" in New York, the exact one on a repeat."""
    return (local.tzname() or time_zone) if _repeated(local) else _generic(local, time_zone)


def _generic(local: datetime, time_zone: str) -> str:
    name = local.tzname() or time_zone
    return _GENERIC.get(name, name) if time_zone.startswith(_GENERIC_REGIONS) else name


def _repeated(local: datetime) -> bool:
    return local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset()


def _clock(local: datetime) -> str:
    text = f"{local.hour:02d}:{local.minute:02d}"
    return f"{text}:{local.second:02d}" if local.second else text


def _when(local: datetime, since: datetime, time_zone: str) -> str:
    """A later local time, with its day when that differs from `since`'s, and its date a week on.

    Its zone is named when the time happens twice, or when the zone's name changed since.
    """
    text = _clock(local)
    days = (local.date() - since.date()).days
    if days >= 7:
        text = f"{DAY_NAMES[local.weekday()]} {local.date().isoformat()} {text}"
    elif days:
        text = f"{DAY_NAMES[local.weekday()]} {text}"
    if _repeated(local) or _generic(local, time_zone) != _generic(since, time_zone):
        return f"{text} {zone_label(local, time_zone)}"
    return text
