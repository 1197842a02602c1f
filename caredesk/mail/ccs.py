"""Who else a ticket's email replies go to: the people the customer copied.

The addresses come from the To and Cc of the customer's own mail on the ticket (and on the
case it was escalated from), as intake stored them, lower-cased and validated. Left out:
the requester (they are the To), our own addresses (teams, the sender, our mail domains,
the address the message was delivered to), agents, and robots — a mail system's or
no-reply address, or anyone who has sent us a bounce or an automatic reply, since copying
them would start a mail loop — and an address our mail bounced from.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db.models import Q

from caredesk.core.errors import InvalidInput
from caredesk.mail.classify import DAEMON, NO_REPLY
from caredesk.mail.headers import address, mailbox
from caredesk.mail.models import InboundEmail
from caredesk.mail.parse import clean_address
from caredesk.people.models import User
from caredesk.servicemodel.choices import Role
from caredesk.tickets.models import Message, Ticket

log = logging.getLogger(__name__)

# A reply copied to more people than this is more likely a list than a conversation.
MAX_CCS = 20


def ticket_ccs(ticket: Ticket) -> list[str]:
    """The addresses to copy on an agent's email reply on `ticket`, in the order they
    first appeared."""
    from caredesk.mail.intake import our_addresses  # intake imports the ticket services

    tickets = [ticket.pk] + ([ticket.origin_id] if ticket.origin_id else [])
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
        .values_list("recipients", "envelope_to")
    )
    ours = set(our_addresses())
    domains = {d.lower() for d in settings.MAIL_DOMAINS}
    requester = ticket.requester.email.lower() if ticket.requester else ""
    found: dict[str, None] = {}
    for recipients, envelope_to in rows:
        delivered_to = {clean_address(str(a)) for a in envelope_to or []}
        for value in recipients.strip(",").split(","):
            if (
                value
                and value != requester
                and value not in ours
                and value not in delivered_to
                and value.rpartition("@")[2] not in domains
                and not DAEMON.match(value)
                and not NO_REPLY.match(value)
            ):
                found[value] = None
    if not found:
        return []
    # Robots that wrote to us, and addresses our mail to them bounced from.
    robots = InboundEmail.objects.filter(
        Q(
            from_address__in=list(found),
            kind__in=[InboundEmail.Kind.AUTO_REPLY, InboundEmail.Kind.BOUNCE],
        )
        | Q(bounce_recipient__in=list(found), kind=InboundEmail.Kind.BOUNCE)
    ).values_list("from_address", "bounce_recipient")
    left_out = {a.lower() for pair in robots for a in pair if a}
    # Known people are copied by name, as the requester is; agents are not copied at all.
    names = {}
    for email, name, role in User.objects.filter(email__in=list(found)).values_list(
        "email", "name", "role"
    ):
        if role == Role.CUSTOMER:
            names[email.lower()] = name
        else:
            left_out.add(email.lower())
    ccs = []
    for value in found:
        if value in left_out:
            continue
        try:
            name = names.get(value, "")
            ccs.append(mailbox(name, value, "cc") if name else address(value, "cc"))
        except InvalidInput:  # stored before a stricter check: never put it in a header
            log.warning("ticket %s: CC %r is not an address we send to", ticket.number, value)
    return ccs[:MAX_CCS]
