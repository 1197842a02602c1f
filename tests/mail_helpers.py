"""Building test messages and reading the fixture corpus."""

from __future__ import annotations

from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "mail_corpus"


def eml(
    *,
    sender: str = "Alice <alice@acme.test>",
    to: str = "customercare@livevox.com",
    subject: str = "Cannot log in to the agent desktop",
    body: str = "Hello,\n\nsince this morning I cannot log in.\n\nAlice",
    message_id: str | None = "<first@acme.test>",
    headers: dict[str, str] | None = None,
) -> bytes:
    """A plain-text message; headers given override or add to the defaults."""
    lines = [
        f"From: {sender}",
        f"To: {to}",
        f"Subject: {subject}",
        "Date: Thu, 26 Nov 2026 09:00:00 -0500",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 8bit",
    ]
    if message_id:
        lines.append(f"Message-ID: {message_id}")
    for name, value in (headers or {}).items():
        lines = [line for line in lines if not line.lower().startswith(name.lower() + ":")]
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n" + body.replace("\n", "\r\n") + "\r\n").encode()


def corpus_file(name: str) -> bytes:
    return (CORPUS / name).read_bytes()
