"""The desk in a real browser: keyboard shortcuts, live SLA countdowns, the manager's
breach count."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from caredesk.core.clock import now
from caredesk.servicemodel.choices import Channel
from caredesk.sla.models import Clock
from caredesk.sla.services import refresh_due_times
from caredesk.tickets import services
from caredesk.tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)


def _cases(rep: Any, requester: Any, n: int) -> list[Ticket]:
    return [
        services.open_case(
            actor=rep, subject=f"Question {i}", channel=Channel.PHONE, requester=requester
        )
        for i in range(n)
    ]


def _escalated_due_in(rep: Any, requester: Any, seconds: int) -> Ticket:
    """A Technical Support ticket whose escalation clock is due in `seconds`."""
    case = services.open_case(
        actor=rep,
        subject="Dialer down",
        channel=Channel.PHONE,
        requester=requester,
        priority="high",
    )
    tsup = services.escalate(case, actor=rep, to="technical-support", reason="outage")
    # Set the deadline near so the countdown is seen ticking in seconds.
    Clock.objects.filter(ticket__in=[case, tsup], stopped_at__isnull=True).update(
        due_at=now() + timedelta(seconds=seconds)
    )
    refresh_due_times()
    return tsup


def test_keyboard_moves_through_the_queue_and_acts_on_a_ticket(
    page_for: Any, model: None, rep: Any, alice: Any
) -> None:
    _cases(rep, alice, 3)
    desk = page_for(rep.email)
    desk.goto("/desk/?view=all")
    rows = desk.locator("[data-list] tbody tr")
    desk.keyboard.press("j")
    expect(rows.nth(0)).to_have_class(re.compile("is-selected"))
    desk.keyboard.press("j")
    expect(rows.nth(1)).to_have_class(re.compile("is-selected"))
    desk.keyboard.press("k")
    expect(rows.nth(0)).to_have_class(re.compile("is-selected"))
    first = rows.nth(0).locator("a.num").inner_text()
    second = rows.nth(1).locator("a.num").inner_text()

    desk.keyboard.press("?")
    expect(desk.locator("#shortcuts")).to_be_visible()
    expect(desk.locator("#shortcuts")).to_contain_text("Assign to me")
    desk.keyboard.press("Escape")
    expect(desk.locator("#shortcuts")).to_be_hidden()

    desk.keyboard.press("/")
    expect(desk.locator("#id_q")).to_be_focused()
    # Keys typed into a field are text, not shortcuts.
    desk.keyboard.type("jk")
    expect(desk.locator("#id_q")).to_have_value("jk")
    desk.keyboard.press("Escape")
    expect(desk.locator("#id_q")).not_to_be_focused()

    desk.goto("/desk/?view=all")
    desk.keyboard.press("j")
    desk.keyboard.press("Enter")
    expect(desk).to_have_url(re.compile(f"/desk/tickets/{first}/$"))

    desk.keyboard.press("r")
    expect(desk.locator("#reply textarea")).to_be_focused()
    desk.keyboard.press("Escape")
    desk.keyboard.press("n")
    expect(desk.locator("#note textarea")).to_be_focused()
    desk.keyboard.type("n is a letter here")
    expect(desk.locator("#note textarea")).to_have_value("n is a letter here")
    desk.keyboard.press("Escape")
    desk.keyboard.press("e")
    expect(desk.locator("#escalate details")).to_have_attribute("open", "")
    desk.keyboard.press("Escape")

    desk.keyboard.press("a")
    expect(desk.locator(".flash")).to_contain_text(f"Assigned to {rep.display_name}")
    assert Ticket.objects.get(number=first).assignee_id == rep.pk
    # From a ticket, j goes on to the next ticket of the list it was opened from.
    desk.keyboard.press("j")
    expect(desk).to_have_url(re.compile(f"/desk/tickets/{second}/$"))
    desk.keyboard.press("k")
    expect(desk).to_have_url(re.compile(f"/desk/tickets/{first}/$"))
    assert not [e for e in desk.errors if "Content Security Policy" in e], desk.errors


def test_countdowns_tick_in_the_browser(page_for: Any, model: None, rep: Any, alice: Any) -> None:
    tsup = _escalated_due_in(rep, alice, 40)
    desk = page_for(rep.email)
    desk.goto("/desk/?view=all")
    countdown = desk.locator(f"tr:has(a:text-is('{tsup.number}')) time.countdown")
    expect(countdown).to_have_text(re.compile(r"^in \d+ s$"))
    first = countdown.inner_text()
    expect(countdown).not_to_have_text(first, timeout=4000)
    expect(countdown).to_have_class(re.compile("due-soon"))
    # The ticket page shows the same clock, ticking too.
    desk.goto(f"/desk/tickets/{tsup.number}/")
    clock = desk.locator(".clocks time.countdown").first
    expect(clock).to_have_text(re.compile(r"^in \d+ s$"))


def test_manager_sees_the_breach_count(
    page_for: Any, model: None, rep: Any, manager: Any, alice: Any
) -> None:
    _escalated_due_in(rep, alice, -600)
    board = page_for(manager.email)
    board.get_by_role("link", name="Dashboard").click()
    expect(board.get_by_role("heading", level=1)).to_have_text("Dashboard")
    overdue = Clock.objects.filter(stopped_at__isnull=True, due_at__lte=now()).count()
    assert overdue >= 1
    expect(board.locator("#overdue-count")).to_have_text(str(overdue))
    assert not [e for e in board.errors if "Content Security Policy" in e], board.errors
