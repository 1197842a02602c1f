"""Outgoing webhook deliveries, run by the worker with the shared retry policy."""

from __future__ import annotations

from typing import Any

from huey.contrib.djhuey import db_task

from caredesk.api import outgoing
from caredesk.core.webhooks import RETRY


@db_task(context=True, **RETRY)
def deliver(delivery_id: int, task: Any = None) -> None:
    # RetryLater propagates: Huey runs the task again after 30 s, 60 s, 120 s, …
    try:
        outgoing.attempt(delivery_id)
    except outgoing.RetryLater:
        if task is not None and not task.retries:
            outgoing.give_up(delivery_id)  # that was the last try
        raise
