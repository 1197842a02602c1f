"""The desk's status editor in a real browser: a surge of NA4 cases, the suggested incident
composed with a preview, published, updated to resolved; the public page follows."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from caredesk.status import public
from caredesk.status.models import Incident
from caredesk.tickets import services as tickets
from caredesk.tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_surge_becomes_an_incident_and_is_resolved(
    page_for: Any, model: None, rep: Any, manager: Any, alice: Any
) -> None:
    public.forget()
    for n in range(3):
        tickets.open_case(
            actor=rep, subject=f"NA4 API times out ({n})", channel="phone", requester=alice
        )
    desk = page_for(manager.email)
    expect(desk).to_have_url(re.compile(r"/desk/$"))
    surge = desk.get_by_role("status").filter(has_text="3 new tickets about NA4")
    expect(surge).to_contain_text("naming API")
    surge.get_by_role("link", name="Compose incident for NA4").click()

    expect(desk.get_by_role("heading", level=1)).to_have_text("New incident")
    expect(desk.get_by_label("Title")).to_have_value("NA4: service disruption")
    expect(desk.get_by_label("NA4 API")).to_have_value("partial_outage")
    desk.get_by_label("Title").fill("NA4 API timeouts")
    desk.get_by_label("First update").fill("Requests to the NA4 API time out. Investigating.")
    desk.get_by_role("button", name="Preview").click()
    preview = desk.get_by_role("region", name="Preview: what subscribers receive")
    expect(preview).to_contain_text("[LiveVox Status] NA4 API timeouts")
    expect(preview).to_contain_text("NA4 API 12.0: Partial outage")
    assert not Incident.objects.exists()

    desk.get_by_role("button", name="Publish").click()
    expect(desk.get_by_role("heading", level=1)).to_have_text("NA4 API timeouts")
    linked = desk.get_by_role("region", name="Linked tickets")
    expect(linked.get_by_role("link", name=re.compile(r"^CASE-10\d$"))).to_have_count(3)

    desk.get_by_label("New status").select_option("resolved")
    desk.get_by_label("Message").fill("The API answers again.")
    desk.get_by_role("button", name="Publish").click()
    expect(desk.get_by_role("status").filter(has_text="Update published")).to_be_visible()
    desk.get_by_role("button", name="Resolve 3 open linked tickets").click()
    resolved = re.compile(r"Resolved (CASE-10\d, ){2}CASE-10\d")
    expect(desk.locator(".flash")).to_contain_text(resolved)
    assert set(Ticket.objects.values_list("status", flat=True)) == {"resolved"}

    desk.goto("/status/")
    expect(desk.get_by_role("heading", level=1)).to_have_text("All Systems Operational")
    expect(desk.get_by_role("region", name="Past incidents")).to_contain_text("NA4 API timeouts")
    assert not [e for e in desk.errors if "Content Security Policy" in e], desk.errors
