"""The rules of calls: CTI events in, calls recorded, routed, identified and put on cases.

`receive` is one transaction per event. Each (call id, event) is applied once; a repeat
answers what the first one answered. Events may come in any order or without their
newCall: each one fills in what it knows and the outcome is recomputed from all of them,
so the stored call ends the same whatever the order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q, QuerySet

from caredesk.core.clock import now
from caredesk.core.errors import Conflict, Forbidden, InvalidInput
from caredesk.core.prepared import Prepared
from caredesk.core.ttl import Kept
from caredesk.people.models import User
from caredesk.phone import store
from caredesk.phone.cti import CtiEvent, outcome_for, to_e164
from caredesk.phone.models import BlockedNumber, Call, CallEvent, DialTarget, Direction
from caredesk.phone.routing import route
from caredesk.servicemodel.choices import AGENT_ROLES, Channel, Role
from caredesk.tickets import services as tickets
from caredesk.tickets.events import record
from caredesk.tickets.models import Ticket
from caredesk.tickets.states import ACTIVE


@dataclass(frozen=True)
class Received:
    call: Call
    reply: dict[str, object]
    repeated: bool


def _note(call: Call, text: str) -> None:
    if text not in call.irregular:
        call.irregular = f"{call.irregular}; {text}".strip("; ")[:200]


# Every newCall looks up its caller and every answer its agent: compiled once per process.
_CONTACT = Prepared(
    lambda phone: (
        User.objects.filter(phone=phone, role=Role.CUSTOMER, is_active=True)
        .select_related("organization")
        .order_by("id")[:1]
    ),
    phone=str,
)


def find_contact(e164: str) -> User | None:
    """The customer contact with this number (the oldest, when several share it)."""
    if not e164:
        return None
    return _CONTACT.first(phone=e164)


def _agents() -> QuerySet[User]:
    # Unordered: an email is unique, and two agents sharing an extension (or a name) is a
    # misconfiguration either of them may answer for.
    return User.objects.filter(is_active=True, role__in=AGENT_ROLES).order_by()


_BY_EMAIL = Prepared(lambda email: _agents().filter(email=email)[:1], email=str)
_BY_NAME = Prepared(lambda name: _agents().filter(name=name)[:1], name=str)
_BY_EXTENSION = Prepared(lambda ext: _agents().filter(extension=ext)[:1], ext=str)
_BY_EXTENSION_OR_PHONE = Prepared(
    lambda ext, phone: _agents().filter(Q(extension=ext) | Q(phone=phone))[:1],
    ext=str,
    phone=str,
)


def _first(agents: QuerySet[User]) -> User | None:
    return next(iter(agents[:1]), None)


def match_agent(users: list[str], answering_number: str) -> User | None:
    """The answering agent: by email (or name) in user[], else by extension or phone."""
    emails = [u.lower() for u in users if "@" in u]
    names = [u for u in users if "@" not in u]
    # One indexed lookup each; a single email or name (the usual) is the compiled query.
    if len(emails) == 1 and (found := _BY_EMAIL.first(email=emails[0])):
        return found
    if len(emails) > 1 and (found := _first(_agents().filter(email__in=emails))):
        return found
    if len(names) == 1 and (found := _BY_NAME.first(name=names[0])):
        return found
    if len(names) > 1 and (found := _first(_agents().filter(name__in=names))):
        return found
    if answering_number:
        if e164 := to_e164(answering_number):
            return _BY_EXTENSION_OR_PHONE.first(ext=answering_number, phone=e164)
        return _BY_EXTENSION.first(ext=answering_number)
    return None


@dataclass(frozen=True)
class PhoneConfig:
    targets: dict[str, DialTarget]
    blocked: frozenset[str]


def _read_phone_config() -> PhoneConfig:
    return PhoneConfig(
        targets={t.team_id: t for t in DialTarget.objects.all()},
        blocked=frozenset(BlockedNumber.objects.values_list("number", flat=True)),
    )


CONFIG_TTL = 5.0
# Every newCall asks; admins change dial targets and blocked numbers rarely.
_config = Kept(_read_phone_config, ttl=CONFIG_TTL)
_config.forget_on_save(DialTarget, BlockedNumber)


def phone_config() -> PhoneConfig:
    """Dial targets and blocked numbers, read at most every few seconds per process (a save
    in this process is seen at once)."""
    return _config.get()


forget_phone_config = _config.forget


def _dial_reply(call: Call) -> dict[str, object]:
    if call.direction != Direction.IN or not call.routed_to:
        return {}
    target = phone_config().targets.get(call.routed_to)
    reply: dict[str, object] = {
        "action": "dial",
        "queue": (target.queue if target and target.queue else call.routed_to),
        "routed_to": call.routed_to,
        "overflow": call.overflow,
    }
    if target and target.number:
        reply["number"] = target.number
    return reply


def _reply(call: Call, kind: str) -> dict[str, object]:
    if kind != "newCall":
        return {}
    if call.blocked:
        return {"action": "reject", "reason": "busy"}
    return _dial_reply(call)


@transaction.atomic
def receive(event: CtiEvent, *, actor: User, at: datetime | None = None) -> Received:
    """Apply one CTI event; `actor` is the intake token's user."""
    if not actor.is_agent:
        raise Forbidden("A CTI token must belong to an agent or admin account.", field="token")
    received = at or now()
    happened = event.timestamp or received
    # Plain statements (phone/store.py): this is the hottest path of the phone.
    call = store.lock_call(event.call_id)
    fresh = call is None
    if call is None:
        call = Call(
            call_id=event.call_id, direction=event.direction or Direction.IN, updated_at=received
        )
        if not store.insert_call(call):
            # The same call's first two events at once (PostgreSQL): the other one made it.
            call = store.lock_call(event.call_id)
            assert call is not None
            fresh = False
    stored = CallEvent(
        call=call,
        call_id_text=event.call_id,
        kind=event.event,
        at=happened,
        received_at=received,
        data=event.as_data(),
    )
    if not store.add_event(stored):
        return Received(call, _reply(call, event.event), True)
    if event.event == "newCall":
        _new_call(call, event, happened, actor=actor)
    elif event.event == "answer":
        _answer(call, event, happened, actor=actor, fresh=fresh)
    else:
        _hangup(call, event, happened, fresh=fresh)
    call.updated_at = received
    store.save_call(call)
    return Received(call, _reply(call, event.event), False)


