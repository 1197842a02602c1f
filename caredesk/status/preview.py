"""What subscribers would receive, shown before anything is published.

A preview runs the very service call the publish button makes, inside a transaction that
is rolled back: the same validation, the same update text, the same audience, and nothing
kept (the on-commit notices of a rolled-back transaction never run). So the preview can
never drift from what is sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from caredesk.status import notices, subscriptions
from caredesk.status.models import Incident, IncidentUpdate, Subscriber

SAMPLE = "subscriber@example.com"


@dataclass
class Notice:
    when: str  # "now", "when it starts", …
    subject: str
    text: str
    emails: int  # how many email subscribers receive it
    webhooks: int


@dataclass
class Preview:
    notices: list[Notice] = field(default_factory=list)
    silent: str = ""  # why nobody is told now, when nobody is


class _Rollback(Exception):
    pass


def _sample() -> Subscriber:
    # Unsaved: its links are signed like a real subscriber's, and lead nowhere.
    return Subscriber(email=SAMPLE, token="preview")  # noqa: S106 (not a secret)


def notice_of(update: IncidentUpdate, when: str) -> Notice:
    message = notices.notice(_sample(), update)
    audience = subscriptions.audience(update.incident)
    return Notice(
        when=when,
        subject=str(message.subject),
        text=str(message.body),
        emails=audience.filter(url="").count(),
        webhooks=audience.exclude(url="").count(),
    )


def dry_run(run: Callable[[], Preview]) -> Preview:
    """Run `run` (service calls, then notice_of) and roll every change back."""
    result: list[Preview] = []
    try:
        with transaction.atomic():
            result.append(run())
            raise _Rollback
    except _Rollback:
        pass
    return result[0]


def incident(create: Callable[[], Incident]) -> Preview:
    def run() -> Preview:
        created = create()
        first = created.updates.order_by("display_at", "id").first()
        assert first is not None
        return Preview([notice_of(first, "now")])

    return dry_run(run)


def update(post: Callable[[], IncidentUpdate]) -> Preview:
    def run() -> Preview:
        made = post()
        if not made.deliver_notifications:
            return Preview(silent="This update is not sent to subscribers.")
        return Preview([notice_of(made, "now")])

    return dry_run(run)


def maintenance(schedule: Callable[[], Incident], move: Callable[..., Any]) -> Preview:
    """A new maintenance: its announcement when it is an upgrade, then what subscribers
    hear when it starts and when it ends (`move(maintenance, status)` moves it on)."""

    def run() -> Preview:
        made = schedule()
        out = Preview()
        if made.target_version:
            announced = made.updates.order_by("display_at", "id").first()
            assert announced is not None
            out.notices.append(notice_of(announced, "now"))
        else:
            out.silent = "Nobody is told now: subscribers hear of it when it starts and ends."
        made.refresh_from_db()
        if made.status == "scheduled":
            out.notices.append(notice_of(move(made, "in_progress"), "when it starts"))
        out.notices.append(notice_of(move(made, "completed"), "when it ends"))
        return out

    return dry_run(run)
