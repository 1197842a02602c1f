"""The history feeds, read with a real feed parser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import feedparser
import pytest
import time_machine
from django.test import Client

from caredesk.people.models import User
from caredesk.status import services
from caredesk.status.models import Component

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


@pytest.fixture
def history(manager: User) -> None:
    api = Component.objects.get(environment_id="NA3", name="API")
    with time_machine.travel(T0, tick=False):
        incident = services.create_incident(
            actor=manager,
            name="NA3 API errors",
            body="We are <b>investigating</b>.",
            components={api.pk: "partial_outage"},
        )
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        services.update_incident(incident, actor=manager, status="resolved", body="Fixed.")
        services.schedule_maintenance(
            actor=manager,
            name="NA3 upgrade",
            body="To 13.",
            scheduled_for=T0 + timedelta(days=1),
            scheduled_until=T0 + timedelta(days=1, hours=1),
            components=[api.pk],
            target_version="13",
        )


@pytest.mark.parametrize(
    ("path", "version"), [("/status/history.atom", "atom10"), ("/status/history.rss", "rss20")]
)
def test_feeds_parse_and_carry_every_update(history: None, path: str, version: str) -> None:
    response = Client().get(path)
    assert response.status_code == 200
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.bozo_exception
    assert feed.version == version
    assert feed.feed.title == "LiveVox Status history"
    maintenance, incident = feed.entries
    assert incident.title == "NA3 API errors"
    assert incident.link.endswith(f"/status/incidents/{incident.link.rstrip('/').split('/')[-1]}/")
    summary = incident.summary
    assert summary.index("Resolved") < summary.index("Investigating")  # newest first
    assert "&lt;b&gt;investigating&lt;/b&gt;" in summary or "<b>" not in summary
    assert maintenance.title == "NA3 upgrade"
    assert "upgrade to version 13" in maintenance.summary
    assert maintenance.published_parsed is not None


def test_an_empty_history_is_a_valid_feed(model: None) -> None:
    feed = feedparser.parse(Client().get("/status/history.atom").content)
    assert not feed.bozo and feed.entries == []
