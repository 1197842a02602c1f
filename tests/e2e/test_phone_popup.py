"""A call in a real browser: the representative's desk is open; the PBX posts the call; the
caller pops up on that desk without a reload, the call is attached to the caller's open
ticket, the wallboard shows the call, and the agent dismisses the ended call."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from playwright.sync_api import expect

from caredesk.people import services as people
from caredesk.phone.models import Call
from caredesk.tickets import services

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_caller_pops_up_live_and_the_call_goes_on_their_ticket(
    page_for: Any, model: None, rep: Any, manager: Any, alice: Any
) -> None:
    alice.phone = "+12125550142"
    alice.save(update_fields=["phone"])
    earlier = services.open_case(
        actor=rep, subject="Campaign stuck at 40%", channel="email", requester=alice
    )
    _, token = people.create_token(manager, scope="intake")
    desk = page_for(rep.email)
    expect(desk).to_have_url(re.compile(r"/desk/$"))
    expect(desk.locator(".call-card")).to_have_count(0)

    pbx = Client()
    url = f"/api/v1/cti/{token}"
    pbx.post(
        url, {"event": "newCall", "callId": "e2e-1", "direction": "in", "from": "+12125550142"}
    )
    pbx.post(url, {"event": "answer", "callId": "e2e-1", "user[]": rep.email})

    card = desk.locator(".call-card")
    expect(card).to_contain_text("Alice", timeout=10_000)  # htmx polls every 3 s
    expect(card).to_contain_text("Acme")
    expect(card).to_contain_text(earlier.number)
    card.get_by_role("button", name="Attach call").click()
    expect(desk).to_have_url(re.compile(rf"/desk/tickets/{earlier.number}/$"))
    expect(desk.locator(".timeline")).to_contain_text("attached the call from +12125550142")
    assert Call.objects.get(call_id="e2e-1").ticket == earlier

    pbx.post(url, {"event": "hangup", "callId": "e2e-1", "cause": "normalClearing"})
    desk.get_by_role("link", name="Phone").click()
    expect(desk.get_by_role("heading", level=1)).to_have_text("Phone wallboard")
    expect(desk.locator(".wb-tile").nth(3)).to_contain_text("100.0%")
    # The ended call waits on the pop-up until the agent dismisses it.
    ended = desk.locator(".call-card")
    expect(ended).to_contain_text("Call ended", timeout=10_000)
    ended.get_by_role("button", name="Dismiss the call from +12125550142").click()
    expect(desk.locator(".call-card")).to_have_count(0)
    with desk.expect_response(re.compile(r"/desk/phone/popup/"), timeout=10_000):
        pass  # the next poll leaves it dismissed
    expect(desk.locator(".call-card")).to_have_count(0)
    assert not [e for e in desk.errors if "Content Security Policy" in e], desk.errors
