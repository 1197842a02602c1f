"""The service model file: the guide as the default, validation, and export that loads back."""

from __future__ import annotations

import re
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from model_files import MODEL_FILE, MODEL_TABLES, guide, wipe_model, write

from caredesk.people.models import User
from caredesk.servicemodel import loader
from caredesk.servicemodel.models import (
    Calendar,
    Category,
    ChannelTarget,
    PriorityLevel,
    ServiceSettings,
    Team,
    TicketType,
)
from caredesk.status.models import Component, Environment
from caredesk.tickets import services
from caredesk.tickets.models import Ticket


def counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in MODEL_TABLES}


def open_case(actor: User) -> Ticket:
    return services.open_case(actor=actor, subject="Hello", channel="email")


# --- the guide, as the default ------------------------------------------------------------


def test_default_model_reproduces_the_guide(model: None) -> None:
    types = {t.key: t for t in TicketType.objects.all()}
    assert {
        k: (t.number_format, t.first_number, t.team_id, t.escalation) for k, t in types.items()
    } == {
        "customer-care": ("CASE-{n}", 100, "customer-care", False),
        "technical-support": ("TSUP-{n}", 100, "technical-support", True),
        "project-coordination": ("{n}", 100100, "project-coordination", True),
    }
    assert types["customer-care"].name == "Customer Care"
    assert set(Team.objects.values_list("key", "role")) == {
        ("customer-care", "representative"),
        ("technical-support", "engineer"),
        ("project-coordination", "coordinator"),
        ("emergency-care", "emergency"),
    }
    assert Team.objects.get(pk="emergency-care").covers

    staffed = Calendar.objects.get(pk="staffed")
    assert staffed.time_zone == "America/New_York"
    weekday, weekend = ["07:00-24:00"], ["07:00-22:00"]
    assert staffed.hours == {
        "mon": weekday,
        "tue": weekday,
        "wed": weekday,
        "thu": weekday,
        "fri": weekday,
        "sat": weekend,
        "sun": weekend,
    }
    assert staffed.holidays == []  # "available 24-7 (including holidays)"
    all_hours = Calendar.objects.get(pk="all-hours")
    assert set(map(tuple, all_hours.hours.values())) == {("00:00-24:00",)}

    phone = ChannelTarget.objects.get(pk="phone")
    assert (phone.first_response_target, phone.first_response_calendar_id) == (
        timedelta(seconds=30),
        "all-hours",
    )
    email = ChannelTarget.objects.get(pk="email")
    assert (email.first_response_target, email.first_response_calendar_id) == (
        timedelta(minutes=10),
        "staffed",
    )

    for key in ("high", "critical"):
        level = PriorityLevel.objects.get(pk=key)
        assert (level.escalation_target, level.escalation_calendar_id) == (
            timedelta(hours=1),
            "all-hours",
        )
    assert list(PriorityLevel.objects.values_list("key", flat=True)) == [
        "low",
        "medium",
        "high",
        "critical",
    ]
    assert ServiceSettings.current().emergency_calendar_id == "staffed"

    assert set(Category.objects.values_list("key", "ticket_type", "work_order")) == {
        ("complex-self-service", "project-coordination", False),
        ("platform-change", "project-coordination", True),
        ("creation-request", "project-coordination", True),
        ("platform-upgrade", "project-coordination", False),
    }

    assert list(Environment.objects.values_list("key", flat=True)) == [
        "NA3",
        "NA4",
        "NA5",
        "NA6",
        "SFTP",
        "PDAS",
        "TECKST",
        "SPEECHIQ",
    ]
    for env in ("NA3", "NA4", "NA5", "NA6"):
        assert set(Component.objects.filter(environment=env).values_list("name", "version")) == {
            ("LiveVox", "12"),
            ("API", "12.0"),
        }

    settings = ServiceSettings.current()
    assert settings.email == "customercare@livevox.com"
    assert settings.phone == "+18884773448"
    assert settings.time_zone == "America/New_York"


def test_loading_twice_changes_nothing(model: None) -> None:
    before = (counts(), loader.export())
    loader.load(MODEL_FILE)
    assert (counts(), loader.export()) == before


