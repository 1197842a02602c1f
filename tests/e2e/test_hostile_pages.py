"""In a real browser, no payload a customer or caller can write ever runs: every payload sets
`window.pwned` or opens a dialog if it executes; the desk ticket page, the queue (and its
htmx search), the portal and the status page are loaded and both stay untouched."""

from __future__ import annotations

from typing import Any

import pytest

from caredesk.people import services as people
from caredesk.status import services as status_services
from caredesk.tickets import services

pytestmark = pytest.mark.django_db(transaction=True)

PAYLOADS = [
    "<script>window.pwned=1;alert(1)</script>",
    '<img src=x onerror="window.pwned=1;alert(1)">',
    '"><svg onload="window.pwned=1;alert(1)">',
    '\'><iframe src="javascript:parent.pwned=1"></iframe>',
    '<a href="javascript:window.pwned=1" id=jslink>click me</a>',
    "</textarea><script>window.pwned=1</script>",
    '<div hx-get="/desk/" hx-trigger="load" hx-on::after-request="window.pwned=1">x</div>',
    "{{7*7}}",
]
TEXT = " ".join(PAYLOADS)


def _watch(page: Any) -> list[str]:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    return dialogs


def _assert_untouched(page: Any, dialogs: list[str], path: str) -> None:
    page.goto(path)
    page.wait_for_load_state("networkidle")
    # Clicking the planted link must not run it either.
    links = page.locator("#jslink")
    if links.count():
        links.first.click()
    assert page.evaluate("window.pwned") is None, path
    assert dialogs == [], path
    assert "{{7*7}}" in page.content(), path


def test_no_payload_runs_in_the_desk_portal_or_status_page(
    page_for: Any, model: None, rep: Any, manager: Any, alice: Any
) -> None:
    org = people.get_or_create_organization(f"Org {PAYLOADS[1]}")
    caller = people.find_or_create_contact(
        "caller@example.test", name=f"Caller {PAYLOADS[0]}", organization=org
    )
    case = services.open_case(
        actor=alice, subject="Subject {{7*7}} " + PAYLOADS[2], description=TEXT, channel="portal"
    )
    services.reply(case, actor=rep, body=TEXT)
    services.reply(case, actor=alice, body=TEXT)
    services.add_note(case, actor=rep, body=TEXT)
    phoned = services.open_case(
        actor=rep,
        requester=caller,
        subject="Call {{7*7}} " + PAYLOADS[6],
        description=TEXT,
        channel="phone",
    )
    status_services.create_incident(
        actor=manager, name="Outage {{7*7}} " + PAYLOADS[3], body=TEXT, components={}
    )

    desk = page_for(rep.email)
    dialogs = _watch(desk)
    for path in (
        f"/desk/tickets/{case.number}/",
        f"/desk/tickets/{phoned.number}/",
        "/desk/?view=all",
        "/desk/?q=Subject",
        "/status/",
    ):
        _assert_untouched(desk, dialogs, path)
    # The queue's htmx search swaps rows in: they stay inert too.
    desk.goto("/desk/?view=all")
    search = desk.locator("input[name=q]").first
    search.fill("Call")
    search.press("Enter")
    desk.wait_for_load_state("networkidle")
    assert desk.evaluate("window.pwned") is None and dialogs == []

    portal = page_for(alice.email)
    portal_dialogs = _watch(portal)
    for path in (f"/requests/{case.number}/", "/requests/", "/"):
        _assert_untouched(portal, portal_dialogs, path)
    # A payload typed into the portal's own form stays text as well.
    portal.goto("/")
    portal.get_by_label("Subject").fill(PAYLOADS[0])
    portal.locator("textarea[name=description]").fill(TEXT)
    portal.locator("form button[type=submit]").last.click()
    portal.wait_for_load_state("networkidle")
    assert portal.evaluate("window.pwned") is None and portal_dialogs == []
    assert PAYLOADS[0] in portal.locator("body").inner_text()

    for page in (desk, portal):
        assert not [e for e in page.errors if "Content Security Policy" in e], page.errors
