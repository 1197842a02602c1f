"""Outgoing webhook deliveries, run by the worker with the shared retry policy."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from caredesk.api import outgoing
from caredesk.core.webhooks import RETRY


@db_task(**RETRY)
def deliver(delivery_id: int) -> None:
    # RetryLater propagates: Huey runs the task again after 30 s, 60 s, 120 s, …
    outgoing.attempt(delivery_id)
