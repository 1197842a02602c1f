"""The SMTP/LMTP intake listener over real sockets: smtplib (and a raw LMTP session) to
`caredesk.mail.smtpd` on loopback; 250 only once the message is committed."""

from __future__ import annotations

import asyncio
import smtplib
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from mail_helpers import eml
from mail_servers import free_port

from caredesk.mail import smtpd
from caredesk.mail.models import InboundEmail
from caredesk.people.models import User
from caredesk.tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)


class Listener:
    """`caredesk.mail.smtpd` in a thread of its own, as `caredesk smtpd` runs it."""

    def __init__(self, *, lmtp: bool = False, domains: tuple[str, ...] = (), max_bytes: int = 0):
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.handler = smtpd.Handler(
            lmtp=lmtp, domains=domains, max_bytes=max_bytes or smtpd.max_message_bytes()
        )
        started = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            server = self.loop.run_until_complete(
                self.loop.create_server(self.handler.protocol, "127.0.0.1", self.port)
            )
            started.set()
            self.loop.run_forever()
            server.close()
            self.loop.run_until_complete(server.wait_closed())

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        started.wait(10)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.handler.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener(domains=("livevox.com",), max_bytes=64 * 1024)
    yield server
    server.stop()


def send(port: int, raw: bytes, to: str = "customercare@livevox.com") -> Any:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        return client.sendmail("alice@acme.test", [to], raw)


def test_a_message_is_stored_before_the_250(listener: Listener, alice: User) -> None:
    with smtplib.SMTP("127.0.0.1", listener.port, timeout=30) as client:
        client.ehlo()
        assert client.has_extn("size") and client.esmtp_features["size"] == str(64 * 1024)
        client.mail("alice@acme.test")
        client.rcpt("customercare@livevox.com")
        code, answer = client.data(eml(message_id="<smtp-1@acme.test>"))
    assert code == 250 and b"stored" in answer
    # The 250 came after the commit: another connection sees the message and its case.
    row = InboundEmail.objects.get(message_id="smtp-1@acme.test")
    assert row.source == "smtp" and row.envelope_from == "alice@acme.test"
    assert row.envelope_to == ["customercare@livevox.com"]
    assert Ticket.objects.get(pk=row.ticket_id).requester == alice


def test_the_same_message_twice_is_stored_once(listener: Listener, alice: User) -> None:
    send(listener.port, eml(message_id="<twice@acme.test>"))
    with smtplib.SMTP("127.0.0.1", listener.port, timeout=30) as client:
        client.ehlo()
        client.mail("alice@acme.test")
        client.rcpt("customercare@livevox.com")
        code, answer = client.data(eml(message_id="<twice@acme.test>"))
    assert (code, answer) == (250, b"2.0.0 duplicate")
    assert InboundEmail.objects.count() == 1 and Ticket.objects.count() == 1


def test_recipients_outside_our_domains_are_refused(listener: Listener, alice: User) -> None:
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(listener.port, eml(), to="someone@elsewhere.test")
    assert refused.value.recipients["someone@elsewhere.test"][0] == 550
    assert not InboundEmail.objects.exists()


def test_a_message_over_the_size_limit_gets_552(listener: Listener, alice: User) -> None:
    big = eml(body=("x" * 70 + "\n") * 1024)
    # smtplib announces the size (MAIL FROM SIZE=): refused before any data is sent.
    with pytest.raises(smtplib.SMTPSenderRefused) as refused:
        send(listener.port, big)
    assert refused.value.smtp_code == 552
    # A client that does not announce it is refused at the end of DATA.
    with smtplib.SMTP("127.0.0.1", listener.port, timeout=30) as client:
        client.ehlo()
        client.mail("alice@acme.test")
        client.rcpt("customercare@livevox.com")
        code, _ = client.data(big)
    assert code == 552
    assert not InboundEmail.objects.exists()


def test_451_while_the_database_cannot_commit_then_250(listener: Listener, alice: User) -> None:
    table = InboundEmail._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} RENAME TO {table}_away")
    try:
        with pytest.raises(smtplib.SMTPDataError) as failed:
            send(listener.port, eml(message_id="<later@acme.test>"))
        assert failed.value.smtp_code == 451
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {table}_away RENAME TO {table}")
    assert not Ticket.objects.exists(), "nothing half-stored"
    send(listener.port, eml(message_id="<later@acme.test>"))  # the sender's retry
    assert InboundEmail.objects.get().message_id == "later@acme.test"


def _lmtp(port: int, commands: list[bytes], more: int) -> list[bytes]:
    """A raw LMTP session: smtplib's LMTP reads one answer after DATA, LMTP gives one each."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        reader = sock.makefile("rb")
        answers = [reader.readline()]  # greeting
        for command in commands:
            sock.sendall(command)
            answers.append(reader.readline())
            while answers[-1][3:4] == b"-":
                answers.append(reader.readline())
        return answers + [reader.readline() for _ in range(more)]


def test_lmtp_answers_per_recipient(alice: User) -> None:
    server = Listener(lmtp=True, domains=("livevox.com",))
    try:
        answers = _lmtp(
            server.port,
            [
                b"LHLO client.test\r\n",
                b"MAIL FROM:<alice@acme.test>\r\n",
                b"RCPT TO:<customercare@livevox.com>\r\n",
                b"RCPT TO:<nobody@elsewhere.test>\r\n",
                b"RCPT TO:<support@livevox.com>\r\n",
                b"DATA\r\n",
                eml(message_id="<lmtp@acme.test>") + b".\r\n",
            ],
            more=1,
        )
    finally:
        server.stop()
    assert any(a.startswith(b"550") for a in answers), "the foreign recipient was refused"
    *_, first, second = answers
    # One answer per accepted recipient: the message is stored for the first, and the
    # second delivery of the same bytes is recognised as the same message.
    assert first.startswith(b"250") and b"stored" in first
    assert second.startswith(b"250") and b"duplicate" in second
    assert InboundEmail.objects.count() == 1
