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
from typing import Any

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.conf import settings
from django.db import close_old_connections, connections

from caredesk.mail.headers import domain_of

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 25 * 1024 * 1024
TEMPORARY_FAILURE = "451 4.3.0 The message could not be stored; please try again later"


def max_message_bytes() -> int:
    return int(getattr(settings, "MAIL_MAX_BYTES", DEFAULT_MAX_BYTES))


class Handler:
    """aiosmtpd hooks: recipients checked early, the message handed to intake in a thread
    of a small pool (Django's database connections belong to threads)."""

    def __init__(
        self, *, lmtp: bool, domains: Sequence[str], max_bytes: int, threads: int = 4
    ) -> None:
        self.lmtp = lmtp
        self.domains = {d.lower() for d in domains}
        self.max_bytes = max_bytes
        self.size = threads
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="intake")

    def protocol(self) -> SMTP:
        """A protocol instance per connection (the asyncio protocol factory)."""
        return (LMTP if self.lmtp else SMTP)(
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
    bound = sock.getsockname()
    connections.close_all()  # no database connection may be shared across fork()
    parent, children = os.getpid(), []
    for _ in range(max(processes, 1) - 1):
        pid = os.fork()
        if pid == 0:
            try:
                asyncio.run(
                    _serve(sock, lmtp=lmtp, domains=domains, max_bytes=max_bytes, parent=parent)
                )
            finally:
                os._exit(0)
        children.append(pid)
    if ready:
        count = len(children) + 1
        ready(f"{'LMTP' if lmtp else 'SMTP'} on {bound[0]}:{bound[1]} ({count} processes)")
    try:
        asyncio.run(_serve(sock, lmtp=lmtp, domains=domains, max_bytes=max_bytes))
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
    parent: int | None = None,
) -> None:
    loop = asyncio.get_running_loop()
    handler = Handler(lmtp=lmtp, domains=domains, max_bytes=max_bytes or max_message_bytes())
    server = await loop.create_server(handler.protocol, sock=sock)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        while not stop.is_set():
            if parent is not None and os.getppid() != parent:
                break  # the parent is gone (even by SIGKILL): so are we
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=0.5)
    await loop.run_in_executor(None, handler.close)
    log.info("smtpd stopped")
