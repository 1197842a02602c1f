"""The SMTP/LMTP intake listener (aiosmtpd): every message goes to intake.ingest.

A message is answered 250 only once ingest has committed it, and 451 when it could not be
committed, so the sending server keeps it and tries again (RFC 5321 4.2.5): a message is
never lost between the wire and the database. A resent message is recognised by intake as
a duplicate and answered 250 again, so it is stored once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.sharedctypes import RawArray
from typing import Any

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.conf import settings
from django.db import close_old_connections, connections

from caredesk.mail.headers import domain_of

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 25 * 1024 * 1024
TEMPORARY_FAILURE = "451 4.3.0 The message could not be stored; please try again later"
# How long a listener process with more open connections than another waits before it
# takes a new connection itself (when the other one has not taken it by then): only a
# connection's start waits, and sending servers keep their connections.
BALANCE_DELAY = 0.05


class Balance:
    """Open connections per listener process, in memory the forked processes share.

    Sending servers keep their connections open for message after message, and asyncio
    accepts every pending connection in whichever process wakes first, so one process could
    end up with most of them and the others idle. The least busy process takes the next one.
    """

    def __init__(self, processes: int) -> None:
        self.counts = RawArray("i", max(processes, 1))
        self.me = 0  # this process's slot, set in each after the fork

    def busier(self) -> bool:
        return bool(self.counts[self.me] > min(self.counts))

    def opened(self) -> None:
        self.counts[self.me] += 1

    def closed(self) -> None:
        self.counts[self.me] -= 1


class _Counted:
    """A connection counted in its process's Balance while it is open."""

    event_handler: Handler

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.event_handler.balance.opened()
        super().connection_made(transport)  # type: ignore[misc]

    def connection_lost(self, error: Exception | None) -> None:
        self.event_handler.balance.closed()
        super().connection_lost(error)  # type: ignore[misc]


class _SMTP(_Counted, SMTP):
    pass


class _LMTP(_Counted, LMTP):
    pass


def max_message_bytes() -> int:
    return int(getattr(settings, "MAIL_MAX_BYTES", DEFAULT_MAX_BYTES))


class Handler:
    """aiosmtpd hooks: recipients checked early, the message handed to intake in a thread
    of a small pool (Django's database connections belong to threads).

    SQLite takes one writer at a time, so on SQLite a process stores one message at a time
    and more threads would only contend for the interpreter lock (more processes use more
    cores); on PostgreSQL the threads overlap their waits for the database.
    """

    def __init__(
        self,
        *,
        lmtp: bool,
        domains: Sequence[str],
        max_bytes: int,
        threads: int | None = None,
        balance: Balance | None = None,
    ) -> None:
        self.balance = balance or Balance(1)
        self.lmtp = lmtp
        self.domains = {d.lower() for d in domains}
        self.max_bytes = max_bytes
        if threads is None:
            threads = 1 if connections["default"].vendor == "sqlite" else 4
        self.size = threads
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="intake")

    def protocol(self) -> SMTP:
        """A protocol instance per connection (the asyncio protocol factory)."""
        return (_LMTP if self.lmtp else _SMTP)(
            self,
            data_size_limit=self.max_bytes,
            enable_SMTPUTF8=True,
            decode_data=False,
            ident="caredesk",
        )

    def _ingest(self, raw: bytes, mail_from: str | None, rcpt_tos: Sequence[str]) -> str:
        from caredesk.mail.intake import ingest

        close_old_connections()
        try:
            result = ingest(raw, source="smtp", envelope_from=mail_from, envelope_to=rcpt_tos)
        finally:
            close_old_connections()
        return f"250 2.0.0 {result.status}"

    def close(self) -> None:
        """Close every pool thread's database connection, then the pool."""
        # One task per thread, each waiting for all the others: every thread runs one.
        barrier = threading.Barrier(self.size)

        def close_connections() -> None:
            barrier.wait(timeout=30)
            connections.close_all()

        for future in [self.pool.submit(close_connections) for _ in range(self.size)]:
            future.result()
        self.pool.shutdown(wait=True)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if self.domains and domain_of(address) not in self.domains:
            return f"550 5.1.1 <{address}>: no such recipient here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def _store(self, raw: bytes, mail_from: str | None, rcpt_tos: Sequence[str]) -> str:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self.pool, self._ingest, raw, mail_from, rcpt_tos)
        except Exception:
            log.exception("intake could not commit a message from %s", mail_from)
            return TEMPORARY_FAILURE

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        mail_from = envelope.mail_from if envelope.mail_from not in (None, "", "<>") else None
        if not self.lmtp:
            return await self._store(raw, mail_from, envelope.rcpt_tos)
        # LMTP (RFC 2033 4.2): one answer per accepted recipient, in order.
        answers = [await self._store(raw, mail_from, [rcpt]) for rcpt in envelope.rcpt_tos]
        return "\r\n".join(answers)


