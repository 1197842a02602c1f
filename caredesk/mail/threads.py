"""Which ticket an inbound message belongs to.

First our own Message-IDs in In-Reply-To and References (signed, so unforgeable); then
earlier inbound messages of a ticket that the sender replied to; then a ticket number in
the subject, accepted only from a sender who belongs to that ticket. Anything else is a
new case.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from caredesk.mail.models import InboundEmail
from caredesk.mail.parse import ParsedMail
from caredesk.people.models import User
from caredesk.tickets.models import Ticket

# [CASE-123], [TSUP-100], [#100100]: the forms our outbound subjects carry.
SUBJECT_TAG = re.compile(r"\[\s*(#?)([A-Z][A-Z0-9]{0,9}-\d{1,12}|\d{1,12})\s*\]", re.I)


@dataclass(frozen=True)
class Thread:
    ticket: Ticket | None
    how: str  # "message-id", "inbound-reference", "subject-tag" or "" (new case)
    # A subject tag we refused: the sender does not belong to that ticket.
    refused: str = ""


def _our_lookup() -> Callable[[str], Ticket | None] | None:
    # The outbound side signs our Message-IDs (caredesk.mail.ids); until it is installed,
    # threading falls back to the other rules.
    try:
        module = importlib.import_module("caredesk.mail.ids")
    except ImportError:
        return None
    return getattr(module, "ticket_for_message_id", None)


def subject_numbers(subject: str) -> list[str]:
    return [m.group(2).upper() for m in SUBJECT_TAG.finditer(subject)]


def belongs(sender: User | None, address: str, ticket: Ticket) -> bool:
    """The requester, a contact of the ticket's organization, someone copied on it, or an
    agent."""
    if sender is not None:
        if sender.is_agent and sender.is_active:
            return True  # agents see every ticket; what they send becomes an internal note
        if ticket.requester_id == sender.pk:
            return True
        if ticket.organization_id and sender.organization_id == ticket.organization_id:
            return True
    if not address:
        return False
    return InboundEmail.objects.filter(
        ticket=ticket, recipients__contains=f",{address},"
    ).exists() or (InboundEmail.objects.filter(ticket=ticket, from_address=address).exists())


def find(mail: ParsedMail, *, sender: User | None) -> Thread:
    referenced = list(dict.fromkeys([*mail.in_reply_to, *reversed(mail.references)]))
    lookup = _our_lookup()
    if lookup is not None:
        for value in referenced:
            ticket = lookup(value)
            if ticket is not None:
                return Thread(ticket, "message-id")
    if referenced:
        earlier = (
            InboundEmail.objects.filter(message_id__in=referenced[:50], ticket__isnull=False)
            .select_related("ticket")
            .order_by("-id")
        )
        for row in earlier:
            assert row.ticket is not None
            if belongs(sender, mail.from_address, row.ticket):
                return Thread(row.ticket, "inbound-reference")
    refused = ""
    for number in subject_numbers(mail.subject):
        ticket = Ticket.objects.filter(number=number).first()
        if ticket is None:
            continue
        if belongs(sender, mail.from_address, ticket):
            return Thread(ticket, "subject-tag")
        refused = refused or number
    return Thread(None, "", refused=refused)
