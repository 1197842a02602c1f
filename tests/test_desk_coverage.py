"""Presence and coverage in the desk: an agent sets their presence, the queue page shows who
is on duty for each team and when Emergency Care covers, the assign form suggests who takes
the ticket, with a fixed number of queries whatever the number of agents."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from caredesk.desk.coverage import coverage_at
from caredesk.people import services as people
from caredesk.people.coverage import Suggestion, who_should_take, who_should_take_each
from caredesk.people.models import PresenceChange, User
from caredesk.people.presence import presence_of, set_presence
from caredesk.people.shifts import add_shift
from caredesk.servicemodel.cache import invalidate
from caredesk.servicemodel.choices import Channel
from caredesk.servicemodel.models import Team
from caredesk.tickets import services

ET = ZoneInfo("America/New_York")
TUESDAY_10 = datetime(2026, 12, 1, 10, 0, tzinfo=ET)  # staffed hours
TUESDAY_02 = datetime(2026, 12, 1, 2, 0, tzinfo=ET)  # Emergency Care covers


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def clock_at_ten():  # type: ignore[no-untyped-def]
    with time_machine.travel(TUESDAY_10, tick=False):
        yield


# --- the presence control -----------------------------------------------------------------


def test_every_desk_page_shows_the_presence_control(rep: User) -> None:
    page = signed_in(rep).get("/desk/").content.decode()
    assert 'id="presence"' in page and "Offline" in page
    assert 'name="status" value="available"' in page and 'name="status" value="away"' in page


def test_customers_never_see_the_control_nor_reach_it(alice: User) -> None:
    client = signed_in(alice)
    assert 'id="presence"' not in client.get("/").content.decode()
    assert client.post("/desk/presence/", {"status": "available"}).status_code == 404


def test_without_javascript_the_form_posts_and_comes_back(rep: User) -> None:
    client = signed_in(rep)
    response = client.post("/desk/presence/", {"status": "busy", "next": "/desk/?view=mine"})
    assert response.status_code == 302 and response["Location"] == "/desk/?view=mine"
    assert presence_of(rep) == "busy"
    change = PresenceChange.objects.get(agent=rep)
    assert (change.before, change.after, change.actor_id) == ("offline", "busy", rep.pk)
    page = client.get("/desk/?view=mine").content.decode()
    assert "You are busy." in page


def test_a_foreign_next_is_ignored(rep: User) -> None:
    response = signed_in(rep).post(
        "/desk/presence/", {"status": "away", "next": "https://evil.test/"}
    )
    assert response["Location"] == "/desk/"


def test_htmx_swaps_just_the_control_and_tells_the_panel(rep: User) -> None:
    response = signed_in(rep).post(
        "/desk/presence/",
        {"status": "available", "next": "/desk/?view=mine"},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    # The swapped control still returns to the page it is on when posted without htmx.
    assert 'name="next" value="/desk/?view=mine"' in html
    assert response.status_code == 200 and html.lstrip().startswith('<form id="presence"')
    assert "<html" not in html
    assert 'value="available" aria-pressed="true"' in html
    assert response["HX-Trigger"] == "presence-changed"


def test_an_unknown_presence_is_refused_in_words(rep: User) -> None:
    client = signed_in(rep)
    response = client.post("/desk/presence/", {"status": "asleep"}, headers={"HX-Request": "true"})
    assert "Unknown presence" in response.content.decode()
    assert "HX-Trigger" not in response
    assert presence_of(rep) == "offline" and not PresenceChange.objects.exists()


def test_the_control_needs_the_csrf_token(rep: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(rep)
    assert client.post("/desk/presence/", {"status": "available"}).status_code == 403
    assert presence_of(rep) == "offline"


# --- the coverage panel -------------------------------------------------------------------


def test_in_staffed_hours_the_panel_shows_each_teams_present_agents(
    rep: User, rep2: User, engineer: User, emergency: User, clock_at_ten: None
) -> None:
    set_presence(rep, "available", actor=rep)
    set_presence(rep2, "busy", actor=rep2)
    set_presence(engineer, "away", actor=engineer)
    page = signed_in(rep).get("/desk/").content.decode()
    panel = page[page.index('id="coverage"') : page.index("</aside>")]
    assert "Casey Rep" in panel and "Jordan Rep" in panel
    assert "Available" in panel and "Busy" in panel
    assert "Outside staffed hours" not in panel


def test_when_nobody_of_the_team_is_available_emergency_care_takes_the_overflow(
    rep: User, emergency: User, clock_at_ten: None
) -> None:
    set_presence(rep, "away", actor=rep)
    set_presence(emergency, "available", actor=emergency)
    panel = signed_in(rep).get("/desk/coverage/").content.decode()
    assert "Emergency Care is covering: Nobody of the team is available" in panel
    assert "Robin Emergency" in panel
    assert "<html" not in panel


def test_outside_staffed_hours_a_clear_line_says_emergency_care_covers(
    rep: User, emergency: User
) -> None:
    with time_machine.travel(TUESDAY_02, tick=False):
        set_presence(emergency, "available", actor=emergency)
        page = signed_in(rep).get("/desk/").content.decode()
    assert "Outside staffed hours: Emergency Care is covering every team until 07:00." in page
    assert "Robin Emergency" in page


def _queries(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("path", ["/desk/", "/desk/coverage/"])
def test_the_panel_costs_the_same_queries_for_one_agent_or_many(
    rep: User, emergency: User, clock_at_ten: None, path: str
) -> None:
    set_presence(rep, "available", actor=rep)
    client = signed_in(rep)
    client.get(path)  # warm the service model's cache
    few = _queries(client, path)
    for i in range(8):
        for role in ("representative", "engineer", "coordinator", "emergency"):
            agent = people.add_user(f"{role}{i}@caredesk.test", role=role, name=f"{role} {i}")
            set_presence(agent, "available" if i % 2 else "busy", actor=agent)
    page = client.get(path).content.decode()
    assert "representative 7" in page and "emergency 6" in page
    assert _queries(client, path) == few


def _extra_teams(n: int) -> None:
    """`n` more teams, each with an available and a busy member, one of them on a shift."""
    calendar = Team.objects.get(key="customer-care").calendar
    for i in range(n):
        key = f"extra-{i}"
        Team.objects.create(key=key, name=f"Extra {i}", role="representative", calendar=calendar)
        for status in ("available", "busy"):
            agent = people.add_user(
                f"{key}-{status}@caredesk.test", role="representative", team=key, name=key
            )
            set_presence(agent, status, actor=agent)
        add_shift(agent, actor=None, source="cli", weekly="mon-fri 08:00-18:00")
    invalidate()


@pytest.mark.parametrize("at", [TUESDAY_10, TUESDAY_02])
def test_the_panels_data_costs_the_same_queries_for_four_teams_or_ten(
    rep: User, engineer: User, emergency: User, at: datetime
) -> None:
    set_presence(rep, "available", actor=rep)
    set_presence(emergency, "busy", actor=emergency)
    coverage_at(at)  # warm the service model's cache
    teams = list(Team.objects.all())
    with CaptureQueriesContext(connection) as four:
        coverage_at(at, teams)
    _extra_teams(6)
    teams = list(Team.objects.all())
    coverage_at(at, teams)
    with CaptureQueriesContext(connection) as ten:
        shown = coverage_at(at, teams)
    assert len(shown.teams) == 10
    assert len(ten.captured_queries) == len(four.captured_queries) == 5


def _same(a: Suggestion, b: Suggestion) -> bool:
    return (a.team, [x.pk for x in a.agents], a.overflow, a.reason) == (
        b.team,
        [x.pk for x in b.agents],
        b.overflow,
        b.reason,
    )


@pytest.mark.parametrize("at", [TUESDAY_10, TUESDAY_02])
@pytest.mark.parametrize("rep_status", ["available", "busy", "away"])
def test_all_teams_at_once_say_what_each_team_asked_alone_says(
    rep: User,
    rep2: User,
    engineer: User,
    coordinator: User,
    emergency: User,
    alice: User,
    at: datetime,
    rep_status: str,
) -> None:
    set_presence(rep, rep_status, actor=rep)
    set_presence(rep2, "busy", actor=rep2)
    set_presence(engineer, "available", actor=engineer)
    set_presence(emergency, "available", actor=emergency)
    night = people.add_user("night@caredesk.test", role="emergency", name="Night Owl")
    set_presence(night, "available", actor=night)
    add_shift(night, actor=None, source="cli", weekly="mon-fri 22:00-07:00")
    with time_machine.travel(TUESDAY_10 - timedelta(days=1), tick=False):
        services.assign(
            services.open_case(actor=rep, subject="Busy work", channel="api", requester=alice),
            actor=rep,
            agent=emergency,
        )
    _extra_teams(1)
    keys = list(Team.objects.values_list("key", flat=True))
    each = who_should_take_each(keys, at=at)
    assert list(each) == keys
    for key in keys:
        assert _same(each[key], who_should_take(key, at=at)), key
    if at == TUESDAY_02:
        assert each["customer-care"].team == "emergency-care"
        assert [a.pk for a in each["customer-care"].agents] == [night.pk, emergency.pk]
    elif rep_status == "available":
        assert [a.pk for a in each["customer-care"].agents] == [rep.pk, rep2.pk]
    else:  # nobody of the team available: Emergency Care's present member on duty
        assert each["customer-care"].overflow
        assert [a.pk for a in each["customer-care"].agents] == [emergency.pk]


# --- the assign form's suggestion ---------------------------------------------------------


def test_the_assign_form_preselects_who_should_take_it_and_says_why(
    rep: User, rep2: User, alice: User, clock_at_ten: None
) -> None:
    set_presence(rep, "busy", actor=rep)
    set_presence(rep2, "available", actor=rep2)
    ticket = services.open_case(
        actor=rep, subject="Dialer is broken", channel=Channel.PHONE, requester=alice
    )
    page = signed_in(rep).get(f"/desk/tickets/{ticket.number}/").content.decode()
    assert f'<option value="{rep2.pk}" selected>' in page
    assert "Suggested: <strong>Jordan Rep</strong>" in page
    assert "In staffed hours: the team&#x27;s available members." in page


def test_an_assigned_ticket_keeps_its_assignee_selected(
    rep: User, rep2: User, alice: User, clock_at_ten: None
) -> None:
    set_presence(rep2, "available", actor=rep2)
    ticket = services.open_case(
        actor=rep, subject="Dialer is broken", channel=Channel.PHONE, requester=alice
    )
    services.assign(ticket, actor=rep, agent=rep)
    page = signed_in(rep).get(f"/desk/tickets/{ticket.number}/").content.decode()
    assert f'<option value="{rep.pk}" selected>' in page
    assert "Jordan Rep</strong> (if reassigning)" in page
