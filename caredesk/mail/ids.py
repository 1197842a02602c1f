"""Signed identifiers in the mail we send, so replies and bounces find their way back.

Our Message-IDs name the ticket they belong to and carry an HMAC made with the instance's
secret key: a reply whose In-Reply-To or References holds one threads to that ticket, and
nobody without the key can make one up. Each outgoing mail also gets its own signed
envelope sender (VERP): a bounce is addressed to it, so it maps back to that mail.
"""

from __future__ import annotations

import base64
import re
import secrets
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

from caredesk.mail.headers import domain_of
from caredesk.tickets.models import Ticket

if TYPE_CHECKING:
    from caredesk.mail.models import OutboundMail

_MESSAGE_ID = re.compile(r"^cd\.([0-9a-z]{1,13})\.([a-z2-7]{8})\.([a-z2-7]{16})$")
_BOUNCE = re.compile(r"^bounces\+([0-9a-z]{1,13})\.([a-z2-7]{16})$")


def mail_domain() -> str:
    """The domain of our own addresses: the first accepted domain, else the sender's."""
    if settings.MAIL_DOMAINS:
        return str(settings.MAIL_DOMAINS[0]).lower()
    return domain_of(settings.DEFAULT_FROM_EMAIL) or "localhost"


def _b36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out


def _sign(purpose: str, value: str) -> str:
    digest = salted_hmac(f"caredesk.mail.{purpose}", value, algorithm="sha256").digest()
    # Lower-case base32: safe in a local part and unchanged by software that folds case.
    return base64.b32encode(digest[:10]).decode().lower()


def _local_part(value: str) -> str:
    value = value.strip().strip("<>").strip()
    return value.rpartition("@")[0].lower() if "@" in value else ""


def make_message_id(ticket: Ticket) -> str:
    """A new Message-ID for a mail about `ticket`, e.g. <cd.2s.k3j5...@example.com>."""
    nonce = base64.b32encode(secrets.token_bytes(5)).decode().lower()
    body = f"{_b36(ticket.pk)}.{nonce}"
    return f"<cd.{body}.{_sign('message-id', body)}@{mail_domain()}>"


def ticket_for_message_id(value: str) -> Ticket | None:
    """The ticket one of our Message-IDs names; None for anything else or a bad signature."""
    match = _MESSAGE_ID.match(_local_part(value))
    if match is None:
        return None
    pk, nonce, signature = match.groups()
    if not constant_time_compare(signature, _sign("message-id", f"{pk}.{nonce}")):
        return None
    return Ticket.objects.filter(pk=int(pk, 36)).first()


def bounce_address(outbound: OutboundMail) -> str:
    """The envelope sender (Return-Path) of one outgoing mail: bounces+<id>.<sig>@domain."""
    body = _b36(outbound.pk)
    return f"bounces+{body}.{_sign('bounce', body)}@{mail_domain()}"


def outbound_for_bounce_address(addr: str) -> OutboundMail | None:
    """The outgoing mail a bounce was addressed to; None for any other address."""
    from caredesk.mail.models import OutboundMail

    value = addr.strip().strip("<>")
    match = _BOUNCE.match(value.rpartition("@")[0].lower()) if "@" in value else None
    if match is None:
        return None
    pk, signature = match.groups()
    if not constant_time_compare(signature, _sign("bounce", pk)):
        return None
    return OutboundMail.objects.filter(pk=int(pk, 36)).first()
