"""The IMAP poller: mailboxes the worker reads every minute and hands to intake.

Mailboxes come from CAREDESK_IMAP_URL, comma separated, each like
`imaps://user:password@host[:port]/INBOX?after=seen` (`imap://` plain, `imap+starttls://`;
user and password percent-encoded). After a message is committed it is marked seen
(`after=seen`, the default), deleted (`after=delete`) or moved (`after=move&to=Done`);
a message intake cannot commit stays as it was and is tried again at the next poll. A
crash between the commit and the mark costs nothing: the next poll finds the message
again and intake recognises it as a duplicate.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

from django.conf import settings
from imap_tools import (
    AND,
    BaseMailBox,
    MailBox,
    MailBoxStartTls,
    MailBoxUnencrypted,
    MailMessageFlags,
)

from caredesk.core.errors import InvalidInput

log = logging.getLogger(__name__)

AFTER = ("seen", "delete", "move")
TIMEOUT = 60
BATCH = 200  # messages per poll and mailbox; the rest wait a minute


@dataclass(frozen=True)
class Mailbox:
    scheme: str
    host: str
    port: int
    user: str
    password: str = field(repr=False)
    folder: str = "INBOX"
    after: str = "seen"
    move_to: str = ""

    @property
    def label(self) -> str:
        return f"{self.user}@{self.host}:{self.port}/{self.folder}"


def parse_url(url: str) -> Mailbox:
    """A mailbox from its URL; InvalidInput with the reason when it is not one."""
    parts = urlsplit(url.strip())
    ports = {"imaps": 993, "imap": 143, "imap+starttls": 143}
    if parts.scheme not in ports:
        raise InvalidInput(
            f"IMAP URL scheme {parts.scheme!r}: use imaps, imap+starttls or imap.", field="url"
        )
    if not parts.hostname or not parts.username:
        raise InvalidInput("An IMAP URL needs user@host.", field="url")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    after = query.get("after", "seen")
    if after not in AFTER:
        raise InvalidInput(f"after={after!r}: use one of {', '.join(AFTER)}.", field="url")
    move_to = query.get("to", "")
    if after == "move" and not move_to:
        raise InvalidInput("after=move needs to=FOLDER.", field="url")
    return Mailbox(
        scheme=parts.scheme,
        host=parts.hostname,
        port=parts.port or ports[parts.scheme],
        user=unquote(parts.username),
        password=unquote(parts.password or ""),
        folder=unquote(parts.path.lstrip("/")) or "INBOX",
        after=after,
        move_to=move_to,
    )


def configured() -> list[Mailbox]:
    return [parse_url(url) for url in getattr(settings, "IMAP_URLS", [])]


def _connect(box: Mailbox) -> BaseMailBox:
    if box.scheme == "imaps":
        client: BaseMailBox = MailBox(box.host, box.port, timeout=TIMEOUT)
    elif box.scheme == "imap+starttls":
        client = MailBoxStartTls(box.host, box.port, timeout=TIMEOUT)
    else:
        client = MailBoxUnencrypted(box.host, box.port, timeout=TIMEOUT)
    return client.login(box.user, box.password, initial_folder=box.folder)


@dataclass
class PollResult:
    stored: int = 0
    failed: int = 0
    statuses: dict[str, int] = field(default_factory=dict)


def poll(box: Mailbox) -> PollResult:
    """Ingest every waiting message of one mailbox; each is marked only after its commit."""
    from caredesk.mail.intake import ingest

    result = PollResult()
    with _connect(box) as client:
        criteria = AND(seen=False) if box.after == "seen" else AND(deleted=False)
        for uid in client.uids(criteria)[:BATCH]:
            # BODY.PEEK leaves \Seen alone until the message is committed.
            status, data = client.client.uid("fetch", uid, "(BODY.PEEK[])")
            raw = next((item[1] for item in data or [] if isinstance(item, tuple)), None)
            if status != "OK" or raw is None:
                continue  # expunged meanwhile
            try:
                outcome = ingest(raw, source="imap", envelope_to=[box.user])
            except Exception:
                log.exception(
                    "IMAP %s: message %s not stored; it stays for the next poll", box.label, uid
                )
                result.failed += 1
                continue
            result.stored += 1
            result.statuses[outcome.status] = result.statuses.get(outcome.status, 0) + 1
            _done(client, box, uid)
    return result


def _done(client: BaseMailBox, box: Mailbox, uid: str) -> None:
    if box.after == "seen":
        client.flag(uid, MailMessageFlags.SEEN, True)
    elif box.after == "delete":
        client.delete(uid)
    else:
        client.move(uid, box.move_to)


def poll_all() -> dict[str, PollResult]:
    """Poll every configured mailbox; one unreachable mailbox does not stop the others."""
    results: dict[str, PollResult] = {}
    for box in configured():
        try:
            results[box.label] = poll(box)
        except Exception:
            log.exception("IMAP %s could not be polled", box.label)
    return results
