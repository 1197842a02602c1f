"""The call log in the API (GET /api/v1/calls), attaching a call to an open ticket, and the
call in the ticket's timeline."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from phone_helpers import Pbx

from caredesk.people.models import User
from caredesk.people.presence import set_presence
from caredesk.phone.models import Call
from caredesk.tickets import services
from caredesk.tickets.models import Ticket

ET = ZoneInfo("America/New_York")
TUESDAY_10 = datetime(2026, 12, 1, 10, 0, tzinfo=ET)
CALL_FIELDS = {
    "call_id",
    "direction",
    "from",
    "to",
    "routed_to",
    "answered_by",
    "wait_seconds",
    "duration_seconds",
    "outcome",
    "ticket",
}


@pytest.fixture
def day(manager: User, rep: User, emergency: User, alice: User) -> Pbx:
    """Three calls on Tuesday morning: answered in 12 s, abandoned after 40 s, one at 10:30
    answered by Emergency Care because the representative was busy."""
    alice.phone = "+12125550142"
    alice.save(update_fields=["phone"])
    rep.extension = "201"
    rep.save(update_fields=["extension"])
    set_presence(rep, "available", actor=rep, at=TUESDAY_10)
    set_presence(emergency, "available", actor=emergency, at=TUESDAY_10)
    pbx = Pbx(manager)
    with time_machine.travel(TUESDAY_10, tick=False) as clock:
        pbx.send("newCall", "a", direction="in", from_="+12125550142", to="+18884773448")
        clock.shift(12)
        pbx.send("answer", "a", answeringNumber="201")
        clock.shift(300)
        pbx.send("hangup", "a", cause="normalClearing")
        pbx.send("newCall", "b", direction="in", from_="+13125550199", to="+18884773448")
        clock.shift(40)
        pbx.send("hangup", "b", cause="cancel")
    set_presence(rep, "busy", actor=rep, at=TUESDAY_10)
    with time_machine.travel(TUESDAY_10 + timedelta(minutes=30), tick=False) as clock:
        pbx.send("newCall", "c", direction="in", from_="+13125550199", to="+18884773448")
        clock.shift(25)
        pbx.send("answer", "c", user=[emergency.email])
        clock.shift(60)
        pbx.send("hangup", "c", cause="normalClearing")
    return pbx


def test_calls_list_newest_first_with_the_documented_fields(
    api: Callable[..., Any], rep: User, day: Pbx
) -> None:
    resp = api(rep, scope="read").get("/api/v1/calls")
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert [c["call_id"] for c in body["items"]] == ["c", "b", "a"] and body["next"] is None
    first = body["items"][2]
    assert set(first) >= CALL_FIELDS
    assert first["from"] == "+12125550142" and first["routed_to"] == "customer-care"
    assert (first["answered_by"], first["wait_seconds"], first["duration_seconds"]) == (
        "rep@caredesk.test",
        12.0,
        300.0,
    )
    assert first["outcome"] == "answered" and first["ticket"] == "CASE-100"
    assert first["organization"] == "acme" and first["contact"] == "alice@acme.test"
    abandoned = body["items"][1]
    assert (abandoned["outcome"], abandoned["ticket"], abandoned["answered_by"]) == (
        "abandoned",
        None,
        None,
    )
    assert body["items"][0]["routed_to"] == "emergency-care"


def test_calls_filter_by_outcome_queue_and_time(
    api: Callable[..., Any], rep: User, day: Pbx
) -> None:
    client = api(rep, scope="read")

    def ids(**params: str) -> list[str]:
        resp = client.get("/api/v1/calls", params)
        assert resp.status_code == 200, resp.content
        return [c["call_id"] for c in resp.json()["items"]]

    assert ids(outcome="abandoned") == ["b"]
    assert ids(queue="emergency-care") == ["c"]
    assert ids(routed_to="customer-care") == ["b", "a"]
    assert ids(**{"from": "2026-12-01T15:20:00Z"}) == ["c"]
    assert ids(**{"to": "2026-12-01T15:20:00Z"}) == ["b", "a"]
    bad = client.get("/api/v1/calls", {"outcome": "lost"})
    assert bad.status_code == 422 and bad.json()["field"] == "outcome"


def test_calls_pages_walk_by_cursor_in_constant_queries(
    api: Callable[..., Any], rep: User, day: Pbx
) -> None:
    client = api(rep, scope="read")
    first = client.get("/api/v1/calls", {"limit": 2}).json()
    assert len(first["items"]) == 2 and first["next"]
    second = client.get("/api/v1/calls", {"limit": 2, "cursor": first["next"]}).json()
    assert [c["call_id"] for c in second["items"]] == ["a"] and second["next"] is None
    with CaptureQueriesContext(connection) as queries:
        client.get("/api/v1/calls", {"limit": 50})
    assert len(queries) <= 3  # the token, then one query for the page


def test_customers_find_no_call_log(api: Callable[..., Any], alice: User, day: Pbx) -> None:
    assert api(alice).get("/api/v1/calls").status_code == 404
    resp = api(alice).post("/api/v1/calls/a/attach", {"ticket": "CASE-100"})
    assert resp.status_code == 404


def test_an_intake_token_may_not_read_the_call_log(api: Callable[..., Any], rep: User) -> None:
    assert api(rep, scope="intake").get("/api/v1/calls").status_code == 403


def test_attach_moves_the_call_to_an_open_ticket_and_resolves_the_untouched_case(
    api: Callable[..., Any], rep: User, alice: User, day: Pbx
) -> None:
    earlier = services.open_case(actor=rep, subject="Dialer slow", channel="email", requester=alice)
    auto = Call.objects.get(call_id="a").ticket
    assert auto is not None
    resp = api(rep).post("/api/v1/calls/a/attach", {"ticket": earlier.number})
    assert resp.status_code == 200, resp.content
    assert resp.json()["ticket"] == earlier.number
    auto.refresh_from_db()
    assert auto.status == "resolved"
    assert earlier.events.filter(kind="call.attached").exists()
    assert auto.events.filter(kind="call.detached").exists()


def test_attach_refuses_closed_tickets_and_unknown_calls(
    api: Callable[..., Any], rep: User, alice: User, day: Pbx
) -> None:
    done = services.open_case(actor=rep, subject="Old", channel="email", requester=alice)
    services.resolve(done, actor=rep)
    client = api(rep)
    resp = client.post("/api/v1/calls/a/attach", {"ticket": done.number})
    assert resp.status_code == 409
    assert client.post("/api/v1/calls/zz/attach", {"ticket": done.number}).status_code == 404
    assert client.post("/api/v1/calls/b/attach", {"ticket": "CASE-100"}).status_code == 422
    assert Call.objects.get(call_id="a").ticket == Ticket.objects.get(number="CASE-100")


def test_the_call_shows_in_the_ticket_timeline(rep: User, day: Pbx) -> None:
    client = Client()
    client.force_login(rep)
    page = client.get("/desk/tickets/CASE-100/").content.decode()
    assert "answered a call from +12125550142 after 12 s" in page
    assert "ended: answered, talked 5 min 0 s" in page
    assert "rep@caredesk.test" in page


def test_the_phone_routes_are_in_the_openapi_document(db: None) -> None:
    doc = Client().get("/api/v1/openapi.json").json()
    cti = doc["paths"]["/api/v1/cti/{token}"]["post"]
    body = cti["requestBody"]["content"]
    assert set(body) == {"application/x-www-form-urlencoded", "application/json"}
    assert body["application/json"]["schema"]["properties"]["event"]["enum"] == [
        "newCall",
        "answer",
        "hangup",
    ]
    assert not cti.get("security")  # the token is in the path
    for path in ("/api/v1/calls", "/api/v1/calls/service-level", "/api/v1/calls/{call_id}/attach"):
        assert path in doc["paths"]
