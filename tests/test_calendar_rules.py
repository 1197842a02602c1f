"""Calendar rules beyond the week: exceptions (a date's own hours) and a country's public holidays.

Times are Eastern (the guide's "ET"). Thanksgiving is Thursday 2026-11-26; the guide's staffed
calendar keeps holidays open, so the default model names no holiday country.
"""

from __future__ import annotations

import tomllib
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from model_files import guide, write

from caredesk.people import services as people
from caredesk.servicemodel import loader
from caredesk.servicemodel.models import Calendar
from caredesk.sla.business_time import CalendarError, add_business_time, is_open
from caredesk.sla.calendars import from_row
from caredesk.sla.services import compute_due

ET = ZoneInfo("America/New_York")


def et(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=ET)


def staffed(**fields: Any) -> Calendar:
    """Change the staffed (email-monitoring) calendar through save(), as the admin does."""
    row = Calendar.objects.get(pk="staffed")
    for name, value in fields.items():
        setattr(row, name, value)
    row.save()
    return row


def email_due(received: datetime) -> datetime:
    with time_machine.travel(received, tick=False):
        return compute_due(
            "first_response", channel="email", priority="medium", started_at=received
        ).due_at


# --- the default ---------------------------------------------------------------------------


def test_the_guides_staffed_calendar_stays_open_on_holidays(model: None) -> None:
    row = Calendar.objects.get(pk="staffed")
    assert row.holiday_country == ""
    assert row.exceptions == {}
    # An email on Thanksgiving morning is answered on Thanksgiving.
    assert email_due(et(11, 26, 9)) == et(11, 26, 9, 10)
    assert "holiday_country" not in loader.export()["calendars"]["staffed"]


# --- public holidays --------------------------------------------------------------------------


def test_a_us_public_holiday_closes_the_calendar(model: None) -> None:
    # Wednesday 23:55: five minutes before midnight, then Thanksgiving is closed.
    assert email_due(et(11, 25, 23, 55)) == et(11, 26, 7, 5)
    staffed(holiday_country="US")
    assert email_due(et(11, 25, 23, 55)) == et(11, 27, 7, 5)
    assert email_due(et(11, 26, 9)) == et(11, 27, 7, 10)


def test_public_holidays_with_a_subdivision(model: None) -> None:
    # Lincoln's Birthday (Friday 2026-02-12) is a New York holiday, not a federal one.
    with time_machine.travel(et(2, 11, 12), tick=False):
        row = staffed(holiday_country="US")
        assert is_open(from_row(row), et(2, 12, 9))
        row = staffed(holiday_country="US", holiday_subdivision="NY")
        assert not is_open(from_row(row), et(2, 12, 9))


def test_public_holidays_cover_the_years_around_now(model: None) -> None:
    row = staffed(holiday_country="US")
    christmas = {year: datetime(year, 12, 25, 12, tzinfo=ET) for year in range(2024, 2031)}
    cal = from_row(row, today=date(2026, 6, 1))
    assert [year for year, noon in christmas.items() if not is_open(cal, noon)] == [
        2025,
        2026,
        2027,
        2028,
    ]
    later = from_row(row, today=date(2029, 6, 1))
    assert later is not cal
    assert not is_open(later, christmas[2030])


def test_equal_rows_share_one_calendar(model: None) -> None:
    row = staffed(holiday_country="US", exceptions={"2026-12-24": ["07:00-14:00"]})
    again = Calendar.objects.get(pk="staffed")
    assert from_row(row) is from_row(again)
    again.exceptions = {"2026-12-24": ["07:00-15:00"]}
    assert from_row(again) is not from_row(row)


def test_an_unknown_country_in_a_row_is_a_calendar_error(model: None) -> None:
    row = Calendar.objects.get(pk="staffed")
    row.holiday_country = "XX"
    with pytest.raises(CalendarError, match="holiday_country"):
        from_row(row)
    with pytest.raises(ValidationError) as refused:
        row.full_clean()
    assert "holiday_country" in refused.value.message_dict


# --- exceptions -----------------------------------------------------------------------------


def test_an_exception_day_has_its_own_hours(model: None) -> None:
    # Christmas Eve closes at 14:00; Christmas Day keeps the week's hours (no country).
    staffed(exceptions={"2026-12-24": ["07:00-14:00"]})
    assert email_due(et(12, 24, 13, 55)) == et(12, 25, 7, 5)
    assert email_due(et(12, 24, 15)) == et(12, 25, 7, 10)
    # …and with US public holidays, Christmas Day is closed as well.
    staffed(holiday_country="US")
    assert email_due(et(12, 24, 13, 55)) == et(12, 26, 7, 5)


def test_an_empty_exception_closes_the_day(model: None) -> None:
    staffed(exceptions={"2026-12-01": []})
    assert email_due(et(11, 30, 23, 55)) == et(12, 2, 7, 5)


def test_an_exception_wins_over_a_public_holiday(model: None) -> None:
    staffed(holiday_country="US", exceptions={"2026-11-26": ["07:00-12:00"]})
    assert email_due(et(11, 25, 23, 55)) == et(11, 26, 7, 5)
    assert email_due(et(11, 26, 11, 55)) == et(11, 27, 7, 5)


