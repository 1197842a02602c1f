"""Background work of the status page, run by the worker (Huey)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from caredesk.status import services


@db_periodic_task(crontab(minute="*"))
def advance_maintenances() -> int:
    """Start and complete scheduled maintenance on time; returns how many moved."""
    return len(services.advance_maintenances())