# --- export loads back ----------------------------------------------------------------------


def test_export_loads_back_to_the_same_model(model: None, tmp_path: Path) -> None:
    first = loader.export_toml()
    path = tmp_path / "exported.toml"
    path.write_text(first)
    wipe_model()
    assert counts() == dict.fromkeys(counts(), 0)
    loader.load(path)
    assert loader.export_toml() == first
    # …and it is the guide's model, not merely a stable one.
    assert tomllib.loads(first)["ticket_types"]["project-coordination"]["first_number"] == 100100


def test_export_keeps_edits_made_in_the_admin(model: None, tmp_path: Path) -> None:
    Calendar.objects.filter(pk="staffed").update(holidays=["2026-12-25"])
    TicketType.objects.filter(pk="technical-support").update(first_number=500)
    Component.objects.filter(environment="NA3", name="API").update(version="12.1")
    exported = loader.export_toml()
    path = tmp_path / "edited.toml"
    path.write_text(exported)
    wipe_model()
    loader.load(path)
    assert Calendar.objects.get(pk="staffed").holidays == ["2026-12-25"]
    assert TicketType.objects.get(pk="technical-support").first_number == 500
    assert Component.objects.get(environment="NA3", name="API").version == "12.1"
    assert loader.export_toml() == exported


# --- numbers come from the model --------------------------------------------------------------


def test_formats_and_first_numbers_come_from_the_model(db: None, tmp_path: Path) -> None:
    data = guide()
    data["ticket_types"]["customer-care"].update(number_format="CC{n}", first_number=7000)
    data["ticket_types"]["technical-support"].update(number_format="TS-{n}-X", first_number=1)
    loader.load(write(tmp_path, data))
    rep = User.objects.create_user(
        "rep@caredesk.test", role="representative", team_id="customer-care"
    )
    case = open_case(rep)
    assert case.number == "CC7000"
    assert open_case(rep).number == "CC7001"
    tsup = services.escalate(case, actor=rep, to="technical-support", reason="x")
    assert tsup.number == "TS-1-X"


def test_a_higher_first_number_skips_ahead_and_a_lower_one_never_reuses(
    model: None, rep: User, tmp_path: Path
) -> None:
    open_case(rep)  # CASE-100
    data = guide()
    data["ticket_types"]["customer-care"]["first_number"] = 5000
    loader.load(write(tmp_path, data))
    assert open_case(rep).number == "CASE-5000"
    data["ticket_types"]["customer-care"]["first_number"] = 100
    loader.load(write(tmp_path, data))
    assert open_case(rep).number == "CASE-5001"


# --- invalid files -------------------------------------------------------------------------


