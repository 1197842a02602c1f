"""Call events as real PBXs send them, replayed through POST /api/v1/cti/<token>: the stored
calls, the cases they open and the figures they leave, whatever the order or repetition."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from phone_helpers import Pbx

from caredesk.people import services as people
from caredesk.people.models import User
from caredesk.people.presence import set_presence
from caredesk.phone.models import Call, CallEvent
from caredesk.sla.models import Clock
from caredesk.tickets.models import Event, Ticket

ET = ZoneInfo("America/New_York")
TUESDAY_10 = datetime(2026, 12, 1, 10, 0, tzinfo=ET)
ACME_LINE = "+1 (212) 555-0142"
SUPPORT_LINE = "+18884773448"


@pytest.fixture
def pbx(manager: User) -> Pbx:
    return Pbx(manager)


@pytest.fixture
def alice_phone(alice: User) -> User:
    alice.phone = "+12125550142"
    alice.save(update_fields=["phone"])
    return alice


@pytest.fixture
def staffed(rep: User, rep2: User, emergency: User) -> None:
    rep.extension = "201"
    rep.save(update_fields=["extension"])
    for agent in (rep, rep2, emergency):
        set_presence(agent, "available", actor=agent, at=TUESDAY_10)


def at(seconds: float) -> datetime:
    return TUESDAY_10 + timedelta(seconds=seconds)


def counts() -> dict[str, int]:
    return {
        "calls": Call.objects.count(),
        "events": CallEvent.objects.count(),
        "tickets": Ticket.objects.count(),
        "ticket_events": Event.objects.count(),
    }


def test_an_answered_call_opens_a_case_with_ring_to_answer_as_first_response(
    pbx: Pbx, staffed: None, rep: User, alice_phone: User
) -> None:
    with time_machine.travel(TUESDAY_10, tick=False) as clock:
        reply = pbx.send("newCall", "c-1", direction="in", from_=ACME_LINE, to=SUPPORT_LINE)
        assert reply["action"] == "dial" and reply["queue"] == "customer-care"
        clock.shift(12)
        assert pbx.send("answer", "c-1", user=["rep@caredesk.test"], answeringNumber="201") == {}
        clock.shift(240)
        assert pbx.send("hangup", "c-1", cause="normalClearing") == {}

    call = Call.objects.get(call_id="c-1")
    assert (call.outcome, call.routed_to, call.answered_by) == ("answered", "customer-care", rep)
    assert (call.wait_seconds, call.duration_seconds) == (12.0, 240.0)
    assert (call.caller, call.contact, call.organization) == (
        "+12125550142",
        alice_phone,
        alice_phone.organization,
    )
    case = call.ticket
    assert case is not None and case.channel == "phone" and case.requester == alice_phone
    assert case.assignee == rep and case.created_at == TUESDAY_10
    first = Clock.objects.get(ticket=case, kind="first_response")
    assert (first.started_at, first.stopped_at, first.outcome) == (TUESDAY_10, at(12), "met")
    kinds = list(case.events.values_list("kind", flat=True))
    assert kinds[-2:] == ["call.answered", "call.ended"]
    ended = case.events.get(kind="call.ended").data
    assert ended["duration_seconds"] == 240.0 and ended["answered_by"] == "rep@caredesk.test"


def test_a_call_answered_after_40_seconds_breaches_the_30_second_target(
    pbx: Pbx, staffed: None
) -> None:
    with time_machine.travel(TUESDAY_10, tick=False) as clock:
        pbx.send("newCall", "slow", direction="in", from_=ACME_LINE, to=SUPPORT_LINE)
        clock.shift(40)
        pbx.send("answer", "slow", answeringNumber="201")
    call = Call.objects.get(call_id="slow")
    assert call.outcome == "" and call.answered_by is not None
    assert Clock.objects.get(ticket=call.ticket, kind="first_response").outcome == "breached"


def test_json_bodies_and_timestamps_from_the_pbx(manager: User, staffed: None) -> None:
    pbx = Pbx(manager, as_json=True)
    with time_machine.travel(at(300), tick=False):
        pbx.send("newCall", "j-1", direction="in", timestamp=at(0).isoformat(), **{"from": "0"})
        pbx.send("answer", "j-1", timestamp=at(8).isoformat(), user=["Casey Rep"])
        pbx.send("hangup", "j-1", timestamp=str(at(68).timestamp()), cause="NORMAL_CLEARING")
    call = Call.objects.get(call_id="j-1")
    assert (call.wait_seconds, call.duration_seconds, call.cause) == (8.0, 60.0, "normalClearing")
    assert call.answered_by is not None and call.answered_by.email == "rep@caredesk.test"
    assert call.caller == ""  # "0" is no public number: no contact is guessed


@pytest.mark.parametrize(
    ("wait", "cause", "outcome"),
    [
        (45, "cancel", "abandoned"),
        (3, "cancel", "short_abandoned"),
        (20, "ORIGINATOR_CANCEL", "abandoned"),
        (30, "noAnswer", "abandoned"),
        (1, "busy", "busy"),
        (1, "USER_BUSY", "busy"),
        (2, "congestion", "failed"),
        (2, "notFound", "failed"),
        (2, "CALL_REJECTED", "rejected"),
        (2, "RECOVERY_ON_TIMER_EXPIRE", "failed"),
    ],
)
def test_unanswered_calls_end_with_their_outcome_and_open_no_case(
    pbx: Pbx, staffed: None, wait: int, cause: str, outcome: str
) -> None:
    with time_machine.travel(TUESDAY_10, tick=False) as clock:
        pbx.send("newCall", "q-1", direction="in", from_=ACME_LINE, to=SUPPORT_LINE)
        clock.shift(wait)
        pbx.send("hangup", "q-1", cause=cause)
    call = Call.objects.get(call_id="q-1")
    assert (call.outcome, call.wait_seconds, call.ticket) == (outcome, float(wait), None)
    assert Ticket.objects.count() == 0


def test_repeated_events_are_harmless(pbx: Pbx, staffed: None) -> None:
    with time_machine.travel(TUESDAY_10, tick=False) as clock:
        first = pbx.send("newCall", "d-1", direction="in", from_=ACME_LINE, to=SUPPORT_LINE)
        assert pbx.send("newCall", "d-1", direction="in", from_=ACME_LINE) == first
        clock.shift(5)
        pbx.send("answer", "d-1", answeringNumber="201")
        before = counts()
        clock.shift(5)
        pbx.send("answer", "d-1", answeringNumber="201")
        clock.shift(50)
        pbx.send("hangup", "d-1", cause="normalClearing")
        pbx.send("hangup", "d-1", cause="normalClearing")
    call = Call.objects.get(call_id="d-1")
    assert (call.wait_seconds, call.duration_seconds) == (5.0, 55.0)
    assert Ticket.objects.count() == before["tickets"] == 1
    assert CallEvent.objects.filter(call=call).count() == 3
    assert CallEvent.objects.get(call=call, kind="answer").repeats == 1


def _statements_per_event(pbx: Pbx, call_id: str, number: str) -> list[int]:
    found = []
    for event, fields in (
        ("newCall", {"direction": "in", "from_": number, "to": SUPPORT_LINE}),
        ("answer", {"answeringNumber": "201"}),
        ("hangup", {"cause": "normalClearing"}),
        ("hangup", {"cause": "normalClearing"}),  # a repeat
    ):
        with CaptureQueriesContext(connection) as statements:
            pbx.send(event, call_id, **fields)
        found.append(len(statements.captured_queries))
    return found


def test_an_event_costs_the_same_statements_however_many_calls_came_before(
    pbx: Pbx, staffed: None, alice_phone: User
) -> None:
    with time_machine.travel(TUESDAY_10, tick=True):
        _statements_per_event(pbx, "warm", ACME_LINE)  # the per-process caches, filled
        first = _statements_per_event(pbx, "n-0", ACME_LINE)
        for n in range(1, 30):
            for event, fields in (
                ("newCall", {"direction": "in", "from_": f"+1212555{n:04d}"}),
                ("answer", {"answeringNumber": "201"}),
                ("hangup", {"cause": "normalClearing"}),
            ):
                pbx.send(event, f"n-{n}", **fields)
        assert _statements_per_event(pbx, "n-30", ACME_LINE) == first
    # The token, the call, the event, the caller, the route, the call written back (and
    # this test's savepoint); the answer opens and assigns the case.
    assert first[0] <= 10 and first[1] <= 22 and first[2] <= 8 and first[3] <= 5, first


def test_events_out_of_order_end_the_same(pbx: Pbx, staffed: None, rep: User) -> None:
    # The hangup overtakes the answer, and the newCall comes last (timestamps tell the truth).
    with time_machine.travel(at(120), tick=False):
        pbx.send("hangup", "o-1", timestamp=at(100).isoformat(), cause="normalClearing")
        pbx.send("answer", "o-1", timestamp=at(10).isoformat(), answeringNumber="201")
        pbx.send("newCall", "o-1", direction="in", from_=ACME_LINE, timestamp=at(0).isoformat())
    call = Call.objects.get(call_id="o-1")
    assert (call.outcome, call.answered_by, call.wait_seconds) == ("answered", rep, 10.0)
    assert call.duration_seconds == 90.0 and call.irregular
    assert call.ticket is not None
    assert list(call.ticket.events.filter(kind__startswith="call.").values_list("kind", flat=True))


def test_events_of_an_unknown_call_are_recorded(pbx: Pbx, staffed: None) -> None:
    with time_machine.travel(TUESDAY_10, tick=False):
        assert pbx.send("hangup", "ghost", cause="cancel") == {}
    call = Call.objects.get(call_id="ghost")
    assert call.outcome == "short_abandoned" and "without newCall" in call.irregular
    assert CallEvent.objects.filter(call=call, kind="hangup").exists()


def test_a_transferred_call_stays_on_its_case_and_is_offered_once(
    pbx: Pbx, staffed: None, rep: User, rep2: User
) -> None:
    rep2.extension = "202"
    rep2.save(update_fields=["extension"])
    with time_machine.travel(TUESDAY_10, tick=False) as clock:
        pbx.send("newCall", "t-1", direction="in", from_=ACME_LINE, to=SUPPORT_LINE)
        clock.shift(6)
        pbx.send("answer", "t-1", answeringNumber="201")
        clock.shift(60)
        pbx.send("newCall", "t-2", direction="in", from_=ACME_LINE, to="202", origCallId="t-1")
        pbx.send("hangup", "t-1", cause="forwarded")
        clock.shift(4)
        pbx.send("answer", "t-2", answeringNumber="202")
        clock.shift(100)
        pbx.send("hangup", "t-2", cause="normalClearing")
    first, second = Call.objects.get(call_id="t-1"), Call.objects.get(call_id="t-2")
    assert first.outcome == second.outcome == "answered"
    assert first.ticket == second.ticket and Ticket.objects.count() == 1
    assert (second.transferred_from, second.answered_by) == (first, rep2)
    assert second.ticket is not None
    answered = second.ticket.events.filter(kind="call.answered")
    assert [e.data["answered_by"] for e in answered] == [rep.email, rep2.email]


def test_outbound_calls_are_recorded_without_a_case(pbx: Pbx, staffed: None, rep: User) -> None:
    with time_machine.travel(TUESDAY_10, tick=False) as clock:
        assert pbx.send("newCall", "out-1", direction="out", from_="201", to=ACME_LINE) == {}
        clock.shift(9)
        pbx.send("answer", "out-1", user=["rep@caredesk.test"])
        clock.shift(30)
        pbx.send("hangup", "out-1", cause="normalClearing")
    call = Call.objects.get(call_id="out-1")
    assert (call.direction, call.caller, call.outcome, call.ticket) == (
        "out",
        "+12125550142",
        "answered",
        None,
    )


# --- refusals -------------------------------------------------------------------------------


def test_a_bad_token_is_401_and_changes_nothing(pbx: Pbx, staffed: None) -> None:
    before = counts()
    resp = pbx.post("cd_not-a-token", event="newCall", callId="x", direction="in")
    assert resp.status_code == 401 and resp.json()["field"] == "token"
    assert counts() == before


def test_a_token_without_the_intake_scope_is_403(manager: User, staffed: None) -> None:
    resp = Pbx(manager, scope="read").post(event="newCall", callId="x", direction="in")
    assert resp.status_code == 403 and counts()["calls"] == 0


def test_a_customer_token_cannot_post_call_events(alice: User) -> None:
    resp = Pbx(alice).post(event="newCall", callId="x", direction="in")
    assert resp.status_code == 403 and Call.objects.count() == 0


@pytest.mark.parametrize(
    ("fields", "status", "field"),
    [
        ({"callId": "b"}, 422, "event"),
        ({"event": "dtmf", "callId": "b"}, 422, "event"),
        ({"event": "newCall"}, 422, "callId"),
        ({"event": "newCall", "callId": "b"}, 422, "direction"),
        ({"event": "newCall", "callId": "b", "direction": "sideways"}, 422, "direction"),
        (
            {"event": "newCall", "callId": "b", "direction": "in", "from_": "DROP TABLE"},
            422,
            "from",
        ),
        ({"event": "newCall", "callId": "b", "direction": "in", "to": "+1" + "5" * 40}, 422, "to"),
        ({"event": "hangup", "callId": "b"}, 422, "cause"),
        ({"event": "hangup", "callId": "b", "cause": "felt like it"}, 422, "cause"),
        ({"event": "answer", "callId": "b", "timestamp": "yesterday"}, 422, "timestamp"),
        ({"event": "answer", "callId": "x" * 101}, 422, "callId"),
    ],
)
def test_bad_events_are_refused_clearly_and_change_nothing(
    pbx: Pbx, staffed: None, fields: dict[str, Any], status: int, field: str
) -> None:
    before = counts()
    resp = pbx.post(**fields)
    assert resp.status_code == status, resp.content
    assert resp.json()["field"] == field and resp.json()["message"]
    assert counts() == before


def test_huge_and_malformed_bodies_are_refused(pbx: Pbx, staffed: None) -> None:
    url = f"/api/v1/cti/{pbx.token}"
    huge = pbx.client.post(
        url,
        "event=newCall&callId=h&direction=in&pad=" + "x" * 100_000,
        content_type="application/x-www-form-urlencoded",
    )
    assert huge.status_code == 413
    for body in ("{not json", "[1, 2]", '{"event": {"nested": 1}}'):
        resp = pbx.client.post(url, body, content_type="application/json")
        assert resp.status_code == 422, body
    xml = pbx.client.post(url, "<Call/>", content_type="application/xml")
    assert xml.status_code == 422 and xml.json()["field"] == "content-type"
    assert counts()["calls"] == 0


def test_the_cti_token_is_the_last_path_segment_only(pbx: Pbx, staffed: None) -> None:
    people.revoke_token(people.token_user(pbx.token))  # type: ignore[arg-type]
    resp = pbx.post(event="newCall", callId="r", direction="in")
    assert resp.status_code == 401 and Call.objects.count() == 0


def test_an_agent_added_with_an_extension_is_matched_on_answer(pbx: Pbx) -> None:
    call_command(
        "user", "add", "rep9@caredesk.test", "--role", "representative", "--extension", "209",
        stdout=io.StringIO(),
    )  # fmt: skip
    with time_machine.travel(TUESDAY_10, tick=False):
        pbx.send("newCall", "x-1", direction="in", from_=ACME_LINE)
        pbx.send("answer", "x-1", answeringNumber="209")
    answered_by = Call.objects.get(call_id="x-1").answered_by
    assert answered_by is not None and answered_by.email == "rep9@caredesk.test"


FIELD_NAMES = ["event", "callId", "direction", "from", "to", "user[]", "queue", "cause",
               "answeringNumber", "timestamp", "origCallId", "junk"]  # fmt: skip


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    fields=st.dictionaries(
        st.sampled_from(FIELD_NAMES),
        st.one_of(
            st.sampled_from(["newCall", "answer", "hangup", "in", "out", "busy", "NO_ANSWER"]),
            st.text(max_size=40),
            st.integers().map(str),
        ),
        max_size=8,
    ),
    as_json=st.booleans(),
)
def test_any_event_gets_an_answer_never_a_server_error(
    manager: User, fields: dict[str, str], as_json: bool
) -> None:
    pbx = Pbx(manager, as_json=as_json)
    before = counts()
    resp = pbx.post(**fields)
    assert resp.status_code in (200, 403, 413, 422), resp.content
    body = resp.json()
    if resp.status_code != 200:
        assert body["message"] and counts() == before
