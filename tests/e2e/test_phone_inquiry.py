"""A phone inquiry end to end, in a real browser: the representative opens a case and
escalates it, the engineer takes it and replies, the customer sees it all on the portal."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from caredesk.tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)


def test_phone_inquiry_from_case_to_escalation_to_reply(
    page_for: Any, model: None, rep: Any, engineer: Any, alice: Any
) -> None:
    desk = page_for(rep.email)
    expect(desk).to_have_url(re.compile(r"/desk/$"))
    desk.get_by_role("link", name="New case").first.click()
    desk.get_by_label("Caller's email").fill(alice.email)
    desk.get_by_label("Subject").fill("Dialer shows no agents on NA4")
    desk.get_by_label("Description").fill("Since 9am the dialer is broken: no agents listed.")
    desk.get_by_role("button", name="Open case").click()
    expect(desk.get_by_role("heading", level=1)).to_contain_text("CASE-100")

    expect(desk.locator(".suggestion")).to_contain_text("Technical Support")
    desk.get_by_label("Technical Support").check()
    desk.get_by_label("Reason").fill("Dialer outage on NA4")
    desk.get_by_role("button", name="Escalate").click()
    expect(desk.locator("body")).to_contain_text("TSUP-100")
    assert Ticket.objects.get(number="CASE-100").status == "escalated"

    tech = page_for(engineer.email)
    tech.goto("/desk/tickets/TSUP-100/")
    tech.get_by_role("button", name="Assign to me").click()
    tech.get_by_label("Reply to the customer (sent by email)").fill(
        "We restarted the dialer service on NA4; agents are listed again."
    )
    tech.get_by_role("button", name="Send reply").click()
    expect(tech.locator("body")).to_contain_text("We restarted the dialer service")
    assert Ticket.objects.get(number="TSUP-100").assignee_id == engineer.pk

    portal = page_for(alice.email)
    portal.goto("/requests/")
    expect(portal.locator("body")).to_contain_text("CASE-100")
    expect(portal.locator("body")).to_contain_text("TSUP-100")
    portal.goto("/requests/TSUP-100/")
    expect(portal.locator("body")).to_contain_text("We restarted the dialer service")

    for page in (desk, tech, portal):
        assert not [e for e in page.errors if "Content Security Policy" in e], page.errors
