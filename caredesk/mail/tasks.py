"""Background work of the email channel: sending the outbox and polling IMAP mailboxes."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from caredesk.mail import outbound


@db_task()
def send_outbound(pk: int) -> None:
    """Sent right after the commit that queued it; failures wait for `retry_outbound`."""
    outbound.send(pk)


@db_periodic_task(crontab(minute="*"))
def retry_outbound() -> int:
    """Every minute: each mail whose retry is due (or whose sender died) gets its attempt."""
    sent = 0
    for pk in outbound.due():
        sent += outbound.send(pk) is not None
    return sent


@db_periodic_task(crontab(minute="*"))
def poll_mailboxes() -> None:
    """Every minute: read the configured IMAP mailboxes (CAREDESK_IMAP_URL)."""
    from caredesk.mail import imap

    imap.poll_all()
