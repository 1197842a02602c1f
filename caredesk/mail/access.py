"""Who may see stored mail: agents all of it (admins work the quarantine); a contact the
messages they sent us, and the mail we sent on tickets they may see (and who is copied on
it)."""

from __future__ import annotations

from django.db.models import QuerySet

from caredesk.core.access import access_for, is_agent, scope_to_user
from caredesk.mail.models import CcChange, InboundEmail, OutboundMail
from caredesk.people.models import User
from caredesk.tickets.access import visible_tickets


@access_for("mail.InboundEmail")
def visible_inbound(user: User | None) -> QuerySet[InboundEmail]:
    return scope_to_user(InboundEmail.objects.all(), user, requester="contact", organization=None)


@access_for("mail.OutboundMail")
def visible_outbound(user: User | None) -> QuerySet[OutboundMail]:
    if is_agent(user):
        return OutboundMail.objects.all()
    return OutboundMail.objects.filter(ticket__in=visible_tickets(user))


@access_for("mail.CcChange")
def visible_cc_changes(user: User | None) -> QuerySet[CcChange]:
    if is_agent(user):
        return CcChange.objects.all()
    return CcChange.objects.filter(ticket__in=visible_tickets(user))
