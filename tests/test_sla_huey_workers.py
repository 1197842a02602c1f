"""Two real `caredesk worker` processes on Redis and PostgreSQL notify each breach once.

The scaled mode of DESIGN.md: Huey consumers on Redis, as many as needed, one database.
Both workers take sweeps from the same queue at once; each overdue clock must be
breached, logged and mailed exactly once. Needs PostgreSQL and Redis; skipped without.
"""

from __future__ import annotations

import email
import os
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from email.policy import default
from pathlib import Path

import pytest
from django.db import connection

from caredesk.core.clock import now
from caredesk.people.models import User
from caredesk.sla.models import Clock
from caredesk.tickets import services
from caredesk.tickets.models import Event

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

REDIS_URL = "redis://127.0.0.1:6379/13"  # a database of its own, flushed by the test
CASES, WORKERS, SWEEPS = 30, 2, 6


def _redis_problem() -> str | None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        return f"Redis at 127.0.0.1:6379 does not answer: {error}"
    return None


def _instance_env(data_dir: Path) -> dict[str, str]:
    """The environment of a worker host: the test's own database and the shared Redis."""
    db = connection.settings_dict
    url = f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAREDESK_")}
    env.update(
        CAREDESK_DATABASE_URL=f"{url}/{db['NAME']}",
        CAREDESK_REDIS_URL=REDIS_URL,
        CAREDESK_DATA_DIR=str(data_dir),
        CAREDESK_SECRET_KEY="two-workers-share-one-key",
    )
    return env


def _caredesk(*args: str) -> list[str]:
    return [sys.executable, "-m", "caredesk", *args]


def _wait_for(condition, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.25)  # polling other processes' progress, not timing our own logic
    return condition()


def test_two_huey_workers_on_redis_notify_each_breach_once(
    rep: User, alice: User, manager: User, tmp_path: Path
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set CAREDESK_DATABASE_URL=postgres://… to run this")
    if reason := _redis_problem():
        pytest.skip(reason)
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    opened = now() - timedelta(days=2)  # real time: the workers' clocks are not moved
    for n in range(CASES):
        services.open_case(
            actor=rep, subject=f"Exports fail #{n}", channel="email", requester=alice, at=opened
        )
    env = _instance_env(tmp_path)
    workers = [
        subprocess.Popen(
            _caredesk("worker"),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(tmp_path / f"worker-{n}.log").open("w"),
        )
        for n in range(WORKERS)
    ]
    try:
        # Several sweeps queued at once: both consumers take some and race on the same clocks.
        enqueue = "from caredesk.sla.tasks import sweep_clocks\n" + "sweep_clocks()\n" * SWEEPS
        subprocess.run(_caredesk("shell", "-c", enqueue), env=env, check=True, timeout=60)
        outbox = tmp_path / "outbox"

        def breach_mails() -> list[str]:
            """Subjects of the breach mails in the outbox (one file per SMTP connection)."""
            files = sorted(outbox.glob("*.log")) if outbox.exists() else []
            chunks = [c for f in files for c in f.read_text().split("-" * 79 + "\n")]
            subjects = [
                str(email.message_from_string(c, policy=default)["subject"]) for c in chunks
            ]
            return [s for s in subjects if "SLA breached" in s]

        done = _wait_for(lambda: len(breach_mails()) >= CASES, seconds=90)
        logs = "\n".join(p.read_text() for p in tmp_path.glob("worker-*.log"))
        assert done, f"only {len(breach_mails())} of {CASES} breach mails; worker logs:\n{logs}"
        assert all(w.poll() is None for w in workers), f"a worker died:\n{logs}"
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait(timeout=30)

    breached = Counter(Event.objects.filter(kind="sla.breached").values_list("ticket", flat=True))
    assert len(breached) == CASES and set(breached.values()) == {1}
    assert (
        Clock.objects.filter(outcome="breached", breach_noticed_at__isnull=False).count() == CASES
    )
    mails = breach_mails()
    assert len(mails) == len(set(mails)) == CASES, "one breach mail per case, never two"