def run(
    host: str,
    port: int,
    *,
    lmtp: bool = False,
    domains: Sequence[str] = (),
    max_bytes: int | None = None,
    processes: int = 1,
    ready: Callable[[str], None] | None = None,
) -> None:
    """Listen until SIGTERM or SIGINT, in `processes` processes that share one socket.

    Parsing and storing a message is Python work that holds the interpreter lock, so one
    process uses one core; more processes use more. Children stop with their parent. A
    message cut off before its 250 is sent again by its sender and found to be a duplicate.
    """
    sock = socket.create_server((host, port), backlog=512)
    sock.setblocking(False)
    bound = sock.getsockname()
    balance = Balance(processes)
    options = {"lmtp": lmtp, "domains": domains, "max_bytes": max_bytes, "balance": balance}
    connections.close_all()  # no database connection may be shared across fork()
    parent, children = os.getpid(), []
    for slot in range(1, max(processes, 1)):
        pid = os.fork()
        if pid == 0:
            try:
                balance.me = slot
                asyncio.run(_serve(sock, parent=parent, **options))  # type: ignore[arg-type]
            finally:
                os._exit(0)
        children.append(pid)
    if ready:
        count = len(children) + 1
        ready(f"{'LMTP' if lmtp else 'SMTP'} on {bound[0]}:{bound[1]} ({count} processes)")
    try:
        asyncio.run(_serve(sock, **options))  # type: ignore[arg-type]
    finally:
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        for pid in children:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)


async def _serve(
    sock: socket.socket,
    *,
    lmtp: bool,
    domains: Sequence[str],
    max_bytes: int | None,
    balance: Balance,
    parent: int | None = None,
) -> None:
    loop = asyncio.get_running_loop()
    handler = Handler(
        lmtp=lmtp,
        domains=domains,
        max_bytes=max_bytes or max_message_bytes(),
        balance=balance,
    )
    accepting = asyncio.create_task(_accept(sock, handler))
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        while not stop.is_set():
            if parent is not None and os.getppid() != parent:
                break  # the parent is gone (even by SIGKILL): so are we
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=0.5)
    finally:
        accepting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await accepting
        sock.close()
    await loop.run_in_executor(None, handler.close)
    log.info("smtpd stopped")


async def _accept(sock: socket.socket, handler: Handler) -> None:
    """Take connections one at a time, the least busy process first (see Balance)."""
    loop = asyncio.get_running_loop()
    while True:
        await _readable(loop, sock)
        if handler.balance.busier():
            await asyncio.sleep(BALANCE_DELAY)
        try:
            conn, _ = sock.accept()
        except (BlockingIOError, InterruptedError):
            continue  # another process took it
        except OSError as exc:  # e.g. out of file descriptors: wait, do not spin
            log.warning("smtpd could not accept a connection: %s", exc)
            await asyncio.sleep(0.1)
            continue
        conn.setblocking(False)
        try:
            await loop.connect_accepted_socket(handler.protocol, conn)
        except OSError:
            conn.close()


async def _readable(loop: asyncio.AbstractEventLoop, sock: socket.socket) -> None:
    ready = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(sock, wake)
    try:
        await ready
    finally:
        loop.remove_reader(sock)