def _identify(call: Call, event: CtiEvent) -> None:
    if event.from_number:
        call.from_number = event.from_number
    if event.to_number:
        call.to_number = event.to_number
    customer_side = call.from_number if call.direction == Direction.IN else call.to_number
    call.caller = to_e164(customer_side)
    contact = find_contact(call.caller)
    if contact is not None:
        call.contact, call.organization = contact, contact.organization


def _new_call(call: Call, event: CtiEvent, happened: datetime, *, actor: User) -> None:
    call.direction = event.direction or call.direction
    if call.answered_at or call.ended_at:
        _note(call, "newCall arrived after later events")
    _rang(call, happened)
    _identify(call, event)
    if event.orig_call_id:
        origin = Call.objects.filter(call_id=event.orig_call_id).first()
        if origin is None:
            _note(call, f"transfer of unknown call {event.orig_call_id}"[:120])
        else:
            call.transferred_from = origin
            call.routed_to, call.overflow = origin.routed_to, origin.overflow
            call.emergency_hours = origin.emergency_hours
            if call.ticket_id is None and origin.ticket_id:
                call.ticket_id = origin.ticket_id
    if call.direction == Direction.IN and call.caller and not call.transferred_from_id:
        call.blocked = call.caller in phone_config().blocked
    if call.blocked:
        # Rejected at once: nobody will answer, and no hangup may follow.
        call.ended_at = call.ended_at or happened
        call.cause = call.cause or "rejected"
    elif call.direction == Direction.IN and not call.routed_to:
        decided = route(at=happened)
        call.routed_to, call.overflow = decided.team, decided.overflow
        call.emergency_hours = decided.emergency_hours
    call.queue = event.queue or call.queue or call.routed_to
    if call.ended_at:
        _finish(call)


def _answer(call: Call, event: CtiEvent, happened: datetime, *, actor: User, fresh: bool) -> None:
    if fresh:
        _note(call, "answer without newCall")
    _rang(call, happened)
    call.answered_at = happened
    if call.ended_at and call.ended_at < happened:
        call.ended_at = happened
    if event.from_number or event.to_number:
        _identify(call, event)
    call.queue = event.queue or call.queue
    call.answering_number = event.answering_number or call.answering_number
    call.answered_by = match_agent(event.users, event.answering_number)
    if call.direction == Direction.IN:
        _put_on_case(call, actor=call.answered_by or actor)
        origin = call.transferred_from
        if origin is not None and origin.answered_at is None:
            # A transfer answered before the first leg was: the caller was answered then.
            origin.answered_at, origin.answered_by = call.answered_at, call.answered_by
            origin.ticket = origin.ticket or call.ticket
            if origin.ended_at:
                origin.outcome = _outcome(origin)
            origin.save()
    if call.ended_at:
        _finish(call, record_end=True)


def _hangup(call: Call, event: CtiEvent, happened: datetime, *, fresh: bool) -> None:
    if fresh:
        _note(call, "hangup without newCall")
    _rang(call, happened)
    if call.answered_at is None and event.users and not call.ended_at:
        # Some bridges name who answered only on the hangup.
        call.answered_by = call.answered_by or match_agent(event.users, "")
    call.ended_at = max(happened, call.answered_at or happened)
    call.cause = event.cause
    _finish(call, record_end=True)


