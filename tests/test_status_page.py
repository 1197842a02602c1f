"""The public status page as a visitor reads it: banner, dashboard, uptime, incidents."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from caredesk.people.models import User
from caredesk.status import public, services
from caredesk.status.models import Component

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # 10:00 in New York


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    public.forget()
    yield
    public.forget()


def comp(env: str, name: str) -> Component:
    return Component.objects.get(environment_id=env, name=name)


def page(path: str = "/status/") -> str:
    response = Client().get(path)
    assert response.status_code == 200, response.content[:500]
    return response.content.decode()


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


class Titles(HTMLParser):
    """The tooltips of the uptime bars, and anything that breaks the CSP."""

    def __init__(self) -> None:
        super().__init__()
        self.bars: list[list[str]] = []
        self.inline: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "ol" and "sp-bars" in (a.get("class") or ""):
            self.bars.append([])
        if tag == "li" and a.get("title") and self.bars:
            self.bars[-1].append(a["title"] or "")
        if "style" in a or (tag == "script" and not a.get("src")) or tag == "style":
            self.inline.append(tag)
        if any(name.startswith("on") for name in a):
            self.inline.append(tag)


def test_a_fresh_page_shows_the_models_environments_all_operational(model: None) -> None:
    html = page()
    words = text(html)
    assert "All Systems Operational" in words
    assert "Updated a few seconds ago" in words
    for env in ("NA3", "NA4", "NA5", "NA6", "SFTP", "PDAS", "TECKST", "SPEECHIQ"):
        assert f'href="/status/environments/{env}/"' in html
    # The dashboard: each component's version in each environment.
    table = html[html.index('class="sp-matrix"') : html.index("</table>")]
    rows = {text(r).split()[0]: text(r) for r in table.split("<tr>")[2:]}
    assert rows["LiveVox"].count("12 Operational") == 4
    assert rows["API"].count("12.0 Operational") == 4
    assert "12.0 Operational" in rows["SpeechIQ"]
    parsed = Titles()
    parsed.feed(html)
    assert parsed.inline == [], "the CSP forbids inline scripts and styles"
    assert len(parsed.bars) == 8 and all(len(b) == 90 for b in parsed.bars)
    assert '<script src="/static/caredesk/status.js" defer>' in html


def test_an_outage_shows_in_the_banner_the_dashboard_and_the_uptime_bars(
    model: None, manager: User
) -> None:
    api = comp("NA3", "API")
    Component.objects.update(created_at=T0 - timedelta(days=4))  # Feb 26, 10:00 in New York
    with time_machine.travel(T0 - timedelta(days=3), tick=False):
        incident = services.create_incident(
            actor=manager,
            name="NA3 API errors",
            body="We are investigating.",
            components={api.pk: "major_outage"},
        )
    with time_machine.travel(T0 - timedelta(days=3) + timedelta(hours=6), tick=False):
        services.update_incident(incident, actor=manager, status="resolved", body="Fixed.")
    with time_machine.travel(T0, tick=False):
        services.create_incident(
            actor=manager,
            name="NA4 dialer slow",
            body="Calls connect slowly.",
            components={comp("NA4", "LiveVox").pk: "degraded_performance"},
        )
        html = page()
        env_html = page("/status/environments/NA3/")
    words = text(html)
    assert "Partially Degraded Service" in words
    assert "NA4 dialer slow" in words and "Calls connect slowly." in words
    assert "12 Degraded performance" in words
    # Six hours of a major outage on Feb 27, in NA3's API: 75% that day.
    parsed = Titles()
    parsed.feed(env_html)
    api_bar = parsed.bars[1]
    assert api_bar[-4] == "Feb 27, 2026: 75.00% uptime; major outage 6 h"
    assert api_bar[-1].startswith("Mar 2, 2026: 100.00% uptime")
    assert api_bar[-5].startswith("Feb 26, 2026: 100.00% uptime")  # from 10:00 on
    assert api_bar[-6] == "Feb 25, 2026: no data"  # before the component existed
    assert "NA3 API errors" in text(env_html)
    assert re.search(r"9[0-9]\.[0-9]{2}% uptime", text(env_html))


def test_the_environment_page_lists_deploys(model: None, manager: User) -> None:
    with time_machine.travel(T0, tick=False):
        services.set_component(comp("NA5", "LiveVox"), actor=manager, version="13")
        words = text(page("/status/environments/NA5/"))
    assert "LiveVox 12 → 13" in words
    assert "Mar 2, 2026, 10:00 EST" in words  # on the page's clock
    assert Client().get("/status/environments/NOPE/").status_code == 404


def test_maintenance_and_history_pages(model: None, manager: User) -> None:
    with time_machine.travel(T0, tick=False):
        upgrade = services.schedule_maintenance(
            actor=manager,
            name="NA6 upgrade",
            body="To LiveVox 13.",
            scheduled_for=T0 + timedelta(days=1),
            scheduled_until=T0 + timedelta(days=1, hours=2),
            components=[comp("NA6", "LiveVox").pk],
            target_version="13",
        )
        words = text(page())
        assert "Scheduled maintenance" in words and "upgrade to version 13" in words
        detail = text(page(f"/status/incidents/{upgrade.pk}/"))
        assert "NA6 upgrade" in detail and "To LiveVox 13." in detail
        services.create_incident(actor=manager, name="Old one", body="Long ago.")
        assert "Old one" in text(page("/status/history/"))
        assert "Old one" not in text(page("/status/history/?page=2"))


def test_the_page_is_cached_until_something_changes(model: None, manager: User) -> None:
    with time_machine.travel(T0, tick=False):
        page()
        with CaptureQueriesContext(connection) as queries:
            again = page()
        assert len(queries) <= 2, [q["sql"] for q in queries]
        assert "All Systems Operational" in again
        services.set_component(comp("PDAS", "PDAS"), actor=manager, status="partial_outage")
        assert "Partial System Outage" in text(page())


def test_the_updated_time_stays_true(model: None) -> None:
    with time_machine.travel(T0, tick=False):
        page()
    with time_machine.travel(T0 + timedelta(seconds=30), tick=False):
        html = page()
    assert '<time datetime="2026-03-02T15:00:30.000Z" data-updated>' in html


def test_feeds_are_linked_from_the_page(model: None) -> None:
    html = page()
    assert 'type="application/atom+xml"' in html and 'href="/status/history.atom"' in html


def test_the_json_answers_a_conditional_get_with_304_until_the_page_changes(
    manager: User,
) -> None:
    client = Client()
    first = client.get("/status/api/v2/summary.json")
    etag = first["ETag"]
    again = client.get("/status/api/v2/summary.json", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag
    services.set_component(comp("NA3", "API"), actor=manager, status="partial_outage")
    changed = client.get("/status/api/v2/summary.json", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed["ETag"] != etag


def test_the_cached_document_stays_personal_where_it_must(manager: User) -> None:
    one, two = Client(), Client()
    tokens = [
        re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', c.get("/status/").content.decode())
        for c in (one, two)
    ]
    assert all(tokens) and tokens[0].group(1) != tokens[1].group(1)  # type: ignore[union-attr]
    signed_in = Client()
    signed_in.force_login(manager)
    assert manager.display_name in signed_in.get("/status/").content.decode()
    assert manager.display_name not in one.get("/status/").content.decode()
