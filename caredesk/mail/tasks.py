"""Background work of the email channel: sending the outbox and polling IMAP mailboxes."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from caredesk.mail import outbound


@db_task()
def send_due() -> int:
    """Woken after commits that queued mail (outbound.wake_sender): send what is due."""
    return _send_due()


@db_periodic_task(crontab(minute="*"))
def retry_outbound() -> int:
    """Every minute: each mail whose retry is due (or whose wake-up or sender was lost)."""
    return _send_due()


def _send_due() -> int:
    attempted = 0
    while batch := outbound.due():
        tried = sum(outbound.send(pk) is not None for pk in batch)
        attempted += tried
        if tried < len(batch):
            break  # another worker is on the same mails
    return attempted


@db_periodic_task(crontab(minute="*"))
def poll_mailboxes() -> None:
    """Every minute: read the configured IMAP mailboxes (CAREDESK_IMAP_URL)."""
    from caredesk.mail import imap

    imap.poll_all()
