"""Real mail servers on loopback for the email tests: an SMTP capture server (the
"edge of the world" our outbound mail goes to) and helpers for free ports."""

from __future__ import annotations

import socket
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


class Captured:
    def __init__(self, mail_from: str, rcpt_tos: list[str], raw: bytes) -> None:
        self.mail_from = mail_from
        self.rcpt_tos = rcpt_tos
        self.raw = raw
        parsed = message_from_bytes(raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.message = parsed

    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        assert part is not None
        return str(part.get_content())

    def html(self) -> str:
        part = self.message.get_body(preferencelist=("html",))
        assert part is not None
        return str(part.get_content())


class CaptureServer:
    """Keeps every message it accepts; `refuse` makes it answer the next DATA with a code."""

    def __init__(self) -> None:
        self.messages: list[Captured] = []
        self.refusals: list[str] = []
        self.controller = Controller(self, hostname="127.0.0.1", port=free_port())

    @property
    def port(self) -> int:
        return int(self.controller.port)

    def refuse(self, *answers: str) -> None:
        self.refusals.extend(answers)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refusals:
            return self.refusals.pop(0)
        self.messages.append(
            Captured(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
        )
        return "250 OK"
