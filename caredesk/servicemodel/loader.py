"""Load, validate and export the service model file (TOML).

Validation collects every problem, each naming the file, the key and what is wrong;
a file with any problem changes nothing.
"""

from __future__ import annotations

import re
import tomllib
import zoneinfo
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import tomli_w
from django.db import transaction
from django.db.models import Model, ProtectedError

from caredesk.servicemodel.choices import Channel, Priority, Role
from caredesk.servicemodel.durations import format_duration, parse_duration
from caredesk.servicemodel.models import (
    WEEKDAYS,
    Calendar,
    Category,
    ChannelTarget,
    PriorityLevel,
    ServiceSettings,
    Team,
    TicketCounter,
    TicketType,
)
from caredesk.servicemodel.public_holidays import public_holidays_problem
from caredesk.status import services as status_services
from caredesk.status.models import Component, ComponentStatus, Environment

KEY = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
ENV_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
INTERVAL = re.compile(r"^(\d\d):(\d\d)-(\d\d):(\d\d)$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
REQUIRED_TYPES = ("customer-care",)
KIND_NAMES: dict[type, str] = {
    str: "a string",
    list: "a list",
    int: "a whole number",
    float: "a decimal number",
    bool: "true or false",
    dict: "a table",
}
MAX_KEY = 50  # the key columns' length
MAX_NUMBER = 2**31 - 1  # first_number is an integer column on PostgreSQL
# When the desk suggests an incident: this many new tickets about one environment in the window.
SURGE_DEFAULT: dict[str, Any] = {"surge_tickets": 3, "surge_window": timedelta(minutes=30)}


class ModelFileError(Exception):
    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__("\n".join(f"{source}: {p}" for p in problems))


@dataclass
class _Checker:
    problems: list[str] = field(default_factory=list)

    def fail(self, path: str, problem: str) -> None:
        self.problems.append(f"{path}: {problem}")

    def table(self, data: dict[str, Any], path: str, *, required: bool = True) -> dict[str, Any]:
        value = data.get(path.rsplit(".", 1)[-1])
        if value is None:
            if required:
                self.fail(path, "is missing")
            return {}
        if not isinstance(value, dict):
            self.fail(path, "must be a table")
            return {}
        return value

    def get(
        self,
        data: dict[str, Any],
        path: str,
        kind: type | tuple[type, ...],
        default: Any = ...,
    ) -> Any:
        name = path.rsplit(".", 1)[-1]
        if name not in data:
            if default is ...:
                self.fail(path, "is missing")
                return None
            return default
        value = data[name]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            kinds = kind if isinstance(kind, tuple) else (kind,)
            names = " or ".join(KIND_NAMES.get(k, k.__name__) for k in kinds)
            self.fail(path, f"must be {names}, not {value!r}")
            return None
        return value

    def strings(self, data: dict[str, Any], path: str) -> list[str]:
        """A list of words (keywords, subjects): triage matches them, so none may be blank."""
        items = self.get(data, path, list, [])
        for i, item in enumerate(items or []):
            if not isinstance(item, str):
                self.fail(f"{path}[{i}]", f"must be a string, not {item!r}")
            elif not item.strip():
                self.fail(f"{path}[{i}]", "is empty; remove it or write the words")
        return list(items or [])

    def duration(self, data: dict[str, Any], path: str) -> Any:
        text = self.get(data, path, str)
        if text is None:
            return None
        try:
            return parse_duration(text)
        except ValueError as exc:
            self.fail(path, str(exc))
            return None

    def ref(self, value: Any, known: dict[str, Any] | set[str], path: str, what: str) -> None:
        if value is not None and value not in known:
            self.fail(
                path,
                f"names the unknown {what} {value!r} (known: {', '.join(sorted(known)) or 'none'})",
            )

    def choice(self, value: Any, allowed: list[str], path: str) -> None:
        if value is not None and value not in allowed:
            self.fail(path, f"is {value!r}; use one of {', '.join(allowed)}")

    def keys(self, table: dict[str, Any], path: str, pattern: re.Pattern[str] = KEY) -> None:
        for key in table:
            if not pattern.match(key):
                self.fail(f"{path}.{key}", "is not a valid key (lowercase words joined by hyphens)")
            elif len(key) > MAX_KEY:
                self.fail(f"{path}.{key}", f"is longer than {MAX_KEY} characters")


CALENDAR_FIELDS = (
    "name",
    "time_zone",
    "holidays",
    "exceptions",
    "holiday_country",
    "holiday_subdivision",
)


def _check_spans(c: _Checker, spans: list[Any], path: str) -> list[str]:
    """One day's intervals ("07:00-24:00"), in order and not overlapping; the good ones."""
    good: list[str] = []
    previous_end = -1
    for i, span in enumerate(spans):
        where = f"{path}[{i}]"
        m = INTERVAL.match(span) if isinstance(span, str) else None
        if not m:
            c.fail(where, f'{span!r} is not an interval like "07:00-24:00"')
            continue
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if h1 > 23 or m1 > 59 or m2 > 59 or end > 24 * 60:
            c.fail(where, f"{span!r} is not a time of day (24:00 is the latest end)")
        elif end <= start:
            c.fail(where, f"{span!r} ends before it starts")
        elif start < previous_end:
            c.fail(where, f"{span!r} overlaps the interval before it; list intervals in order")
        else:
            previous_end = end
            good.append(span)
    return good


def _check_hours(c: _Checker, cal: dict[str, Any], path: str) -> dict[str, list[str]]:
    hours: dict[str, list[str]] = {}
    for day in WEEKDAYS:
        spans = c.get(cal, f"{path}.{day}", list, [])
        hours[day] = _check_spans(c, spans or [], f"{path}.{day}")
    unknown = set(cal) - {*WEEKDAYS, *CALENDAR_FIELDS}
    for key in sorted(unknown):
        c.fail(
            f"{path}.{key}",
            f"is not a calendar field (use mon … sun, {', '.join(CALENDAR_FIELDS)})",
        )
    return hours


def _check_exceptions(c: _Checker, cal: dict[str, Any], path: str) -> dict[str, list[str]]:
    """{"2026-12-24": ["07:00-14:00"], "2026-12-31": []}: dates with their own hours."""
    table = c.get(cal, f"{path}.exceptions", dict, {})
    out: dict[str, list[str]] = {}
    for day, spans in (table or {}).items():
        where = f"{path}.exceptions.{day}"
        if not (DATE.match(day) and _is_date(day)):
            c.fail(where, f'{day!r} is not a date like "2026-12-24"')
            continue
        if not isinstance(spans, list):
            c.fail(
                where,
                f'must be a list of intervals like ["07:00-14:00"] (or [] to close), not {spans!r}',
            )
            continue
        out[day] = _check_spans(c, spans, where)
    return dict(sorted(out.items()))


def _check_country(c: _Checker, cal: dict[str, Any], path: str) -> tuple[str, str]:
    """A country (and subdivision) whose public holidays the `holidays` package knows."""
    country = c.get(cal, f"{path}.holiday_country", str, "") or ""
    subdivision = c.get(cal, f"{path}.holiday_subdivision", str, "") or ""
    if not country:
        if subdivision:
            c.fail(
                f"{path}.holiday_subdivision",
                f'{subdivision!r} needs a holiday_country (for example "US")',
            )
        return "", ""
    problem = public_holidays_problem(country, subdivision)
    if problem is not None:
        field_name = "holiday_subdivision" if problem[0] == "subdivision" else "holiday_country"
        c.fail(f"{path}.{field_name}", problem[1])
    return country, subdivision


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _check_zone(c: _Checker, value: Any, path: str) -> None:
    if value is None:
        return
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        c.fail(path, f"{value!r} is not a time zone (for example America/New_York)")


def validate(data: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Check a parsed model file; answer the normalized model and the problems found."""
    c = _Checker()
    out: dict[str, Any] = {}

    org = c.table(data, "organization")
    out["organization"] = {
        "name": c.get(org, "organization.name", str),
        "time_zone": c.get(org, "organization.time_zone", str),
        "email": c.get(org, "organization.email", str, ""),
        "phone": c.get(org, "organization.phone", str, ""),
        "status_page": c.get(org, "organization.status_page", str, ""),
    }
    _check_zone(c, out["organization"]["time_zone"], "organization.time_zone")

    calendars = c.table(data, "calendars")
    c.keys(calendars, "calendars")
    out["calendars"] = {}
    for key, cal in calendars.items():
        path = f"calendars.{key}"
        if not isinstance(cal, dict):
            c.fail(path, "must be a table")
            continue
        zone = c.get(cal, f"{path}.time_zone", str)
        _check_zone(c, zone, f"{path}.time_zone")
        holidays = c.get(cal, f"{path}.holidays", list, [])
        for i, day in enumerate(holidays or []):
            if not (isinstance(day, str) and DATE.match(day) and _is_date(day)):
                c.fail(f"{path}.holidays[{i}]", f'{day!r} is not a date like "2026-12-25"')
        country, subdivision = _check_country(c, cal, path)
        out["calendars"][key] = {
            "name": c.get(cal, f"{path}.name", str),
            "time_zone": zone,
            "holidays": holidays or [],
            "hours": _check_hours(c, cal, path),
            "exceptions": _check_exceptions(c, cal, path),
            "holiday_country": country,
            "holiday_subdivision": subdivision,
        }
    cal_keys = set(out["calendars"])

    roles = [r.value for r in Role if r is not Role.CUSTOMER]
    teams = c.table(data, "teams")
    c.keys(teams, "teams")
    out["teams"] = {}
    for key, team in teams.items():
        path = f"teams.{key}"
        if not isinstance(team, dict):
            c.fail(path, "must be a table")
            continue
        item = {
            "name": c.get(team, f"{path}.name", str),
            "role": c.get(team, f"{path}.role", str),
            "email": c.get(team, f"{path}.email", str, ""),
            "calendar": c.get(team, f"{path}.calendar", str),
            "covers": c.get(team, f"{path}.covers", bool, False),
            "description": c.get(team, f"{path}.description", str, ""),
        }
        c.choice(item["role"], roles, f"{path}.role")
        c.ref(item["calendar"], cal_keys, f"{path}.calendar", "calendar")
        out["teams"][key] = item

    types = c.table(data, "ticket_types")
    c.keys(types, "ticket_types")
    out["ticket_types"] = {}
    for key, tt in types.items():
        path = f"ticket_types.{key}"
        if not isinstance(tt, dict):
            c.fail(path, "must be a table")
            continue
        item = {
            "name": c.get(tt, f"{path}.name", str),
            "number_format": c.get(tt, f"{path}.number_format", str),
            "first_number": c.get(tt, f"{path}.first_number", int),
            "team": c.get(tt, f"{path}.team", str),
            "escalation": c.get(tt, f"{path}.escalation", bool, False),
            "subjects": c.strings(tt, f"{path}.subjects"),
            "triage_keywords": c.strings(tt, f"{path}.triage_keywords"),
        }
        fmt = item["number_format"]
        if fmt is not None and fmt.count("{n}") != 1:
            c.fail(
                f"{path}.number_format",
                f'{fmt!r} must hold "{{n}}" exactly once, like "CASE-{{n}}"',
            )
        if item["first_number"] is not None and item["first_number"] < 0:
            c.fail(f"{path}.first_number", "must not be negative")
        elif item["first_number"] is not None and item["first_number"] > MAX_NUMBER:
            c.fail(f"{path}.first_number", f"must be at most {MAX_NUMBER}")
        c.ref(item["team"], teams, f"{path}.team", "team")
        out["ticket_types"][key] = item
    for key in REQUIRED_TYPES:
        # An empty [ticket_types] is as wrong as a missing one (which table() reported).
        if isinstance(data.get("ticket_types"), dict) and key not in types:
            c.fail(f"ticket_types.{key}", "is missing: every inquiry opens a Customer Care case")
    formats = [t["number_format"] for t in out["ticket_types"].values() if t["number_format"]]
    if len(formats) != len(set(formats)):
        c.fail(
            "ticket_types", "two ticket types share a number_format; their numbers would collide"
        )

    categories = c.table(data, "categories", required=False)
    c.keys(categories, "categories")
    out["categories"] = {}
    for key, cat in categories.items():
        path = f"categories.{key}"
        if not isinstance(cat, dict):
            c.fail(path, "must be a table")
            continue
        item = {
            "name": c.get(cat, f"{path}.name", str),
            "ticket_type": c.get(cat, f"{path}.ticket_type", str),
            "work_order": c.get(cat, f"{path}.work_order", bool, False),
            "description": c.get(cat, f"{path}.description", str, ""),
            "keywords": c.strings(cat, f"{path}.keywords"),
        }
        c.ref(item["ticket_type"], types, f"{path}.ticket_type", "ticket type")
        out["categories"][key] = item

    priorities = c.table(data, "priorities")
    out["priorities"] = {}
    for key in [p.value for p in Priority]:
        if key not in priorities:
            c.fail(f"priorities.{key}", "is missing (every priority needs its escalation target)")
    for key, pr in priorities.items():
        path = f"priorities.{key}"
        c.choice(key, [p.value for p in Priority], path)
        if not isinstance(pr, dict):
            c.fail(path, "must be a table")
            continue
        item = {
            "name": c.get(pr, f"{path}.name", str),
            "rank": c.get(pr, f"{path}.rank", int),
            "escalation_target": c.duration(pr, f"{path}.escalation_target"),
            "escalation_calendar": c.get(pr, f"{path}.escalation_calendar", str),
            "emergency_escalation_target": c.duration(pr, f"{path}.emergency_escalation_target"),
        }
        c.ref(item["escalation_calendar"], cal_keys, f"{path}.escalation_calendar", "calendar")
        out["priorities"][key] = item

    channels = c.table(data, "channels")
    out["channels"] = {}
    for key in [ch.value for ch in Channel]:
        if key not in channels:
            c.fail(f"channels.{key}", "is missing (every channel needs its first-response target)")
    for key, ch in channels.items():
        path = f"channels.{key}"
        c.choice(key, [ch.value for ch in Channel], path)
        if not isinstance(ch, dict):
            c.fail(path, "must be a table")
            continue
        item = {
            "name": c.get(ch, f"{path}.name", str),
            "first_response_target": c.duration(ch, f"{path}.first_response_target"),
            "first_response_calendar": c.get(ch, f"{path}.first_response_calendar", str),
        }
        c.ref(
            item["first_response_calendar"], cal_keys, f"{path}.first_response_calendar", "calendar"
        )
        out["channels"][key] = item

    sla = c.table(data, "sla")
    out["sla"] = {
        "default_priority": c.get(sla, "sla.default_priority", str, "medium"),
        "warning_ratio": c.get(sla, "sla.warning_ratio", (float, int), 0.8),
        "pause_when_waiting": c.get(sla, "sla.pause_when_waiting", list, []),
        "emergency_calendar": c.get(sla, "sla.emergency_calendar", str, None),
    }
    c.choice(out["sla"]["default_priority"], [p.value for p in Priority], "sla.default_priority")
    ratio = out["sla"]["warning_ratio"]
    if ratio is not None and not 0 < ratio < 1:
        c.fail("sla.warning_ratio", f"is {ratio}; give a fraction between 0 and 1, like 0.8")
    for i, target in enumerate(out["sla"]["pause_when_waiting"] or []):
        c.choice(target, ["first_response", "escalation"], f"sla.pause_when_waiting[{i}]")
    c.ref(out["sla"]["emergency_calendar"], cal_keys, "sla.emergency_calendar", "calendar")

    page = c.table(data, "status_page", required=False)
    out["status_page"] = {
        "name": c.get(page, "status_page.name", str, ""),
        "url": c.get(page, "status_page.url", str, ""),
        **_surge(c, page, "status_page", SURGE_DEFAULT),
    }
    environments = c.table(data, "environments", required=False)
    c.keys(environments, "environments", ENV_KEY)
    out["environments"] = {}
    statuses = [s.value for s in ComponentStatus]
    for key, env in environments.items():
        path = f"environments.{key}"
        if not isinstance(env, dict):
            c.fail(path, "must be a table")
            continue
        components = []
        names: set[str] = set()
        for i, comp in enumerate(c.get(env, f"{path}.components", list, []) or []):
            where = f"{path}.components[{i}]"
            if not isinstance(comp, dict):
                c.fail(where, 'must be a table like { name = "API", version = "12.0" }')
                continue
            item = {
                "name": c.get(comp, f"{where}.name", str),
                "version": c.get(comp, f"{where}.version", str, ""),
                "description": c.get(comp, f"{where}.description", str, ""),
                "group": c.get(comp, f"{where}.group", str, ""),
                "status": c.get(comp, f"{where}.status", str, "operational"),
            }
            c.choice(item["status"], statuses, f"{where}.status")
            if item["name"] in names:
                c.fail(f"{where}.name", f"{item['name']!r} appears twice in {key}")
            names.add(item["name"])
            components.append(item)
        out["environments"][key] = {
            "name": c.get(env, f"{path}.name", str, key),
            "description": c.get(env, f"{path}.description", str, ""),
            "components": components,
            **_surge(c, env, path, out["status_page"]),
        }

    known = {
        "organization",
        "calendars",
        "teams",
        "ticket_types",
        "categories",
        "priorities",
        "channels",
        "sla",
        "status_page",
        "environments",
    }
    for key in sorted(set(data) - known):
        c.fail(key, f"is not a section of the service model (known: {', '.join(sorted(known))})")
    return out, c.problems


def read(path: Path | str) -> dict[str, Any]:
    """Parse and validate a model file; raise ModelFileError naming every problem."""
    source = str(path)
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelFileError(source, ["no such file"]) from None
    except OSError as exc:  # a directory, no permission
        raise ModelFileError(source, [f"cannot be read: {exc.strerror or exc}"]) from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ModelFileError(source, [f"is not valid TOML: {exc}"]) from None
    model, problems = validate(data)
    if problems:
        raise ModelFileError(source, problems)
    return model


def _upsert(model: type[Model], wanted: dict[str, dict[str, Any]]) -> None:
    for key, fields in wanted.items():
        model._default_manager.update_or_create(pk=key, defaults=fields)


def _prune(model: type[Model], keep: list[str], source: str, section: str) -> None:
    """Drop the rows the file no longer lists; refuse to drop rows that are still in use."""
    stale = model._default_manager.exclude(pk__in=keep)
    for obj in stale:
        try:
            obj.delete()
        except ProtectedError:
            raise ModelFileError(
                source, [f"{section}.{obj.pk}: is missing from the file but still in use; keep it"]
            ) from None


@transaction.atomic
def apply(model: dict[str, Any], *, source: str = "model") -> None:
    """Write a validated model into the database, all or nothing."""
    for key, cal in model["calendars"].items():
        Calendar.objects.update_or_create(pk=key, defaults=cal)
    _upsert(
        Team,
        {
            key: {
                **{k: v for k, v in t.items() if k != "calendar"},
                "calendar_id": t["calendar"],
                "position": i,
            }
            for i, (key, t) in enumerate(model["teams"].items())
        },
    )
    _upsert(
        TicketType,
        {
            key: {
                **{k: v for k, v in t.items() if k != "team"},
                "team_id": t["team"],
                "position": i,
            }
            for i, (key, t) in enumerate(model["ticket_types"].items())
        },
    )
    for key, tt in model["ticket_types"].items():
        counter, created = TicketCounter.objects.get_or_create(
            ticket_type_id=key, defaults={"next_number": tt["first_number"]}
        )
        # Numbers only move forward: a higher first number skips ahead, a lower one never reuses.
        if not created and counter.next_number < tt["first_number"]:
            counter.next_number = tt["first_number"]
            counter.save()
    _upsert(
        Category,
        {
            key: {
                **{k: v for k, v in cat.items() if k != "ticket_type"},
                "ticket_type_id": cat["ticket_type"],
                "position": i,
            }
            for i, (key, cat) in enumerate(model["categories"].items())
        },
    )
    # Drop stale rows only once every row points where the file says: dependants first, so a
    # file that moves a ticket type to a new team may drop the old team in the same load.
    _prune(Category, list(model["categories"]), source, "categories")
    _prune(TicketType, list(model["ticket_types"]), source, "ticket_types")
    _prune(Team, list(model["teams"]), source, "teams")
    for key, pr in model["priorities"].items():
        PriorityLevel.objects.update_or_create(
            pk=key,
            defaults={
                "name": pr["name"],
                "rank": pr["rank"],
                "escalation_target": pr["escalation_target"],
                "escalation_calendar_id": pr["escalation_calendar"],
                "emergency_escalation_target": pr["emergency_escalation_target"],
            },
        )
    for key, ch in model["channels"].items():
        ChannelTarget.objects.update_or_create(
            pk=key,
            defaults={
                "name": ch["name"],
                "first_response_target": ch["first_response_target"],
                "first_response_calendar_id": ch["first_response_calendar"],
            },
        )
    org, sla, page = model["organization"], model["sla"], model["status_page"]
    settings_row = ServiceSettings.objects.first() or ServiceSettings()
    settings_row.name = org["name"]
    settings_row.time_zone = org["time_zone"]
    settings_row.email = org["email"]
    settings_row.phone = org["phone"]
    settings_row.status_page = org["status_page"]
    settings_row.default_priority = sla["default_priority"]
    settings_row.warning_ratio = float(sla["warning_ratio"])
    settings_row.pause_when_waiting = sla["pause_when_waiting"]
    settings_row.emergency_calendar_id = sla["emergency_calendar"]
    settings_row.status_page_name = page["name"]
    settings_row.status_page_url = page["url"]
    settings_row.save()
    for position, (key, env) in enumerate(model["environments"].items()):
        Environment.objects.update_or_create(
            pk=key,
            defaults={
                "name": env["name"],
                "description": env["description"],
                "position": position,
                "surge_tickets": env["surge_tickets"],
                "surge_window": env["surge_window"],
            },
        )
        for i, comp in enumerate(env["components"]):
            component, created = Component.objects.update_or_create(
                environment_id=key,
                name=comp["name"],
                defaults={
                    "description": comp["description"],
                    "group_name": comp["group"],
                    "position": i,
                },
                create_defaults={
                    "description": comp["description"],
                    "group_name": comp["group"],
                    "position": i,
                    "version": comp["version"],
                    "status": comp["status"],
                },
            )
            if not created:
                # A new version or status in the file is a change like any other: it
                # goes into the component's history (the deploys, the uptime bars).
                status_services.apply_from_model(
                    component, status=comp["status"], version=comp["version"]
                )
        Component.objects.filter(environment_id=key).exclude(
            name__in=[comp["name"] for comp in env["components"]]
        ).delete()
    for stale_env in Environment.objects.exclude(pk__in=list(model["environments"])):
        try:
            stale_env.delete()
        except ProtectedError:
            raise ModelFileError(
                source, [f"environments.{stale_env.pk}: is missing from the file but still in use"]
            ) from None
    # Calendars go last: a team or priority may have just stopped using one.
    for stale_cal in Calendar.objects.exclude(pk__in=list(model["calendars"])):
        try:
            stale_cal.delete()
        except ProtectedError:
            raise ModelFileError(
                source, [f"calendars.{stale_cal.pk}: is missing from the file but still in use"]
            ) from None


def load(path: Path | str) -> None:
    apply(read(path), source=str(path))


def is_loaded() -> bool:
    return TicketType.objects.exists()


def export() -> dict[str, Any]:
    """The model in force, in the file's shape: `apply(validate(export()))` changes nothing."""
    s = ServiceSettings.current()
    surge = _common_surge()

    def hours(cal: Calendar) -> dict[str, list[str]]:
        return {day: list(cal.hours.get(day, [])) for day in WEEKDAYS}

    return {
        "organization": {
            "name": s.name,
            "time_zone": s.time_zone,
            "email": s.email,
            "phone": s.phone,
            "status_page": s.status_page,
        },
        "calendars": {
            cal.key: {
                "name": cal.name,
                "time_zone": cal.time_zone,
                "holidays": list(cal.holidays),
                **({"holiday_country": cal.holiday_country} if cal.holiday_country else {}),
                **(
                    {"holiday_subdivision": cal.holiday_subdivision}
                    if cal.holiday_subdivision
                    else {}
                ),
                **hours(cal),
                **(
                    {"exceptions": {day: list(spans) for day, spans in cal.exceptions.items()}}
                    if cal.exceptions
                    else {}
                ),
            }
            for cal in Calendar.objects.order_by("key")
        },
        "teams": {
            t.key: {
                "name": t.name,
                "role": t.role,
                "email": t.email,
                "calendar": t.calendar_id,
                "covers": t.covers,
                "description": t.description,
            }
            for t in Team.objects.all()
        },
        "ticket_types": {
            t.key: {
                "name": t.name,
                "number_format": t.number_format,
                "first_number": t.first_number,
                "team": t.team_id,
                "escalation": t.escalation,
                "subjects": list(t.subjects),
                "triage_keywords": list(t.triage_keywords),
            }
            for t in TicketType.objects.all()
        },
        "categories": {
            c.key: {
                "name": c.name,
                "ticket_type": c.ticket_type_id,
                "work_order": c.work_order,
                "description": c.description,
                "keywords": list(c.keywords),
            }
            for c in Category.objects.all()
        },
        "priorities": {
            p.key: {
                "name": p.name,
                "rank": p.rank,
                "escalation_target": format_duration(p.escalation_target),
                "escalation_calendar": p.escalation_calendar_id,
                "emergency_escalation_target": format_duration(p.emergency_escalation_target),
            }
            for p in PriorityLevel.objects.all()
        },
        "channels": {
            ch.key: {
                "name": ch.name,
                "first_response_target": format_duration(ch.first_response_target),
                "first_response_calendar": ch.first_response_calendar_id,
            }
            for ch in ChannelTarget.objects.all()
        },
        "sla": {
            "default_priority": s.default_priority,
            "warning_ratio": s.warning_ratio,
            "pause_when_waiting": list(s.pause_when_waiting),
            **({"emergency_calendar": s.emergency_calendar_id} if s.emergency_calendar_id else {}),
        },
        "status_page": {"name": s.status_page_name, "url": s.status_page_url, **surge},
        "environments": {
            env.key: {
                "name": env.name,
                "description": env.description,
                **_surge_override(env, surge),
                "components": [
                    {
                        "name": comp.name,
                        "version": comp.version,
                        "description": comp.description,
                        "group": comp.group_name,
                        "status": comp.status,
                    }
                    for comp in env.components.order_by("position", "name")
                ],
            }
            for env in Environment.objects.prefetch_related("components")
        },
    }


def _surge(c: Any, data: dict[str, Any], path: str, default: dict[str, Any]) -> dict[str, Any]:
    """An incident-suggestion threshold: `surge_tickets` within `surge_window`."""
    tickets = c.get(data, f"{path}.surge_tickets", int, default["surge_tickets"])
    if tickets is not None and not 0 <= tickets <= 1000:
        c.fail(f"{path}.surge_tickets", f"is {tickets}; give 0 (never) to 1000")
    window = default["surge_window"]
    if "surge_window" in data:
        window = c.duration(data, f"{path}.surge_window") or window
    return {"surge_tickets": tickets, "surge_window": window}


def _common_surge() -> dict[str, Any]:
    """The page-wide threshold to export: the one most environments use."""
    counts = Counter((e.surge_tickets, e.surge_window) for e in Environment.objects.all())
    tickets, window = counts.most_common(1)[0][0] if counts else SURGE_DEFAULT.values()
    return {"surge_tickets": tickets, "surge_window": format_duration(window)}


def _surge_override(env: Environment, common: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if env.surge_tickets != common["surge_tickets"]:
        out["surge_tickets"] = env.surge_tickets
    if format_duration(env.surge_window) != common["surge_window"]:
        out["surge_window"] = format_duration(env.surge_window)
    return out


def export_toml() -> str:
    return tomli_w.dumps(export())
