"""Housekeeping in the worker."""

from __future__ import annotations

from django.db import connection
from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task

from caredesk.core import health


@db_periodic_task(crontab(minute="17"))
def optimize_sqlite() -> None:
    # SQLite plans queries from statistics it gathers only when asked; without them a
    # customer's list on a large instance falls back to a scan (seconds instead of ms).
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA optimize")


@db_periodic_task(crontab(minute="*"))
def heartbeat() -> None:
    health.beat()


@HUEY.on_startup()
def beat_on_start() -> None:
    # A worker that just started is alive before its first periodic beat is due.
    health.beat()