def test_pure_functions_over_a_row_built_calendar() -> None:
    row = Calendar(
        key="office",
        name="Office",
        time_zone="America/New_York",
        hours={day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
        holidays=["2026-11-27"],
        exceptions={"2026-11-25": ["09:00-12:00"]},
        holiday_country="US",
    )
    cal = from_row(row, today=date(2026, 11, 1))
    # Wednesday 11:00 + 2 h: one hour on the short Wednesday, Thanksgiving and the listed
    # Friday holiday closed, the weekend closed, the rest on Monday.
    assert add_business_time(cal, et(11, 25, 11), timedelta(hours=2)) == et(11, 30, 10)


# --- the model file -------------------------------------------------------------------------


def test_the_file_accepts_exceptions_and_a_country(model: None, tmp_path: Path) -> None:
    data = guide()
    data["calendars"]["staffed"]["holiday_country"] = "US"
    data["calendars"]["staffed"]["holiday_subdivision"] = "NY"
    data["calendars"]["staffed"]["exceptions"] = {
        "2026-12-31": [],
        "2026-12-24": ["07:00-12:00", "13:00-14:00"],
    }
    loader.load(write(tmp_path, data))
    row = Calendar.objects.get(pk="staffed")
    assert (row.holiday_country, row.holiday_subdivision) == ("US", "NY")
    assert row.exceptions == {"2026-12-24": ["07:00-12:00", "13:00-14:00"], "2026-12-31": []}


BROKEN = [
    ({"exceptions": {"2026-13-01": []}}, "exceptions.2026-13-01", "is not a date"),
    ({"exceptions": {"christmas": []}}, "exceptions.christmas", "is not a date"),
    (
        {"exceptions": {"2026-12-24": ["7am-2pm"]}},
        "exceptions.2026-12-24[0]",
        "is not an interval",
    ),
    (
        {"exceptions": {"2026-12-24": ["14:00-07:00"]}},
        "exceptions.2026-12-24[0]",
        "ends before it starts",
    ),
    (
        {"exceptions": {"2026-12-24": ["07:00-12:00", "11:00-14:00"]}},
        "exceptions.2026-12-24[1]",
        "overlaps",
    ),
    ({"exceptions": {"2026-12-24": "closed"}}, "exceptions.2026-12-24", "must be a list"),
    ({"exceptions": ["2026-12-24"]}, "exceptions", "must be a table"),
    ({"holiday_country": "XX"}, "holiday_country", "not a country the holidays package knows"),
    ({"holiday_country": "us"}, "holiday_country", "not a country"),
    (
        {"holiday_country": "US", "holiday_subdivision": "ZZ"},
        "holiday_subdivision",
        "not a subdivision of US",
    ),
    ({"holiday_subdivision": "NY"}, "holiday_subdivision", "needs a holiday_country"),
    ({"holiday_country": 1}, "holiday_country", "must be a string"),
    ({"public_holidays": "US"}, "public_holidays", "not a calendar field"),
]


@pytest.mark.parametrize(
    ("change", "key", "problem"), BROKEN, ids=[f"{k}-{p}" for _, k, p in BROKEN]
)
def test_the_file_refuses_bad_calendar_rules(
    model: None, tmp_path: Path, change: dict[str, Any], key: str, problem: str
) -> None:
    data = guide()
    data["calendars"]["staffed"].update(change)
    path = write(tmp_path, data, "broken-model.toml")
    before = loader.export()
    with pytest.raises(loader.ModelFileError) as refused:
        loader.load(path)
    text = str(refused.value)
    assert any(
        line.startswith(f"{path}: calendars.staffed.{key}:") and problem in line
        for line in text.splitlines()
    ), text
    assert loader.export() == before


def test_export_with_exceptions_and_a_country_loads_back(model: None, tmp_path: Path) -> None:
    staffed(
        holiday_country="US",
        holiday_subdivision="NY",
        exceptions={"2026-12-24": ["07:00-14:00"], "2026-12-31": []},
    )
    exported = loader.export_toml()
    cal = tomllib.loads(exported)["calendars"]["staffed"]
    assert cal["holiday_country"] == "US"
    assert cal["holiday_subdivision"] == "NY"
    assert cal["exceptions"] == {"2026-12-24": ["07:00-14:00"], "2026-12-31": []}
    path = tmp_path / "exported.toml"
    path.write_text(exported)
    Calendar.objects.filter(pk="staffed").update(
        holiday_country="", holiday_subdivision="", exceptions={}
    )
    loader.load(path)
    row = Calendar.objects.get(pk="staffed")
    assert (row.holiday_country, row.holiday_subdivision) == ("US", "NY")
    assert row.exceptions == {"2026-12-24": ["07:00-14:00"], "2026-12-31": []}
    assert loader.export_toml() == exported


# --- the admin --------------------------------------------------------------------------------


@pytest.fixture
def admin_client(model: None) -> Client:
    admin = people.add_user("admin@caredesk.test", role="admin", password="correct horse battery")
    client = Client()
    client.force_login(admin)
    return client


def test_the_admin_shows_public_holidays_and_exceptions(admin_client: Client) -> None:
    staffed(holiday_country="US", holiday_subdivision="NY", exceptions={"2026-12-31": []})
    for url in ("/admin/servicemodel/calendar/", "/admin/service-model/"):
        page = admin_client.get(url)
        assert page.status_code == 200
        html = page.content.decode()
        assert "US-NY" in html, url
        assert "2026-12-31 closed" in html, url
    summary = admin_client.get("/admin/service-model/").content.decode()
    assert "open on public holidays" in summary  # the 24/7 calendar
