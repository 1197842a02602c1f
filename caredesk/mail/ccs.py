"""Who else a ticket's email replies go to: the people the customer copied, as the agents
have adjusted that list.

The addresses come from the To and Cc of the customer's own mail on the ticket (and on the
case it was escalated from), as intake stored them, lower-cased and validated; then agents'
changes apply (`copy_on_replies`, `stop_copying`: the latest change of an address wins, and
one taken off stays off when the customer copies it again). Never copied, whoever asks: the
requester (they are the To), our own addresses (teams, the sender, our mail domains, the
address the message was delivered to), agents, and robots — a mail system's or no-reply
address, or anyone who has sent us a bounce or an automatic reply, since copying them would
start a mail loop — and an address our mail bounced from.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from caredesk.core.clock import now
from caredesk.core.errors import Forbidden, InvalidInput
from caredesk.mail.classify import DAEMON, NO_REPLY
from caredesk.mail.headers import address, mailbox
from caredesk.mail.models import CcChange, InboundEmail
from caredesk.mail.parse import clean_address
from caredesk.people.models import User
from caredesk.servicemodel.choices import Role
from caredesk.tickets.events import record
from caredesk.tickets.models import Message, Ticket

log = logging.getLogger(__name__)

# A reply copied to more people than this is more likely a list than a conversation.
MAX_CCS = 20


def ticket_ccs(ticket: Ticket) -> list[str]:
    """The addresses to copy on an agent's email reply on `ticket`, in the order they
    first appeared ("Name <address>" for those we know a name of)."""
    return [_named(value, name) for value, name in copied(ticket).items()][:MAX_CCS]


def copied(ticket: Ticket) -> dict[str, str]:
    """Each address copied on the ticket's replies, with the name we know them by, or ""."""
    tickets = _with_origin(ticket)
    found = _copied_by_customer(tickets)
    for value, kept in _changes(tickets).items():
        if kept:
            found.setdefault(value, "")
        else:
            found.pop(value, None)
    for value in list(found):
        try:
            address(value, "cc")
        except InvalidInput:  # stored before a stricter check: never put it in a header
            log.warning("ticket %s: CC %r is not an address we send to", ticket.number, value)
            del found[value]
    if not found:
        return {}
    left_out, names = _screen(ticket, list(found))
    # The name a contact has with us, else the one their colleague's mail gave them.
    return {v: names.get(v) or found[v] for v in found if v not in left_out}


@transaction.atomic
def copy_on_replies(ticket: Ticket, *, actor: User, email: str) -> str:
    """Copy `email` on the ticket's email replies from now on; the address, cleaned."""
    value = _agent_may_change(actor, email)
    if reason := _screen(ticket, [value])[0].get(value):
        raise InvalidInput(f"{value} cannot be copied: {reason}.", field="email")
    current = copied(ticket)
    if value in current:
        raise InvalidInput(f"{value} is copied already.", field="email")
    if len(current) >= MAX_CCS:
        raise InvalidInput(f"Replies are already copied to {MAX_CCS} people.", field="email")
    _change(ticket, actor, value, copied=True)
    return value


@transaction.atomic
def stop_copying(ticket: Ticket, *, actor: User, email: str) -> str:
    """Leave `email` off the ticket's email replies, even if the customer copies it again."""
    value = _agent_may_change(actor, email)
    if value not in copied(ticket):
        raise InvalidInput(f"{value} is not copied on this ticket's replies.", field="email")
    _change(ticket, actor, value, copied=False)
    return value


# --- the pieces --------------------------------------------------------------------------


def _named(value: str, name: str) -> str:
    try:
        return mailbox(name, value, "cc") if name else value
    except InvalidInput:  # a name no header may carry: the address alone will do
        return value


def _with_origin(ticket: Ticket) -> list[int]:
    return [ticket.pk] + ([ticket.origin_id] if ticket.origin_id else [])


def _copied_by_customer(tickets: list[int]) -> dict[str, str]:
    """The To and Cc addresses of the customer's mail on these tickets, but for the address
    each message was delivered to (ours), in the order they first appeared, each with the
    first display name the mail gave it ("" for none)."""
    rows = (
        InboundEmail.objects.filter(
            ticket_id__in=tickets,
            status=InboundEmail.Status.STORED,
            kind=InboundEmail.Kind.MESSAGE,
        )
        .exclude(recipients="")
        # An agent writing from a mail client makes an internal note: not the customer's.
        .exclude(ticket_message__kind=Message.Kind.NOTE)
        .order_by("id")
        .values_list("recipients", "recipient_names", "envelope_to")
    )
    found: dict[str, str] = {}
    for recipients, names, envelope_to in rows:
        delivered_to = {clean_address(str(a)) for a in envelope_to or []}
        for value in recipients.strip(",").split(","):
            if value and value not in delivered_to:
                found[value] = found.get(value) or str((names or {}).get(value, ""))
    return found


def _changes(tickets: list[int]) -> dict[str, bool]:
    """Each address agents changed on these tickets, and whether it is copied after all."""
    rows = CcChange.objects.filter(ticket_id__in=tickets).order_by("id")
    return dict(rows.values_list("address", "copied"))


def _screen(ticket: Ticket, candidates: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """(why each address that is never copied is left out, the names of known contacts)."""
    from caredesk.mail.intake import our_addresses  # intake imports the ticket services

    ours = our_addresses()
    domains = {d.lower() for d in settings.MAIL_DOMAINS}
    requester = ticket.requester.email.lower() if ticket.requester else ""
    left_out: dict[str, str] = {}
    for value in candidates:
        if value == requester:
            left_out[value] = "the requester gets every reply already"
        elif value in ours or value.rpartition("@")[2] in domains:
            left_out[value] = "it is one of our own addresses"
        elif DAEMON.match(value) or NO_REPLY.match(value):
            left_out[value] = "it belongs to a mail system or does not take replies"
    rest = [v for v in candidates if v not in left_out]
    if not rest:
        return left_out, {}
    # Robots that wrote to us, and addresses our mail to them bounced from.
    robots = InboundEmail.objects.filter(
        Q(
            from_address__in=rest,
            kind__in=[InboundEmail.Kind.AUTO_REPLY, InboundEmail.Kind.BOUNCE],
        )
        | Q(bounce_recipient__in=rest, kind=InboundEmail.Kind.BOUNCE)
    ).values_list("from_address", "bounce_recipient")
    for pair in robots:
        for value in pair:
            if value and value.lower() in rest:
                left_out[value.lower()] = "it has bounced or answered automatically"
    # Known people are copied by name, as the requester is; agents are not copied at all.
    names = {}
    for email, name, role in User.objects.filter(email__in=rest).values_list(
        "email", "name", "role"
    ):
        if role == Role.CUSTOMER:
            names[email.lower()] = name
        else:
            left_out[email.lower()] = "agents read the ticket in the desk"
    return left_out, names


def _agent_may_change(actor: User, email: str) -> str:
    if not actor.is_agent:
        raise Forbidden("Only agents may change who is copied.")
    given = str(email or "").strip()
    if not given:
        raise InvalidInput("Give an email address, like name@example.com.", field="email")
    if not (value := clean_address(given)):
        raise InvalidInput(f"{given!r} is not a valid email address.", field="email")
    return address(value, "email")


def _change(ticket: Ticket, actor: User, value: str, *, copied: bool) -> None:
    at = now()
    CcChange.objects.create(ticket=ticket, address=value, copied=copied, actor=actor, created_at=at)
    kind = "mail.cc_added" if copied else "mail.cc_removed"
    record(ticket, kind, actor=actor, at=at, address=value)
