"""Shifts from the command line (`caredesk shift add|list|remove`) and in the admin (inline
on the user): clear refusals that change nothing, audited changes, and the desk's panel
showing each on-duty agent's shift end and who comes on next."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from io import StringIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import Client

from caredesk.core.models import AuditEntry
from caredesk.people import services as people
from caredesk.people.models import Shift, User
from caredesk.people.presence import set_presence
from caredesk.people.shifts import add_shift

ET = ZoneInfo("America/New_York")
TUESDAY_02 = datetime(2026, 12, 1, 2, 0, tzinfo=ET)
TUESDAY_12 = datetime(2026, 12, 1, 12, 0, tzinfo=ET)


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture(autouse=True)
def _tuesday_noon():  # type: ignore[no-untyped-def]
    with time_machine.travel(TUESDAY_12, tick=False):
        yield


# --- the command line -----------------------------------------------------------------------


def test_add_list_and_remove_a_night_rota(emergency: User, rep: User) -> None:
    out = run(
        "shift", "add", emergency.email, "--weekly", "Mon-Fri 22:00-07:00", "--note", "nights"
    )
    shift = Shift.objects.get()
    assert out.startswith(
        f"Added shift {shift.pk} for emergency@caredesk.test: mon-fri 22:00-07:00"
    )
    assert (shift.days, shift.start, shift.end) == ("mon-fri", time(22), time(7))
    run("shift", "add", rep.email, "--weekly", "sat,sun 07:00-24:00")
    run("shift", "add", rep.email, "--from", "2026-12-24T22:00", "--to", "2026-12-25T07:00")
    dated = Shift.objects.get(starts_at__isnull=False)
    # A time without an offset is read in the service's zone (EST in December).
    assert dated.starts_at == datetime(2026, 12, 25, 3, 0, tzinfo=ZoneInfo("UTC"))
    listing = run("shift", "list")
    assert "mon-fri 22:00-07:00  nights" in listing
    assert "sat,sun 07:00-24:00" in listing
    assert "2026-12-24 22:00 EST to 2026-12-25 07:00 EST" in listing
    mine = run("shift", "list", rep.email)
    assert "emergency@" not in mine and mine.count("rep@caredesk.test") == 2
    assert run("shift", "remove", str(shift.pk)).startswith(
        f"Removed shift {shift.pk} of emergency@"
    )
    assert not Shift.objects.filter(pk=shift.pk).exists()
    actions = list(
        AuditEntry.objects.filter(object_type="people.shift").values_list("action", "source")
    )
    assert actions.count(("shift.added", "cli")) == 3 and ("shift.removed", "cli") in actions


def test_an_empty_list_says_what_that_means(rep: User) -> None:
    assert "follow their team's hours" in run("shift", "list", rep.email)


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--weekly", "mon-fry 22:00-07:00"], "'mon-fry' is not a weekday"),
        (["--weekly", "mon 25:00-07:00"], "'25:00' is not a time of day"),
        (["--weekly", "mon 22:00-24:30"], "'24:30' is not a time of day"),
        (["--weekly", "mon"], "is not a weekly shift like"),
        (["--weekly", "22:00-07:00"], "is not a weekly shift like"),
        (["--from", "2026-12-24T22:00"], "both --from and --to"),
        ([], "both --from and --to"),
        (["--weekly", "mon 09:00-17:00", "--from", "2026-12-24T22:00"], "not both"),
        (["--from", "2026-12-24T22:00", "--to", "2026-12-24T21:00"], "ends after it starts"),
        (["--from", "2026-11-30T22:00", "--to", "2026-12-01T07:00"], "already over"),
        (["--from", "tomorrow", "--to", "2026-12-24T21:00"], "is not a date and time"),
        (["--from", "2027-03-14T02:30", "--to", "2027-03-14T07:00"], "the clocks skip it"),
    ],
)
def test_bad_specs_are_refused_in_words_and_change_nothing(
    rep: User, args: list[str], problem: str
) -> None:
    with pytest.raises(CommandError, match=re.escape(problem)):
        run("shift", "add", rep.email, *args)
    assert not Shift.objects.exists()
    assert not AuditEntry.objects.filter(object_type="people.shift").exists()


def test_customers_and_strangers_have_no_shifts(alice: User) -> None:
    with pytest.raises(CommandError, match="not an active agent"):
        run("shift", "add", alice.email, "--weekly", "mon 09:00-17:00")
    with pytest.raises(CommandError, match=re.escape("No user nobody@caredesk.test")):
        run("shift", "add", "nobody@caredesk.test", "--weekly", "mon 09:00-17:00")
    with pytest.raises(CommandError, match="No user"):
        run("shift", "list", "nobody@caredesk.test")
    assert not Shift.objects.exists()


def test_removing_an_unknown_shift_is_refused(rep: User) -> None:
    add_shift(rep, actor=None, source="cli", weekly="sat 07:00-22:00")
    with pytest.raises(CommandError, match="No shift 999"):
        run("shift", "remove", "999")
    assert Shift.objects.count() == 1


# --- the admin ------------------------------------------------------------------------------


@pytest.fixture
def admin_client(model: None) -> Client:
    admin = people.add_user("admin@caredesk.test", role="admin", password="correct horse battery")
    client = Client()
    client.force_login(admin)
    return client


def _change_form(user: User, rows: list[dict[str, str]], initial: int = 0) -> dict[str, Any]:
    data: dict[str, Any] = {
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "team": user.team_id or "",
        "is_active": "on",
        "shifts-TOTAL_FORMS": str(len(rows)),
        "shifts-INITIAL_FORMS": str(initial),
        "shifts-MIN_NUM_FORMS": "0",
        "shifts-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        data.update({f"shifts-{i}-{key}": value for key, value in row.items()})
        data[f"shifts-{i}-agent"] = str(user.pk)
    return data


def test_the_admin_saves_a_weekly_and_a_dated_shift_inline(
    admin_client: Client, emergency: User
) -> None:
    url = f"/admin/people/user/{emergency.pk}/change/"
    page = admin_client.get(url).content.decode()
    assert "shifts-TOTAL_FORMS" in page and "the agent follows the team" in page
    rows = [
        {"days": "Fri-Mon", "start": "22:00", "end": "07:00"},
        {
            "starts_at_0": "2026-12-25",
            "starts_at_1": "03:00",
            "ends_at_0": "2026-12-25",
            "ends_at_1": "12:00",
            "note": "Christmas night",
        },
    ]
    response = admin_client.post(url, _change_form(emergency, rows))
    assert response.status_code == 302, response.content.decode()[:3000]
    weekly, dated = Shift.objects.filter(agent=emergency).order_by("id")
    # The days are written back in their one spelling.
    assert (weekly.days, weekly.start, weekly.end) == ("mon,fri-sun", time(22), time(7))
    assert dated.ends_at - dated.starts_at == timedelta(hours=9)
    assert AuditEntry.objects.filter(object_type="people.shift", source="admin").count() == 2
    page = admin_client.get(url).content.decode()
    assert "mon,fri-sun 22:00-07:00" in page and "Christmas night" in page


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ({"days": "funday", "start": "22:00", "end": "07:00"}, "is not a weekday"),
        ({"days": "mon-fri", "start": "22:00"}, "needs a start and an end"),
        ({"days": "", "start": "22:00", "end": "07:00"}, "needs its days"),
        ({"note": "nothing else"}, "Give days, a start and an end (weekly)"),
        (
            {
                "starts_at_0": "2026-12-25",
                "starts_at_1": "12:00",
                "ends_at_0": "2026-12-25",
                "ends_at_1": "03:00",
            },
            "ends after it starts",
        ),
    ],
)
def test_the_admin_refuses_a_bad_shift_and_saves_nothing(
    admin_client: Client, emergency: User, row: dict[str, str], problem: str
) -> None:
    response = admin_client.post(
        f"/admin/people/user/{emergency.pk}/change/", _change_form(emergency, [row])
    )
    assert response.status_code == 200
    assert problem in response.content.decode()
    assert not Shift.objects.exists()


def test_customers_have_no_shift_inline(admin_client: Client, alice: User) -> None:
    page = admin_client.get(f"/admin/people/user/{alice.pk}/change/").content.decode()
    assert "shifts-TOTAL_FORMS" not in page


# --- the desk's coverage panel --------------------------------------------------------------


def _panel(user: User) -> str:
    client = Client()
    client.force_login(user)
    return client.get("/desk/coverage/").content.decode()


def test_the_panel_shows_the_night_shifts_end_and_who_comes_on_next(
    emergency: User, rep: User
) -> None:
    add_shift(emergency, actor=None, source="cli", weekly="mon-fri 22:00-07:00")
    add_shift(rep, actor=None, source="cli", weekly="mon-fri 07:00-15:00")
    with time_machine.travel(TUESDAY_02, tick=False):
        set_presence(emergency, "available", actor=emergency)
        panel = _panel(rep)
    assert "Outside staffed hours: Emergency Care is covering every team until 07:00." in panel
    assert "Available · until 07:00" in panel
    assert "Next on: Casey Rep at 07:00" in panel
    with time_machine.travel(TUESDAY_12, tick=False):
        set_presence(rep, "busy", actor=rep)
        panel = _panel(rep)
    assert "Busy · until 15:00" in panel
    assert "Next on: Robin Emergency at 22:00" in panel
    assert "Outside staffed hours" not in panel


def test_a_shift_ending_later_in_the_week_names_its_day(rep: User, rep2: User) -> None:
    thursday_18 = datetime(2026, 12, 3, 18, 0, tzinfo=ET)
    add_shift(
        rep,
        actor=None,
        source="cli",
        starts_at=TUESDAY_12 - timedelta(hours=1),
        ends_at=thursday_18,
    )
    add_shift(rep2, actor=None, source="cli", weekly="mon-sun 00:00-24:00")
    with time_machine.travel(TUESDAY_12, tick=False):
        set_presence(rep, "available", actor=rep)
        set_presence(rep2, "available", actor=rep2)
        panel = _panel(rep)
    assert "Available · until Thu 18:00" in panel
    # Round the clock every day: no end to show.
    assert "until" not in panel.split("Jordan Rep", 1)[1].split("</li>", 1)[0]
