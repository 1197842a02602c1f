"""SLA compliance reports: counts, percentiles, emergency staffing apart, JSON and CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from caredesk.people.models import User
from caredesk.reports.services import distributions, percentile, safe_cell, sla_compliance
from caredesk.servicemodel.models import Team
from caredesk.tickets import services
from caredesk.tickets.models import Ticket

ET = ZoneInfo("America/New_York")
TUESDAY = datetime(2026, 12, 1, tzinfo=ET)
WEDNESDAY_NOON = datetime(2026, 12, 2, 12, 0, tzinfo=ET)


def _case(rep: User, alice: User, at: datetime, channel: str = "email", **kw: Any) -> Ticket:
    return services.open_case(
        actor=rep, subject="Reports are empty", channel=channel, requester=alice, at=at, **kw
    )


@pytest.fixture
def week(rep: User, engineer: User, alice: User) -> None:
    """Tuesday: two emails answered in 5 and 20 minutes, two unanswered at noon (one past
    due), a phone call; Wednesday 02:00, under emergency staffing: a High escalation
    assigned in 50 minutes and another in 3 hours; Tuesday 09:00 a High one in 30 min."""
    at = TUESDAY.replace(hour=10)
    services.reply(_case(rep, alice, at), actor=rep, body="On it.", at=at + timedelta(minutes=5))
    services.reply(_case(rep, alice, at), actor=rep, body="Sorry.", at=at + timedelta(minutes=20))
    _case(rep, alice, TUESDAY.replace(hour=11))
    _case(rep, alice, TUESDAY.replace(hour=23, minute=55))
    _case(rep, alice, TUESDAY.replace(hour=10, minute=30), channel="phone")
    for opened, took in (
        (TUESDAY.replace(hour=9), timedelta(minutes=30)),
        (WEDNESDAY_NOON.replace(hour=2), timedelta(minutes=50)),
        (WEDNESDAY_NOON.replace(hour=2, minute=10), timedelta(hours=3)),
    ):
        case = _case(rep, alice, opened, channel="phone", priority="high")
        escalated = services.escalate(
            case, actor=rep, to="technical-support", reason="Outage on NA4", at=opened
        )
        services.assign(escalated, actor=engineer, agent=engineer, at=opened + took)


def _rows(report: Any, **match: Any) -> list[Any]:
    return [r for r in report.rows if all(getattr(r, k) == v for k, v in match.items())]


def test_compliance_by_channel(week: None) -> None:
    with time_machine.travel(WEDNESDAY_NOON, tick=False):
        report = sla_compliance(first=date(2026, 12, 1), last=date(2026, 12, 2), group="channel")
    [email] = _rows(report, group="email", target="first_response")
    # The 23:55 email is outside monitored hours until 07:00, so due 07:10: overdue at noon.
    assert (email.met, email.breached, email.running_overdue, email.running, email.total) == (
        1,
        1,
        2,
        0,
        4,
    )
    assert email.percent_met == 25.0
    assert (email.answered, email.median_seconds, email.p90_seconds) == (2, 300.0, 1200.0)
    [phone] = _rows(report, group="phone", target="first_response")
    assert (phone.met, phone.total, phone.percent_met, phone.median_seconds) == (4, 4, 100.0, 0.0)


def test_escalations_during_emergency_staffing_are_reported_apart(week: None) -> None:
    with time_machine.travel(WEDNESDAY_NOON, tick=False):
        report = sla_compliance(first=date(2026, 12, 1), last=date(2026, 12, 2), group="priority")
    [staffed] = _rows(report, group="high", target="escalation", emergency=False)
    [emergency] = _rows(report, group="high", target="escalation", emergency=True)
    assert (staffed.met, staffed.breached, staffed.median_seconds) == (1, 0, 1800.0)
    # Two hours under emergency staffing: 50 minutes met, 3 hours breached.
    assert (emergency.met, emergency.breached, emergency.percent_met) == (1, 1, 50.0)
    assert (emergency.median_seconds, emergency.p90_seconds) == (3000.0, 10800.0)
    totals = {(t.target, t.emergency): t for t in report.totals}
    assert totals[("escalation", True)].breached == 1
    assert totals[("first_response", False)].total == 8


def test_days_and_weeks_are_local_days(week: None) -> None:
    with time_machine.travel(WEDNESDAY_NOON, tick=False):
        by_day = sla_compliance(first=date(2026, 12, 1), last=date(2026, 12, 2), group="day")
        by_week = sla_compliance(first=date(2026, 12, 1), last=date(2026, 12, 2), group="week")
    # 23:55 ET on Tuesday is Wednesday in UTC; it still counts on Tuesday.
    [tuesday] = _rows(by_day, group="2026-12-01", target="first_response")
    assert tuesday.total == 6 and tuesday.label == "Tue Dec 1, 2026"
    [wednesday] = _rows(by_day, group="2026-12-02", target="first_response")
    assert wednesday.total == 2
    assert {r.group for r in by_week.rows} == {"2026-11-30"}
    assert by_week.rows[0].label == "Week of Nov 30, 2026"


def test_by_team_uses_the_teams_names(week: None) -> None:
    with time_machine.travel(WEDNESDAY_NOON, tick=False):
        report = sla_compliance(first=date(2026, 12, 1), last=date(2026, 12, 2), group="team")
    assert {(r.group, r.label, r.target) for r in report.rows} >= {
        ("customer-care", "Customer Care", "first_response"),
        ("technical-support", "Technical Support", "escalation"),
    }


def test_time_buckets_count_each_answered_clock_once_limits_included(week: None) -> None:
    with time_machine.travel(WEDNESDAY_NOON, tick=False):
        report = sla_compliance(first=date(2026, 12, 1), last=date(2026, 12, 2), group="team")
    took = distributions(report)
    # Four calls answered at once, emails in exactly 5 and 20 minutes.
    assert dict(took["first_response"]) == {
        "≤ 30 s": 4,
        "≤ 2 min": 0,
        "≤ 5 min": 1,
        "≤ 10 min": 0,
        "≤ 30 min": 1,
        "≤ 1 h": 0,
        "≤ 4 h": 0,
        "> 4 h": 0,
    }
    # Escalations assigned in exactly 30 minutes, in 50 minutes and in 3 hours.
    assert [n for _, n in took["escalation"]] == [0, 0, 0, 0, 1, 1, 1, 0]


def test_counts_without_percentiles_are_the_same(week: None) -> None:
    with time_machine.travel(WEDNESDAY_NOON, tick=False):
        ranked = sla_compliance(first=date(2026, 12, 1), last=date(2026, 12, 2), group="team")
        counted = sla_compliance(
            first=date(2026, 12, 1), last=date(2026, 12, 2), group="team", percentiles=False
        )
    assert counted.ranked is False and ranked.ranked is True
    for mine, theirs in zip(counted.totals, ranked.totals, strict=True):
        assert (mine.met, mine.breached, mine.total, mine.answered, mine.percent_met) == (
            theirs.met,
            theirs.breached,
            theirs.total,
            theirs.answered,
            theirs.percent_met,
        )
        assert mine.median_seconds is None and theirs.answered == len(theirs.durations)


def test_the_report_reads_a_fixed_number_of_queries(
    week: None, django_assert_max_num_queries: Callable[..., Any]
) -> None:
    with django_assert_max_num_queries(5):
        sla_compliance(first=date(2026, 12, 1), last=date(2026, 12, 2), group="team", at=TUESDAY)


def test_an_empty_period_has_no_rows(model: None) -> None:
    report = sla_compliance(first=date(2026, 1, 1), last=date(2026, 1, 2), at=TUESDAY)
    assert report.rows == [] and report.totals == []


def test_percentiles_by_nearest_rank() -> None:
    assert percentile([1.0], 50) == 1.0
    assert percentile([1.0, 2.0], 50) == 1.0
    assert percentile([float(n) for n in range(1, 11)], 90) == 9.0
    assert percentile([float(n) for n in range(1, 101)], 90) == 90.0


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=HYPERLINK(1)", "'=HYPERLINK(1)"),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Customer Care", "Customer Care"),
        (12.5, "12.5"),
        (None, ""),
    ],
)
def test_csv_cells_are_formula_safe(value: object, cell: str) -> None:
    assert safe_cell(value) == cell


# --- the API ------------------------------------------------------------------------


URL = "/api/v1/reports/sla"
RANGE = {"from": "2026-12-01", "to": "2026-12-02"}


def test_a_manager_reads_the_report_as_json(
    week: None, manager: User, api: Callable[..., Any]
) -> None:
    with time_machine.travel(WEDNESDAY_NOON, tick=False):
        response = api(manager).get(URL, {**RANGE, "group": "channel"})
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["from"], data["to"], data["group"]) == ("2026-12-01", "2026-12-02", "channel")
    assert data["time_zone"] == "America/New_York" and data["percentiles"] is True
    email = next(r for r in data["rows"] if r["group"] == "email")
    assert (email["met"], email["breached"], email["running_overdue"]) == (1, 1, 2)
    assert email["median_seconds"] == 300.0 and email["percent_met"] == 25.0


def test_a_representative_reads_with_a_read_only_token(
    week: None, rep: User, api: Callable[..., Any]
) -> None:
    response = api(rep, scope="read").get(URL, {**RANGE, "group": "day"})
    assert response.status_code == 200
    assert {r["group"] for r in response.json()["rows"]} == {"2026-12-01", "2026-12-02"}


def test_customers_get_404(alice: User, api: Callable[..., Any]) -> None:
    assert api(alice).get(URL, RANGE).status_code == 404
    assert api(alice).get(URL + ".csv", RANGE).status_code == 404


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"group": "planet"}, "group"),
        ({"from": "2026-12-05", "to": "2026-12-01"}, "from"),
        ({"from": "2020-01-01", "to": "2026-12-01"}, "to"),
        ({"from": "yesterday"}, "from"),
    ],
)
def test_bad_parameters_get_a_clear_422(
    manager: User, api: Callable[..., Any], params: dict[str, str], field: str
) -> None:
    response = api(manager).get(URL, params)
    assert response.status_code == 422
    assert response.json()["field"] == field


def test_csv_export_is_safe_to_open_in_a_spreadsheet(
    week: None, manager: User, api: Callable[..., Any]
) -> None:
    Team.objects.filter(pk="technical-support").update(name='=HYPERLINK("http://evil.test")')
    with time_machine.travel(WEDNESDAY_NOON, tick=False):
        response = api(manager).get(URL + ".csv", {**RANGE, "group": "team"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="sla-team-2026-12-01-2026-12-02.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    labels = {r["label"] for r in rows}
    assert '\'=HYPERLINK("http://evil.test")' in labels and "Customer Care" in labels
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r.values())
    totals = [r for r in rows if r["group"] == "all"]
    assert {(r["target"], r["emergency"]) for r in totals} == {
        ("first_response", "no"),
        ("escalation", "no"),
        ("escalation", "yes"),
    }


# --- the desk page --------------------------------------------------------------------


def _signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_desk_page_draws_the_charts_without_scripts(week: None, manager: User) -> None:
    with time_machine.travel(WEDNESDAY_NOON, tick=False):
        response = _signed_in(manager).get("/desk/reports/", {**RANGE, "group": "channel"})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<svg") == 3 and "<script>" not in html and "style=" not in html
    assert "Customer Care · First response" in html
    assert "Technical Support · Escalation (emergency staffing)" in html
    assert "High · Escalation (emergency staffing)" in html
    assert "5 min" in html and "20 min" in html  # median and 90th percentile of emails
    assert "reports/reports.css" in html


def test_the_desk_page_downloads_the_same_csv(week: None, rep: User) -> None:
    with time_machine.travel(WEDNESDAY_NOON, tick=False):
        response = _signed_in(rep).get("/desk/reports/", {**RANGE, "format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response.content.decode().startswith("group,label,target,emergency,met")


def test_a_bad_period_on_the_page_says_so(manager: User) -> None:
    response = _signed_in(manager).get("/desk/reports/", {"from": "2026-12-05", "to": "2026-12-01"})
    assert response.status_code == 200
    assert "must not be after" in response.content.decode()


def test_customers_and_visitors_do_not_see_the_page(alice: User) -> None:
    assert _signed_in(alice).get("/desk/reports/").status_code == 404
    assert Client().get("/desk/reports/").status_code == 302
