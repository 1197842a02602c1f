"""The IMAP poller against a real Dovecot on loopback: messages are taken in and only then
marked, moved or deleted; a message that cannot be committed stays for the next poll."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from dovecot import Imap, dovecot, missing
from mail_helpers import eml

from caredesk.core.errors import InvalidInput
from caredesk.mail import imap, tasks
from caredesk.mail.models import InboundEmail
from caredesk.people.models import User
from caredesk.tickets.models import Ticket

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(missing() is not None, reason=missing() or "")


@pytest.fixture(scope="module")
def server() -> Iterator[Imap]:
    with dovecot() as running:
        yield running


@pytest.fixture
def mailbox(server: Imap) -> Iterator[Imap]:
    # Each test starts with empty folders.
    client = server.client()
    for folder in ("INBOX", "Done"):
        status, count = client.select(folder)
        if status == "OK" and count[0] != b"0":
            client.store("1:*", "+FLAGS", "\\Deleted")
            client.expunge()
    client.create("Done")
    client.logout()
    yield server


def configure(settings: Any, url: str) -> None:
    settings.IMAP_URLS = [url]


def test_new_mail_is_taken_in_and_then_marked_seen(
    mailbox: Imap, settings: Any, alice: User
) -> None:
    mailbox.append(
        eml(message_id="<imap-1@acme.test>", subject="Dialer down"),
        eml(message_id="<imap-2@acme.test>", subject="Reports empty"),
    )
    configure(settings, mailbox.url())
    tasks.poll_mailboxes.call_local()

    assert sorted(Ticket.objects.values_list("subject", flat=True)) == [
        "Dialer down",
        "Reports empty",
    ]
    assert set(InboundEmail.objects.values_list("source", flat=True)) == {"imap"}
    assert all(b"\\Seen" in flags for flags in mailbox.flags())
    # The next poll finds nothing new.
    (result,) = imap.poll_all().values()
    assert result.stored == 0 and Ticket.objects.count() == 2


def test_after_move_the_message_is_in_the_done_folder(
    mailbox: Imap, settings: Any, alice: User
) -> None:
    mailbox.append(eml(message_id="<imap-move@acme.test>"))
    configure(settings, mailbox.url("?after=move&to=Done"))
    tasks.poll_mailboxes.call_local()
    assert Ticket.objects.count() == 1
    assert mailbox.flags("INBOX") == []
    assert len(mailbox.flags("Done")) == 1


def test_after_delete_the_message_is_gone(mailbox: Imap, settings: Any, alice: User) -> None:
    mailbox.append(eml(message_id="<imap-del@acme.test>"))
    configure(settings, mailbox.url("?after=delete"))
    tasks.poll_mailboxes.call_local()
    assert Ticket.objects.count() == 1
    assert mailbox.flags("INBOX") == []


def test_a_message_that_cannot_be_committed_stays_for_the_next_poll(
    mailbox: Imap, settings: Any, alice: User
) -> None:
    mailbox.append(eml(message_id="<imap-later@acme.test>"))
    configure(settings, mailbox.url("?after=delete"))
    table = InboundEmail._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} RENAME TO {table}_away")
    try:
        (result,) = imap.poll_all().values()
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {table}_away RENAME TO {table}")
    assert (result.stored, result.failed) == (0, 1)
    assert len(mailbox.flags()) == 1 and b"\\Seen" not in mailbox.flags()[0]

    (result,) = imap.poll_all().values()
    assert result.stored == 1
    assert Ticket.objects.count() == 1 and mailbox.flags() == []


def test_a_mailbox_already_stored_after_a_crash_is_a_duplicate(
    mailbox: Imap, settings: Any, alice: User
) -> None:
    # The worker committed the message and died before marking it: the next poll finds it
    # again, intake recognises it, and only then is it marked.
    raw = eml(message_id="<imap-crash@acme.test>")
    from caredesk.mail.intake import ingest

    ingest(raw, source="imap")
    mailbox.append(raw)
    configure(settings, mailbox.url())
    (result,) = imap.poll_all().values()
    assert result.statuses == {"duplicate": 1}
    assert InboundEmail.objects.count() == 1 and Ticket.objects.count() == 1
    assert b"\\Seen" in mailbox.flags()[0]


def test_an_unreachable_mailbox_does_not_stop_the_others(
    mailbox: Imap, settings: Any, alice: User
) -> None:
    mailbox.append(eml(message_id="<imap-other@acme.test>"))
    settings.IMAP_URLS = ["imap://care:wrong@127.0.0.1:1/INBOX", mailbox.url()]
    results = imap.poll_all()
    assert list(results) == [f"care@127.0.0.1:{mailbox.port}/INBOX"]
    assert Ticket.objects.count() == 1


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("pop3://u:p@host/INBOX", "scheme"),
        ("imaps://host/INBOX", "user@host"),
        ("imaps://u:p@host/INBOX?after=burn", "after="),
        ("imaps://u:p@host/INBOX?after=move", "to=FOLDER"),
    ],
)
def test_bad_mailbox_urls_say_what_is_wrong(url: str, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem):
        imap.parse_url(url)


def test_a_mailbox_url_with_every_part() -> None:
    box = imap.parse_url("imaps://care%40acme.test:p%2Cw@mail.acme.test/Support%20Box?after=seen")
    assert (box.user, box.password, box.host, box.port, box.folder) == (
        "care@acme.test",
        "p,w",
        "mail.acme.test",
        993,
        "Support Box",
    )


def test_killing_the_poller_mid_poll_loses_nothing_and_stores_nothing_twice(
    mailbox: Imap, tmp_path: Path
) -> None:
    """SIGKILL the polling process whenever it has marked a few more messages: each poll
    after that finds the rest (and any committed but unmarked one) and takes them in."""
    from instances import caredesk, instance_env

    count, kills = 60, 3
    env = {**instance_env(tmp_path), "CAREDESK_IMAP_URL": mailbox.url()}
    caredesk(env, "setup", "--no-demo")
    mailbox.append(
        *[
            # A sender of its own each: intake holds back a single sender's flood of new cases.
            eml(sender=f"c{i}@acme.test", subject=f"Poll {i}", message_id=f"<poll-{i}@acme.test>")
            for i in range(count)
        ]
    )
    poll = [sys.executable, "-m", "caredesk", "shell", "-c",
            "from caredesk.mail import imap; imap.poll_all()"]  # fmt: skip

    def seen() -> int:
        return sum(b"\\Seen" in flags for flags in mailbox.flags())

    killed = 0
    while killed < kills:
        before = seen()
        process = subprocess.Popen(poll, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while process.poll() is None and seen() < before + 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            killed += 1
        process.wait()
        assert seen() < count, "the poller finished before it could be killed"
    caredesk(env, "shell", "-c", "from caredesk.mail import imap; imap.poll_all()")

    assert seen() == count
    stored = caredesk(
        env,
        "shell",
        "-c",
        "from caredesk.mail.models import InboundEmail as I; from caredesk.tickets.models"
        " import Ticket as T; print(I.objects.count(), T.objects.count(),"
        " len(set(I.objects.values_list('message_id', flat=True))))",
    ).split()[-3:]
    assert stored == [str(count)] * 3
