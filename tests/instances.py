"""caredesk instances run as other processes in tests: their environment, the `caredesk`
command, and scratch PostgreSQL databases made and dropped around one test."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]


def postgres_server() -> str:
    """The PostgreSQL server to make a database on: the suite's own when it runs on one."""
    url = os.environ.get("CAREDESK_DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        parts = urlparse(url)
        return f"{parts.scheme}://{parts.netloc}"
    return os.environ.get("CAREDESK_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432")


def instance_env(data_dir: Path, database_url: str | None = None) -> dict[str, str]:
    """The environment of an instance of its own: none of the suite's CAREDESK_ settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAREDESK_")}
    env.update(CAREDESK_DATA_DIR=str(data_dir), CAREDESK_LOG_LEVEL="WARNING")
    if database_url:
        env["CAREDESK_DATABASE_URL"] = database_url
    return env


def caredesk(env: dict[str, str], *args: str) -> str:
    """Run `caredesk ARGS` in the instance; its output, or the test fails with its errors."""
    done = subprocess.run(
        [sys.executable, "-m", "caredesk", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"caredesk {' '.join(args)}:\n{done.stderr}{done.stdout}"
    return done.stdout


@contextlib.contextmanager
def scratch_postgres(label: str) -> Iterator[str]:
    """A new empty PostgreSQL database for one test, dropped after; skips the test when the
    server does not answer. Yields its URL."""
    psycopg = pytest.importorskip("psycopg")
    server = postgres_server()
    try:
        admin = psycopg.connect(f"{server}/postgres", autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL is not reachable at {server}: {str(exc).strip()}")
    name = f"caredesk_test_{label}_{os.getpid()}"
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"{server}/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
