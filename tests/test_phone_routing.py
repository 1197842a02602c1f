"""Routing of new inbound calls by the clock and the agents' presence, through the CTI API:
the on-site Customer Care team in staffed hours when a representative is available,
otherwise Emergency Care."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from phone_helpers import Pbx

from caredesk.people.models import User
from caredesk.people.presence import set_presence
from caredesk.phone.models import BlockedNumber, Call, DialTarget
from caredesk.phone.service_level import compute
from caredesk.sla.models import Clock

ET = ZoneInfo("America/New_York")
TUESDAY_10 = datetime(2026, 12, 1, 10, 0, tzinfo=ET)
SATURDAY_2159 = datetime(2026, 12, 5, 21, 59, tzinfo=ET)
SUNDAY_23 = datetime(2026, 12, 6, 23, 0, tzinfo=ET)


@pytest.fixture
def pbx(manager: User) -> Pbx:
    return Pbx(manager)


def ring(pbx: Pbx, when: datetime, call_id: str = "r-1") -> dict[str, object]:
    with time_machine.travel(when, tick=False):
        return pbx.send("newCall", call_id, direction="in", from_="+12125550142", to="8884773448")


def present(when: datetime, *pairs: tuple[User, str]) -> None:
    for agent, status in pairs:
        set_presence(agent, status, actor=agent, at=when - timedelta(hours=1))


def test_tuesday_10_with_a_representative_available_goes_to_customer_care(
    pbx: Pbx, rep: User, rep2: User, emergency: User
) -> None:
    present(TUESDAY_10, (rep, "busy"), (rep2, "available"), (emergency, "available"))
    reply = ring(pbx, TUESDAY_10)
    assert reply == {
        "action": "dial",
        "queue": "customer-care",
        "routed_to": "customer-care",
        "overflow": False,
    }
    call = Call.objects.get()
    assert (call.routed_to, call.overflow, call.emergency_hours) == ("customer-care", False, False)


def test_tuesday_10_with_every_representative_busy_overflows_to_emergency_care(
    pbx: Pbx, rep: User, rep2: User, emergency: User
) -> None:
    present(TUESDAY_10, (rep, "busy"), (rep2, "busy"), (emergency, "available"))
    assert ring(pbx, TUESDAY_10)["routed_to"] == "emergency-care"
    call = Call.objects.get()
    # Overflow keeps the staffed-hours targets: it is not emergency staffing.
    assert (call.overflow, call.emergency_hours) == (True, False)


def test_every_representative_busy_and_nobody_of_emergency_care_present_still_overflows(
    pbx: Pbx, rep: User, emergency: User
) -> None:
    present(TUESDAY_10, (rep, "busy"))
    assert ring(pbx, TUESDAY_10)["routed_to"] == "emergency-care"


def test_sunday_23_goes_to_emergency_care(pbx: Pbx, rep: User, emergency: User) -> None:
    present(SUNDAY_23, (rep, "available"), (emergency, "available"))
    assert ring(pbx, SUNDAY_23)["routed_to"] == "emergency-care"
    call = Call.objects.get()
    assert (call.overflow, call.emergency_hours) == (False, True)


def test_saturday_21_59_goes_to_customer_care(pbx: Pbx, rep: User, emergency: User) -> None:
    present(SATURDAY_2159, (rep, "available"), (emergency, "available"))
    assert ring(pbx, SATURDAY_2159)["routed_to"] == "customer-care"
    assert ring(pbx, SATURDAY_2159 + timedelta(minutes=1), "r-2")["routed_to"] == "emergency-care"


def test_a_desk_that_keeps_no_presence_routes_by_the_calendar(pbx: Pbx, rep: User) -> None:
    assert ring(pbx, TUESDAY_10)["routed_to"] == "customer-care"
    assert ring(pbx, SUNDAY_23, "r-2")["routed_to"] == "emergency-care"


def test_the_reply_names_the_configured_number_and_queue(pbx: Pbx, rep: User) -> None:
    DialTarget.objects.create(team_id="emergency-care", number="+18885550100", queue="ec-queue")
    assert ring(pbx, SUNDAY_23) == {
        "action": "dial",
        "queue": "ec-queue",
        "number": "+18885550100",
        "routed_to": "emergency-care",
        "overflow": False,
    }


def test_an_overflow_call_answered_by_emergency_care_keeps_the_30_second_target(
    pbx: Pbx, rep: User, emergency: User
) -> None:
    present(TUESDAY_10, (rep, "busy"), (emergency, "available"))
    with time_machine.travel(TUESDAY_10, tick=False) as clock:
        pbx.send("newCall", "ov", direction="in", from_="+12125550142")
        clock.shift(20)
        pbx.send("answer", "ov", user=[emergency.email])
    call = Call.objects.get()
    assert call.ticket is not None and call.ticket.assignee == emergency
    first = Clock.objects.get(ticket=call.ticket, kind="first_response")
    assert (first.outcome, first.emergency) == ("met", False)


def test_a_blocked_caller_is_rejected_and_not_offered(pbx: Pbx, rep: User) -> None:
    BlockedNumber.objects.create(number="+12125550142", note="robocaller")
    assert ring(pbx, TUESDAY_10) == {"action": "reject", "reason": "busy"}
    assert ring(pbx, TUESDAY_10) == {"action": "reject", "reason": "busy"}  # a retry
    with time_machine.travel(TUESDAY_10 + timedelta(seconds=1), tick=False):
        pbx.send("hangup", "r-1", cause="USER_BUSY")
    call = Call.objects.get()
    assert (call.outcome, call.routed_to, call.ticket) == ("rejected", "", None)
    with time_machine.travel(TUESDAY_10 + timedelta(hours=1), tick=False):
        assert compute().overall.offered == 0


def test_a_withheld_number_is_answered_on_a_case_without_a_requester(pbx: Pbx, rep: User) -> None:
    with time_machine.travel(TUESDAY_10, tick=False) as clock:
        reply = pbx.send("newCall", "anon", direction="in", from_="anonymous", to="8884773448")
        assert reply["action"] == "dial"
        clock.shift(3)
        pbx.send("answer", "anon", user=[rep.email])
    call = Call.objects.get()
    assert call.caller == "" and call.contact is None and call.ticket is not None
    assert call.ticket.requester is None
    assert call.ticket.subject == "Phone call from a withheld number"