def _set(data: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for part in parents:
        data = data[part]
    if value is _DELETE:
        del data[last]
    else:
        data[last] = value


_DELETE = object()

# (change to the guide's file, the key the error must name, words of the problem)
BROKEN = [
    ("organization", _DELETE, "organization", "is missing"),
    ("organization.time_zone", "Mars/Olympus", "organization.time_zone", "not a time zone"),
    ("calendars.staffed.mon", ["07:00-25:00"], "calendars.staffed.mon[0]", "not a time of day"),
    ("calendars.staffed.tue", ["18:00-07:00"], "calendars.staffed.tue[0]", "ends before"),
    ("calendars.staffed.wed", ["7am-5pm"], "calendars.staffed.wed[0]", "not an interval"),
    (
        "calendars.staffed.thu",
        ["07:00-12:00", "11:00-13:00"],
        "calendars.staffed.thu[1]",
        "overlaps",
    ),
    ("calendars.staffed.holidays", ["Christmas"], "calendars.staffed.holidays[0]", "not a date"),
    ("calendars.staffed.holidays", ["2026-02-30"], "calendars.staffed.holidays[0]", "not a date"),
    ("calendars.staffed.noon", ["12:00-13:00"], "calendars.staffed.noon", "not a calendar field"),
    ("teams.customer-care.calendar", "office", "teams.customer-care.calendar", "unknown calendar"),
    ("teams.customer-care.role", "wizard", "teams.customer-care.role", "use one of"),
    (
        "teams.Customer_Care",
        {"name": "x", "role": "representative", "calendar": "staffed"},
        "teams.Customer_Care",
        "not a valid key",
    ),
    (
        "ticket_types.technical-support.number_format",
        "TSUP-",
        "ticket_types.technical-support.number_format",
        "{n}",
    ),
    (
        "ticket_types.technical-support.number_format",
        "CASE-{n}",
        "ticket_types",
        "share a number_format",
    ),
    (
        "ticket_types.technical-support.first_number",
        "100",
        "ticket_types.technical-support.first_number",
        "must be a whole number",
    ),
    (
        "ticket_types.technical-support.first_number",
        -1,
        "ticket_types.technical-support.first_number",
        "negative",
    ),
    (
        "ticket_types.technical-support.team",
        "support",
        "ticket_types.technical-support.team",
        "unknown team",
    ),
    (
        "ticket_types.technical-support.triage_keywords",
        ["broken", 3],
        "ticket_types.technical-support.triage_keywords[1]",
        "string",
    ),
    (
        "ticket_types.technical-support.triage_keywords",
        ["broken", " "],
        "ticket_types.technical-support.triage_keywords[1]",
        "empty",
    ),
    ("ticket_types.customer-care", _DELETE, "ticket_types.customer-care", "is missing"),
    ("ticket_types", {}, "ticket_types.customer-care", "is missing"),
    ("ticket_types", _DELETE, "ticket_types", "is missing"),
    (
        "ticket_types.technical-support.first_number",
        2**40,
        "ticket_types.technical-support.first_number",
        "at most",
    ),
    (
        "teams." + "x" * 60,
        {"name": "x", "role": "engineer", "calendar": "staffed"},
        "teams." + "x" * 60,
        "longer than 50",
    ),
    (
        "categories.platform-change.ticket_type",
        "changes",
        "categories.platform-change.ticket_type",
        "unknown ticket type",
    ),
    (
        "categories.platform-change.keywords",
        "change",
        "categories.platform-change.keywords",
        "must be a list",
    ),
    (
        "categories.platform-change.work_order",
        "yes",
        "categories.platform-change.work_order",
        "must be true or false",
    ),
    ("priorities.high", _DELETE, "priorities.high", "is missing"),
    (
        "priorities.high.escalation_target",
        "an hour",
        "priorities.high.escalation_target",
        "not a duration",
    ),
    (
        "priorities.high.escalation_target",
        "0m",
        "priorities.high.escalation_target",
        "longer than zero",
    ),
    (
        "priorities.urgent",
        {
            "name": "Urgent",
            "rank": 5,
            "escalation_target": "1h",
            "escalation_calendar": "staffed",
            "emergency_escalation_target": "1h",
        },
        "priorities.urgent",
        "use one of",
    ),
    ("channels.phone", _DELETE, "channels.phone", "is missing"),
    (
        "channels.email.first_response_calendar",
        "monitored",
        "channels.email.first_response_calendar",
        "unknown calendar",
    ),
    ("sla.warning_ratio", 80, "sla.warning_ratio", "between 0 and 1"),
    ("sla.default_priority", "urgent", "sla.default_priority", "use one of"),
    ("sla.pause_when_waiting", ["lunch"], "sla.pause_when_waiting[0]", "use one of"),
    (
        "environments.NA3.components",
        [{"name": "API"}, {"name": "API"}],
        "environments.NA3.components[1].name",
        "appears twice",
    ),
    (
        "environments.NA3.components",
        [{"name": "API", "status": "on fire"}],
        "environments.NA3.components[0].status",
        "use one of",
    ),
    (
        "environments.NA3.components",
        ["API 12.0"],
        "environments.NA3.components[0]",
        "must be a table",
    ),
    ("billing", {"plan": "gold"}, "billing", "not a section"),
]


@pytest.mark.parametrize(
    ("change", "value", "key", "problem"), BROKEN, ids=[f"{c}-{p}" for c, _, _, p in BROKEN]
)
def test_invalid_file_names_file_key_and_problem_and_changes_nothing(
    model: None, tmp_path: Path, change: str, value: Any, key: str, problem: str
) -> None:
    data = guide()
    _set(data, change, value)
    path = write(tmp_path, data, "broken-model.toml")
    before = (counts(), loader.export())
    with pytest.raises(loader.ModelFileError) as refused:
        loader.load(path)
    text = str(refused.value)
    assert any(
        line.startswith(f"{path}: {key}:") and problem in line for line in text.splitlines()
    ), text
    assert (counts(), loader.export()) == before


def test_every_problem_is_reported_at_once(model: None, tmp_path: Path) -> None:
    data = guide()
    data["teams"]["customer-care"]["calendar"] = "office"
    data["channels"]["email"]["first_response_target"] = "soon"
    del data["priorities"]["low"]
    with pytest.raises(loader.ModelFileError) as refused:
        loader.load(write(tmp_path, data))
    assert len(refused.value.problems) == 3


@pytest.mark.parametrize(
    ("content", "problem"),
    [("[organization\nname = 1", "not valid TOML"), (b"\xff\xfe\x00", "not valid TOML")],
)
def test_unreadable_file(model: None, tmp_path: Path, content: str | bytes, problem: str) -> None:
    path = tmp_path / "garbage.toml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    before = counts()
    with pytest.raises(loader.ModelFileError) as refused:
        loader.load(path)
    assert str(refused.value).startswith(f"{path}: ")
    assert problem in str(refused.value)
    assert counts() == before


def test_missing_file(db: None, tmp_path: Path) -> None:
    with pytest.raises(loader.ModelFileError, match=re.escape(f"{tmp_path}/none.toml: no such")):
        loader.load(tmp_path / "none.toml")
    with pytest.raises(loader.ModelFileError, match=re.escape(f"{tmp_path}: cannot be read")):
        loader.load(tmp_path)


def test_removing_a_type_that_tickets_use_is_refused(
    model: None, rep: User, tmp_path: Path
) -> None:
    case = open_case(rep)
    services.escalate(case, actor=rep, to="technical-support", reason="x")
    data = guide()
    del data["ticket_types"]["technical-support"]
    path = write(tmp_path, data)
    before = (counts(), loader.export())
    with pytest.raises(loader.ModelFileError) as refused:
        loader.load(path)
    assert "ticket_types.technical-support" in str(refused.value)
    assert "still in use" in str(refused.value)
    assert (counts(), loader.export()) == before


def test_removing_an_unused_environment_and_component(model: None, tmp_path: Path) -> None:
    data = guide()
    del data["environments"]["SPEECHIQ"]
    data["environments"]["NA3"]["components"] = [{"name": "LiveVox", "version": "12"}]
    loader.load(write(tmp_path, data))
    assert not Environment.objects.filter(pk="SPEECHIQ").exists()
    assert list(Component.objects.filter(environment="NA3").values_list("name", flat=True)) == [
        "LiveVox"
    ]


def test_a_team_can_be_replaced_in_one_file(model: None, tmp_path: Path) -> None:
    data = guide()
    data["teams"]["projects"] = data["teams"].pop("project-coordination")
    data["ticket_types"]["project-coordination"]["team"] = "projects"
    loader.load(write(tmp_path, data))
    assert TicketType.objects.get(pk="project-coordination").team_id == "projects"
    assert not Team.objects.filter(pk="project-coordination").exists()


def test_a_type_goes_with_its_categories(model: None, tmp_path: Path) -> None:
    data = guide()
    del data["ticket_types"]["project-coordination"]
    data["categories"] = {}
    loader.load(write(tmp_path, data))
    assert list(TicketType.objects.values_list("key", flat=True)) == [
        "customer-care",
        "technical-support",
    ]
    assert not Category.objects.exists()


def test_a_team_with_agents_stays(model: None, rep: User, tmp_path: Path) -> None:
    data = guide()
    data["teams"]["care"] = data["teams"].pop("customer-care")
    data["ticket_types"]["customer-care"]["team"] = "care"
    before = (counts(), loader.export())
    with pytest.raises(loader.ModelFileError, match=r"teams\.customer-care: is missing from the"):
        loader.load(write(tmp_path, data))
    assert (counts(), loader.export()) == before
