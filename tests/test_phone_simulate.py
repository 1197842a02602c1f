"""`caredesk phone simulate`: a realistic day, played through the real HTTP API of a live
server, leaves the calls and the service level it prints."""

from __future__ import annotations

import io
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from caredesk.people import services as people
from caredesk.people.models import User
from caredesk.phone import simulate
from caredesk.phone.models import Call
from caredesk.phone.service_level import compute

ET = ZoneInfo("America/New_York")
DAY = date(2026, 11, 24)


def test_a_planned_day_follows_the_hourly_profile_and_the_agents() -> None:
    planned = simulate.plan_day(day=DAY, calls=600, agents=4, zone=ET, seed=7)
    assert planned == simulate.plan_day(day=DAY, calls=600, agents=4, zone=ET, seed=7)
    assert 500 < len(planned) < 700
    by_hour = [0] * 24
    for call in planned:
        by_hour[call.rang.astimezone(ET).hour] += 1
    assert max(by_hour[9:12]) > 5 * max(by_hour[1:5])  # the morning peak, the quiet night
    # Never more callers talking at once than there are agents.
    moments = sorted(
        [(c.answered, 1) for c in planned if c.answered]
        + [(c.ended, -1) for c in planned if c.answered]
    )
    talking = most = 0
    for _, change in moments:
        talking += change
        most = max(most, talking)
    assert most <= 4
    outcomes = {c.as_call().outcome for c in planned}
    assert {"answered", "abandoned"} <= outcomes


def test_more_agents_answer_faster() -> None:
    few = simulate.figures(simulate.plan_day(day=DAY, calls=600, agents=2, zone=ET))
    many = simulate.figures(simulate.plan_day(day=DAY, calls=600, agents=6, zone=ET))
    assert few.service_level is not None and many.service_level is not None
    assert many.service_level > few.service_level


@pytest.mark.django_db(transaction=True)
def test_simulate_plays_a_day_through_a_live_server(live_server: object, manager: User) -> None:
    _, token = people.create_token(manager, scope="intake")
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "phone",
        "simulate",
        "--url",
        str(live_server),
        "--token",
        token,
        "--calls",
        "40",
        "--day",
        DAY.isoformat(),
        "--seed",
        "3",
        stdout=out,
        stderr=err,
    )
    planned = simulate.plan_day(day=DAY, calls=40, agents=3, zone=ET, seed=3)
    assert Call.objects.count() == len(planned)
    server = compute(first=DAY).overall
    text = out.getvalue()
    assert f"offered {server.offered}, answered {server.answered}" in text
    assert f"service level {server.service_level}% answered within 30 s" in text
    events = len(simulate.steps(planned, to="+18884773448", extension=str))
    assert f"{events}/{events}" in err.getvalue()  # the progress bar reached the end
    # Played again, the same day changes nothing: every event is idempotent.
    call_command(
        "phone", "simulate", "--url", str(live_server), "--token", token, "--calls", "40",
        "--day", DAY.isoformat(), "--seed", "3", "--no-progress", stdout=io.StringIO(),
    )  # fmt: skip
    assert Call.objects.count() == len(planned)


@pytest.mark.django_db(transaction=True)
def test_simulate_with_a_bad_token_says_so(live_server: object, manager: User) -> None:
    with pytest.raises(CommandError, match="refused"):
        call_command(
            "phone", "simulate", "--url", str(live_server), "--token", "cd_wrong",
            "--calls", "5", "--no-progress", stdout=io.StringIO(), stderr=io.StringIO(),
        )  # fmt: skip
    assert Call.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_pbx_retrying_at_once_leaves_one_call_one_case(
    live_server: object, manager: User, rep: User
) -> None:
    """The same events posted by several connections at the same moment (a PBX retrying
    while the first try is still in flight): each (call, event) counts once, one case per
    answered call, and no request fails."""
    import http.client
    from concurrent.futures import ThreadPoolExecutor
    from urllib.parse import urlencode, urlsplit

    from caredesk.phone.models import CallEvent
    from caredesk.tickets.models import Ticket

    _, token = people.create_token(manager, scope="intake")
    parts = urlsplit(str(live_server))

    def post(fields: dict[str, str]) -> int:
        conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)
        conn.request(
            "POST",
            f"/api/v1/cti/{token}",
            body=urlencode(fields),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        status = conn.getresponse().status
        conn.close()
        return status

    calls = [f"race-{n}" for n in range(4)]
    with ThreadPoolExecutor(8) as pool:
        for event in (
            {"event": "newCall", "direction": "in", "from": "+12125550142"},
            {"event": "answer", "user[]": rep.email},
            {"event": "hangup", "cause": "normalClearing"},
        ):
            tries = [{**event, "callId": c} for c in calls for _ in range(4)]
            assert set(pool.map(post, tries)) == {200}
    assert CallEvent.objects.count() == 12
    assert sorted(CallEvent.objects.values_list("repeats", flat=True)) == [3] * 12
    assert Ticket.objects.count() == 4
    assert set(Call.objects.values_list("outcome", flat=True)) == {"answered"}
