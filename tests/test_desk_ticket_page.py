"""The desk's ticket page: SLA clocks with their explanations, a long thread's latest entries
first, and a query count that does not grow with the thread."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from caredesk.desk.ticket import TIMELINE_LATEST
from caredesk.people.models import User
from caredesk.servicemodel.choices import Channel
from caredesk.tickets import services
from caredesk.tickets.models import Ticket

TUESDAY_10 = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)  # 10:00 in New York


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def email_case(rep: User, alice: User) -> Ticket:
    return services.open_case(
        actor=rep, subject="Dialer down", channel=Channel.EMAIL, requester=alice
    )


def test_clocks_show_their_countdown_and_explanation(rep, alice):
    with time_machine.travel(TUESDAY_10, tick=False):
        ticket = email_case(rep, alice)
        page = signed_in(rep).get(f"/desk/tickets/{ticket.number}/").content.decode()
    panel = page[page.index('class="card clocks"') :]
    assert "First response" in panel
    assert 'data-due="2026-03-10T14:10:00+00:00"' in panel and ">in 10 min<" in panel
    assert ticket.clocks.get().explanation in panel


def test_a_long_thread_shows_its_latest_entries_first(rep, alice):
    ticket = email_case(rep, alice)
    for i in range(TIMELINE_LATEST + 10):
        services.add_note(ticket, actor=rep, body=f"Note number {i}.")
    client = signed_in(rep)
    page = client.get(f"/desk/tickets/{ticket.number}/").content.decode()
    assert f"Note number {TIMELINE_LATEST + 9}." in page
    assert "Note number 0." not in page
    assert "Show 11 earlier entries" in page  # ten notes and the opening event
    everything = client.get(f"/desk/tickets/{ticket.number}/", {"timeline": "all"})
    assert "Note number 0." in everything.content.decode()


def test_ticket_page_query_count_does_not_grow_with_the_thread(rep, alice):
    ticket = email_case(rep, alice)
    client = signed_in(rep)

    def count() -> int:
        client.get(f"/desk/tickets/{ticket.number}/")  # warm the per-process model cache
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/desk/tickets/{ticket.number}/").status_code == 200
        return len(queries)

    services.reply(ticket, actor=rep, body="First answer.", channel=Channel.EMAIL)
    few = count()
    for i in range(30):
        services.reply(ticket, actor=alice if i % 2 else rep, body=f"{i}", channel=Channel.EMAIL)
        services.add_note(ticket, actor=rep, body=f"note {i}")
    assert count() == few


def test_the_latest_entries_are_the_tail_of_the_whole_timeline(rep, alice):
    ticket = email_case(rep, alice)
    with time_machine.travel(TUESDAY_10, tick=False) as traveller:
        for i in range(TIMELINE_LATEST):
            traveller.shift(7)
            services.add_note(ticket, actor=rep, body=f"Note number {i}.")
            if i % 3 == 0:
                # Events and messages at the same instant: the message comes first.
                services.set_priority(ticket, actor=rep, priority="high" if i % 2 else "low")
    client = signed_in(rep)

    def entries(page: str) -> list[str]:
        listed = page[page.index('<ol class="timeline">') : page.index("</ol>")]
        items = re.split(r'<li class="(?:msg|event)', listed)[2:]  # after the description
        return [re.sub(r"\s+", " ", item) for item in items if "timeline-more" not in item]

    latest = client.get(f"/desk/tickets/{ticket.number}/").content.decode()
    everything = client.get(f"/desk/tickets/{ticket.number}/", {"timeline": "all"})
    whole = entries(everything.content.decode())
    assert len(whole) > TIMELINE_LATEST + 10
    assert entries(latest) == whole[-TIMELINE_LATEST:]
    assert any("Note number" in e for e in whole[-TIMELINE_LATEST:])
    assert any("priority" in e for e in whole[-TIMELINE_LATEST:])
    assert f"Show {len(whole) - TIMELINE_LATEST} earlier entries" in latest


def test_the_requester_is_named_once(rep, alice):
    named = email_case(rep, alice)
    page = signed_in(rep).get(f"/desk/tickets/{named.number}/").content.decode()
    assert '<dd>Alice <span class="muted">alice@acme.test</span></dd>' in page

    alice.name = ""
    alice.save(update_fields=["name"])
    page = signed_in(rep).get(f"/desk/tickets/{named.number}/").content.decode()
    assert "<dd>alice@acme.test</dd>" in page
