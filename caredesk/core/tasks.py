"""Housekeeping in the worker."""

from __future__ import annotations

from django.db import connection
from huey import crontab
from huey.contrib.djhuey import db_periodic_task


@db_periodic_task(crontab(minute="17"))
def optimize_sqlite() -> None:
    # SQLite plans queries from statistics it gathers only when asked; without them a
    # customer's list on a large instance falls back to a scan (seconds instead of ms).
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA optimize")