def _rang(call: Call, happened: datetime) -> None:
    # The ring is the earliest moment any event of the call names, so a newCall that
    # arrives late (or never) still leaves the right wait.
    call.started_at = min(call.started_at, happened) if call.started_at else happened


def _outcome(call: Call) -> str:
    if call.blocked:
        return "rejected"
    return outcome_for(
        answered=call.answered_at is not None,
        cause=call.cause,
        wait_seconds=call.wait_seconds or 0.0,
    )


def _finish(call: Call, *, record_end: bool = False) -> None:
    call.outcome = _outcome(call)
    if record_end and call.ticket_id is not None and call.ended_at:
        record(
            # Only the key is needed for the event: no need to load the ticket for it.
            Ticket(pk=call.ticket_id),
            "call.ended",
            actor=None,
            at=call.ended_at,
            **_facts(call),
        )


def _facts(call: Call) -> dict[str, object]:
    return {
        "call": call.call_id,
        "direction": call.direction,
        # The customer's number: the caller of an inbound call, the one called of an outbound.
        "from": call.caller or call.from_number,
        "routed_to": call.routed_to,
        "answered_by": call.answered_by.email if call.answered_by else None,
        "started_at": call.started_at.isoformat() if call.started_at else None,
        "answered_at": call.answered_at.isoformat() if call.answered_at else None,
        "ended_at": call.ended_at.isoformat() if call.ended_at else None,
        "wait_seconds": call.wait_seconds,
        "duration_seconds": call.duration_seconds,
        "outcome": call.outcome or None,
    }


def _who(call: Call) -> str:
    return call.caller or call.from_number or "a withheld number"


def _subject(call: Call) -> str:
    who = call.contact.display_name if call.contact else (call.caller or "a withheld number")
    org = f" ({call.organization.name})" if call.organization else ""
    return f"Phone call from {who}{org}"


_CONTACT_BY_ID = Prepared(
    lambda pk: User.objects.select_related("organization").filter(pk=pk)[:1], pk=int
)


def _read_caller(call: Call) -> None:
    """The call's contact and organization in one query, when the call was read from its
    row without them (the answer after a newCall)."""
    if call.contact_id is None or Call._meta.get_field("contact").is_cached(call):
        return
    contact = _CONTACT_BY_ID.first(pk=call.contact_id)
    call.contact = contact
    if contact is not None and contact.organization_id == call.organization_id:
        call.organization = contact.organization


def _put_on_case(call: Call, *, actor: User) -> None:
    """An answered inbound call is recorded on a case: its transfer origin's, or a new one
    opened now with the ring as its first contact (first response = ring to answer)."""
    if call.ticket_id is None:
        _read_caller(call)
        assert call.started_at is not None and call.answered_at is not None
        ticket = tickets.open_case(
            actor=actor,
            subject=_subject(call),
            description=f"Inbound call from {_who(call)} to {call.to_number or 'the line'}.",
            channel=Channel.PHONE,
            requester=call.contact,
            organization=call.organization,
            at=call.started_at,
            answered_at=call.answered_at,
            assignee=call.answered_by,
        )
        call.ticket = ticket
    assert call.ticket is not None and call.answered_at is not None
    record(
        call.ticket, "call.answered", actor=call.answered_by, at=call.answered_at, **_facts(call)
    )


# --- agents' actions ---------------------------------------------------------------------


@transaction.atomic
def attach_call(call: Call, *, actor: User, ticket: Ticket, at: datetime | None = None) -> Call:
    """Put an answered call on an open ticket: an inbound call instead of the case opened for
    it at answer (that case, when nothing else happened on it, is resolved with a note that
    says where the call went), or an agent's outbound call, which opens no case of its own."""
    if not actor.is_agent:
        raise Forbidden("Only agents attach calls to tickets.")
    at = at or now()
    if ticket.status not in ACTIVE:
        raise Conflict(f"{ticket.number} is {ticket.status}; attach calls to open tickets.")
    if call.ticket_id == ticket.pk:
        return call
    if call.answered_at is None:
        raise InvalidInput("Only an answered call goes on a ticket.", field="call")
    before = call.ticket
    call.ticket = ticket
    call.updated_at = at
    call.save(update_fields=["ticket", "updated_at"])
    Call.objects.filter(transferred_from=call).update(ticket=ticket)
    record(ticket, "call.attached", actor=actor, at=at, **_facts(call))
    if before is not None:
        record(before, "call.detached", actor=actor, at=at, call=call.call_id, to=ticket.number)
        untouched = not before.messages.exists() and not before.escalations.exists()
        if untouched and before.status in ACTIVE:
            tickets.add_note(
                before, actor=actor, body=f"The call was attached to {ticket.number}.", at=at
            )
            tickets.resolve(before, actor=actor, at=at)
    return call
