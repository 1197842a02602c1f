"""Two workers sweeping one database at once notify each breach exactly once.

Each worker is a thread with its own database connection; both sweep the same overdue
clocks at the same instant. The claim is a conditional UPDATE: on PostgreSQL the second
UPDATE waits for the first's row lock and then finds the row already noticed; on SQLite
BEGIN IMMEDIATE serialises the writers.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from datetime import datetime, timedelta
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import connection, connections

from caredesk.people.models import User
from caredesk.sla import services as sla
from caredesk.sla.models import Clock
from caredesk.tickets import services
from caredesk.tickets.models import Event

pytestmark = pytest.mark.django_db(transaction=True)

ET = ZoneInfo("America/New_York")
TUESDAY_10 = datetime(2026, 12, 1, 10, 0, tzinfo=ET)
CLOCKS, WORKERS = 40, 2


def _postgres_problem() -> str | None:
    """Why the PostgreSQL variant cannot run here, or None when it can."""
    url = os.environ.get("CAREDESK_DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return "CAREDESK_DATABASE_URL is not PostgreSQL; set it to postgres://… to run this"
    import psycopg

    parts = urlparse(url)
    try:
        psycopg.connect(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            user=parts.username or "postgres",
            password=parts.password or None,
            dbname="postgres",
            connect_timeout=3,
        ).close()
    except psycopg.OperationalError as error:
        return f"PostgreSQL at {parts.hostname}:{parts.port or 5432} is unreachable: {error}"
    return None


def _overdue_cases(rep: User, alice: User) -> list[int]:
    """CLOCKS email cases opened Tuesday 10:00 ET and never answered."""
    for n in range(CLOCKS):
        services.open_case(
            actor=rep, subject=f"Reports are empty #{n}", channel="email", requester=alice,
            at=TUESDAY_10,
        )  # fmt: skip
    return list(Clock.objects.values_list("pk", flat=True))


def _sweep_together(at: datetime) -> list[sla.SweepResult]:
    """WORKERS threads, each on its own connection, sweeping at the same moment."""
    start = threading.Barrier(WORKERS)
    results: list[sla.SweepResult] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait(timeout=10)
            results.append(sla.sweep(at=at))
        except BaseException as error:  # reported by the main thread
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert len(results) == WORKERS
    return results


def _assert_each_noticed_once(clocks: list[int], results: list[sla.SweepResult]) -> None:
    breached = [pk for r in results for pk in r.breached]
    warned = [pk for r in results for pk in r.warned]
    assert sorted(breached) == sorted(clocks), "every clock breached, by exactly one worker"
    assert sorted(warned) == sorted(clocks), "every clock warned, by exactly one worker"
    per_ticket = Counter(Event.objects.filter(kind="sla.breached").values_list("ticket", flat=True))
    assert len(per_ticket) == CLOCKS and set(per_ticket.values()) == {1}
    warnings = Counter(Event.objects.filter(kind="sla.warning").values_list("ticket", flat=True))
    assert len(warnings) == CLOCKS and set(warnings.values()) == {1}
    breach_mails = [m for m in mail.outbox if "SLA breached" in m.subject]
    assert len(breach_mails) == CLOCKS
    assert len({m.subject for m in breach_mails}) == CLOCKS  # one per ticket
    assert Clock.objects.filter(outcome="breached", breach_noticed_at__isnull=False).count() == (
        CLOCKS
    )


@pytest.mark.postgres
def test_two_workers_on_postgresql_notify_each_breach_once(
    rep: User, alice: User, manager: User
) -> None:
    if reason := _postgres_problem():
        pytest.skip(reason)
    assert connection.vendor == "postgresql"
    clocks = _overdue_cases(rep, alice)
    results = _sweep_together(TUESDAY_10 + timedelta(minutes=30))
    _assert_each_noticed_once(clocks, results)


def test_two_workers_on_sqlite_notify_each_breach_once(
    rep: User, alice: User, manager: User
) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("runs on SQLite; the PostgreSQL variant covers this database")
    clocks = _overdue_cases(rep, alice)
    results = _sweep_together(TUESDAY_10 + timedelta(minutes=30))
    _assert_each_noticed_once(clocks, results)


def test_a_second_round_finds_nothing_left(rep: User, alice: User) -> None:
    _overdue_cases(rep, alice)
    at = TUESDAY_10 + timedelta(minutes=30)
    _sweep_together(at)
    again = _sweep_together(at + timedelta(minutes=1))
    assert all(r.breached == [] and r.warned == [] for r in again)
