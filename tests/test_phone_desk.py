"""The phone in the desk: the live wallboard, and the caller popping up on the answering
agent's desk with their open tickets, where the call can be attached to one of them."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from phone_helpers import Pbx

from caredesk.people.models import User
from caredesk.people.presence import set_presence
from caredesk.phone.models import Call
from caredesk.tickets import services

ET = ZoneInfo("America/New_York")
TUESDAY_10 = datetime(2026, 12, 1, 10, 0, tzinfo=ET)


def desk(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def line(manager: User, rep: User, rep2: User, alice: User) -> Pbx:
    alice.phone = "+12125550142"
    alice.save(update_fields=["phone"])
    rep.extension = "201"
    rep.save(update_fields=["extension"])
    set_presence(rep, "available", actor=rep, at=TUESDAY_10)
    set_presence(rep2, "busy", actor=rep2, at=TUESDAY_10)
    return Pbx(manager)


def test_the_caller_pops_up_on_the_answering_agents_desk_only(
    line: Pbx, rep: User, rep2: User, alice: User
) -> None:
    earlier = services.open_case(
        actor=rep, subject="Campaign stuck", channel="email", requester=alice
    )
    with time_machine.travel(TUESDAY_10, tick=False) as clock:
        assert desk(rep).get("/desk/phone/popup/").content.count(b"call-card") == 0
        line.send("newCall", "p-1", direction="in", from_="+12125550142")
        clock.shift(8)
        line.send("answer", "p-1", answeringNumber="201")
        clock.shift(5)
        mine = desk(rep).get("/desk/phone/popup/", headers={"HX-Request": "true"})
        page = mine.content.decode()
        assert mine.status_code == 200 and "call-card" in page
        assert "Alice" in page and "Acme" in page and earlier.number in page
        case = Call.objects.get(call_id="p-1").ticket
        assert case is not None and case.number in page
        assert "call-card" not in desk(rep2).get("/desk/phone/popup/").content.decode()
        # The next poll with nothing new swaps nothing.
        version = page.split("?v=", 1)[1].split('"', 1)[0]
        again = desk(rep).get("/desk/phone/popup/", {"v": version})
        assert again.status_code == 204
        clock.shift(60)
        line.send("hangup", "p-1", cause="normalClearing")
        ended = desk(rep).get("/desk/phone/popup/", {"v": version})
        assert ended.status_code == 200 and "Call ended" in ended.content.decode()

        resp = desk(rep).post("/desk/phone/calls/p-1/attach", {"ticket": earlier.number})
        assert resp.status_code == 302 and resp["Location"] == f"/desk/tickets/{earlier.number}/"
    assert Call.objects.get(call_id="p-1").ticket == earlier
    case.refresh_from_db()
    assert case.status == "resolved"
    with time_machine.travel(TUESDAY_10 + timedelta(minutes=30), tick=False):
        assert "call-card" not in desk(rep).get("/desk/phone/popup/").content.decode()


def test_every_desk_page_polls_for_the_caller(rep: User) -> None:
    page = desk(rep).get("/desk/").content.decode()
    assert 'hx-get="/desk/phone/popup/"' in page and "phone/phone.css" in page


def test_the_wallboard_shows_waiting_callers_and_todays_figures(
    line: Pbx, rep: User, alice: User
) -> None:
    with time_machine.travel(TUESDAY_10, tick=False) as clock:
        line.send("newCall", "w-1", direction="in", from_="+12125550142")
        clock.shift(10)
        line.send("answer", "w-1", answeringNumber="201")
        clock.shift(100)
        line.send("hangup", "w-1", cause="normalClearing")
        line.send("newCall", "w-2", direction="in", from_="+13125550199")
        clock.shift(45)
        page = desk(rep).get("/desk/phone/").content.decode()
        assert "Phone wallboard" in page
        assert "waiting now" in page and "45 s" in page  # w-2 waits past the target
        assert "100.0%" in page  # w-1, the only decided call, was answered in 10 s
        assert "10:00" in page and "customer-care" in page
        live = desk(rep).get("/desk/phone/", headers={"HX-Request": "true"})
        body = live.content.decode()
        assert live.status_code == 200 and 'id="board"' in body and "<html" not in body
        csv = desk(rep).get("/desk/phone/", {"day": "2026-12-01", "format": "csv"})
        rows = csv.content.decode().splitlines()
        assert csv["Content-Type"].startswith("text/csv") and rows[1].startswith("2026-12-01T10:00")


def test_customers_see_no_phone_pages(alice: User) -> None:
    for url in ("/desk/phone/", "/desk/phone/popup/"):
        assert desk(alice).get(url).status_code == 404


def test_an_agent_dismisses_a_call_from_the_pop_up(line: Pbx, rep: User, alice: User) -> None:
    with time_machine.travel(TUESDAY_10, tick=False) as clock:
        line.send("newCall", "d-1", direction="in", from_="+12125550142")
        line.send("answer", "d-1", answeringNumber="201")
        clock.shift(30)
        line.send("hangup", "d-1", cause="normalClearing")
        agent = desk(rep)
        page = agent.get("/desk/phone/popup/").content.decode()
        assert "Call ended" in page and 'aria-label="Dismiss the call from +12125550142"' in page

        swapped = agent.post("/desk/phone/calls/d-1/dismiss", headers={"HX-Request": "true"})
        assert swapped.status_code == 200 and "call-card" not in swapped.content.decode()
        # It stays dismissed for this agent's next polls; the call itself is unchanged.
        assert "call-card" not in agent.get("/desk/phone/popup/").content.decode()
        assert Call.objects.get(call_id="d-1").outcome == "answered"
        # Without htmx the form goes back to the queue.
        plain = agent.post("/desk/phone/calls/d-1/dismiss")
        assert plain.status_code == 302 and plain["Location"] == "/desk/"
        assert agent.post("/desk/phone/calls/nope/dismiss").status_code == 404
        # A new call pops up as before.
        line.send("newCall", "d-2", direction="in", from_="+12125550142")
        line.send("answer", "d-2", answeringNumber="201")
        assert "call-card" in agent.get("/desk/phone/popup/").content.decode()


def test_an_agents_outbound_call_pops_up_and_goes_on_the_ticket_it_was_about(
    line: Pbx, rep: User, alice: User
) -> None:
    earlier = services.open_case(
        actor=rep, subject="Campaign stuck", channel="email", requester=alice
    )
    with time_machine.travel(TUESDAY_10, tick=False) as clock:
        line.send("newCall", "o-1", direction="out", from_="201", to="+12125550142")
        clock.shift(6)
        line.send("answer", "o-1", user=[rep.email])
        agent = desk(rep)
        page = agent.get("/desk/phone/popup/").content.decode()
        assert "Your call out" in page and "Alice" in page and earlier.number in page
        assert "Open tickets of this contact — attach the call to one:" in page
        # No case opens for a call the agent placed.
        assert Call.objects.get(call_id="o-1").ticket is None

        agent.post("/desk/phone/calls/o-1/attach", {"ticket": earlier.number})
        clock.shift(90)
        line.send("hangup", "o-1", cause="normalClearing")
    timeline = agent.get(f"/desk/tickets/{earlier.number}/").content.decode()
    assert "attached the call to +12125550142 to this ticket" in timeline
    assert "call to +12125550142 ended: answered, talked 1 min 30 s" in timeline
    assert Call.objects.get(call_id="o-1").ticket == earlier
