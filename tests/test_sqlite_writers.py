"""SQLite writers take turns on a lock file: the next one gets in as soon as the previous
commits, one that waits too long gets a clear error, and a writer that dies frees the turn.

These drive caredesk's SQLite backend directly on a database file of their own, so they
run whatever database the rest of the suite uses.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import OperationalError
from django.db.utils import ConnectionHandler

from caredesk.core.sqlite import base


def _connect(path: Path) -> base.DatabaseWrapper:
    settings = ConnectionHandler().configure_settings(
        {
            "default": {
                "ENGINE": "caredesk.core.sqlite",
                "NAME": str(path),
                "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 30},
            }
        }
    )
    return base.DatabaseWrapper(settings["default"], alias="writers-test")


def _write(
    path: Path, value: str, *, hold: float = 0.0, entered: threading.Event | None = None
) -> float:
    """One write transaction on a connection of this thread's own; when it committed."""
    db = _connect(path)
    try:
        db.ensure_connection()
        db._start_transaction_under_autocommit()
        if entered is not None:
            entered.set()
        db.cursor().execute("INSERT INTO notes (body, at) VALUES (%s, %s)", [value, time.time()])
        time.sleep(hold)
        db.commit()
        return time.time()
    finally:
        db.close()


@pytest.fixture
def database(tmp_path: Path, django_db_blocker: Any) -> Any:
    # A database of these tests' own: the suite's test database is never touched.
    with django_db_blocker.unblock():
        yield _create(tmp_path)


def _create(tmp_path: Path) -> Path:
    path = tmp_path / "writers.sqlite3"
    db = _connect(path)
    db.ensure_connection()
    db.cursor().execute("PRAGMA journal_mode=WAL")
    db.cursor().execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, at REAL)")
    db.close()
    return path


def _bodies(path: Path) -> list[str]:
    db = _connect(path)
    try:
        db.ensure_connection()
        with db.cursor() as cursor:
            cursor.execute("SELECT body FROM notes ORDER BY id")
            return [row[0] for row in cursor.fetchall()]
    finally:
        db.close()


def test_a_waiting_writer_gets_in_right_after_the_commit(database: Path) -> None:
    entered = threading.Event()
    committed: list[float] = []
    first = threading.Thread(
        target=lambda: committed.append(_write(database, "first", hold=0.25, entered=entered))
    )
    first.start()
    assert entered.wait(5)
    _write(database, "second")
    first.join()
    assert _bodies(database) == ["first", "second"]
    # The second wrote right after the first committed, not at SQLite's next retry of its
    # sleep-and-retry steps (here 78 ms later).
    assert 0 <= _written_at(database, "second") - committed[0] < 0.04


def _written_at(path: Path, body: str) -> float:
    db = _connect(path)
    try:
        db.ensure_connection()
        with db.cursor() as cursor:
            cursor.execute("SELECT at FROM notes WHERE body = %s", [body])
            return float(cursor.fetchone()[0])
    finally:
        db.close()


def test_many_writers_in_turn_lose_nothing(database: Path) -> None:
    threads = [threading.Thread(target=_write, args=(database, f"w{n}")) for n in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(_bodies(database)) == sorted(f"w{n}" for n in range(24))


def test_a_writer_that_waits_too_long_gets_a_clear_error_and_the_turn_moves_on(
    database: Path, monkeypatch: Any
) -> None:
    monkeypatch.setattr(base, "WAIT_SECONDS", 0.2)
    entered = threading.Event()
    first = threading.Thread(
        target=_write, args=(database, "first"), kwargs={"hold": 0.6, "entered": entered}
    )
    first.start()
    assert entered.wait(5)
    with pytest.raises(OperationalError, match="no turn to write within"):
        _write(database, "impatient")
    first.join()
    # The abandoned wait got its turn after the first writer and passed it on at once.
    started = time.monotonic()
    _write(database, "third")
    assert time.monotonic() - started < 0.5
    assert _bodies(database) == ["first", "third"]


def test_a_writer_killed_in_its_transaction_frees_the_turn(database: Path) -> None:
    holder = textwrap.dedent(
        """
        import sys, time
        sys.path.insert(0, sys.argv[1])
        import django
        from django.conf import settings
        settings.configure()
        from test_sqlite_writers import _connect
        db = _connect(sys.argv[2])
        db.ensure_connection()
        db._start_transaction_under_autocommit()
        db.cursor().execute("INSERT INTO notes (body) VALUES ('never committed')")
        print("holding", flush=True)
        time.sleep(60)
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-c", holder, str(Path(__file__).parent), str(database)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parent.parent,
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "holding"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(10)
    started = time.monotonic()
    _write(database, "after the kill")
    assert time.monotonic() - started < 2
    assert _bodies(database) == ["after the kill"]
