"""The rules of tickets. Every channel (API, desk, portal, mail, phone) calls these.

Each function is one transaction, takes `actor=` and explicit keyword arguments,
records an Event for every change and returns the changed object.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction

from caredesk.core.clock import now
from caredesk.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from caredesk.core.prepared import insert, update
from caredesk.people.models import Organization, User
from caredesk.servicemodel.cache import snapshot
from caredesk.servicemodel.choices import (
    CASE_TYPE,
    EMERGENCY_TEAM,
    Channel,
    Priority,
    Role,
)
from caredesk.servicemodel.models import Category, TicketCounter, TicketType
from caredesk.sla import services as clocks
from caredesk.status.models import Environment
from caredesk.tickets import triage
from caredesk.tickets.events import record
from caredesk.tickets.models import Attachment, IdempotencyKey, Message, Ticket, WorkOrder
from caredesk.tickets.states import ACTIVE, Status, can_move

MAX_SUBJECT = 300
# The longest text a person may type into the desk, the portal or the API (a bigger one is
# refused with a clear error; mail intake keeps its own limits).
MAX_TEXT = 100_000


# --- helpers -------------------------------------------------------------------------


def _require_agent(actor: User, action: str) -> None:
    if not actor.is_agent:
        raise Forbidden(f"Only agents may {action}.")


def _touch(ticket: Ticket, at: datetime, *fields: str) -> None:
    ticket.updated_at = at
    update(ticket, [*fields, "updated_at"])


def _choice(value: str | None, choices: type[Priority] | type[Channel], field: str) -> str:
    allowed = [c.value for c in choices]
    if value not in allowed:
        raise InvalidInput(
            f"Unknown {field} {value!r}; use one of {', '.join(allowed)}.", field=field
        )
    return value


def _next_number(ticket_type: TicketType) -> str:
    # One atomic increment of the type's counter row: the row stays locked until this
    # transaction ends, so two creators never take the same number (a rollback leaves a gap).
    table = TicketCounter._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET next_number = next_number + 1"  # noqa: S608 -- our table name
            " WHERE ticket_type_id = %s RETURNING next_number",
            [ticket_type.pk],
        )
        row = cursor.fetchone()
    if row is None:
        TicketCounter.objects.create(
            ticket_type=ticket_type, next_number=ticket_type.first_number + 1
        )
        return ticket_type.format_number(ticket_type.first_number)
    return ticket_type.format_number(row[0] - 1)


def _clean_text(value: str | None, field: str, *, required: bool, limit: int | None = None) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InvalidInput(f"The {field} must not be empty.", field=field)
    if "\x00" in text:
        raise InvalidInput(f"The {field} contains a NUL character.", field=field)
    if limit and len(text) > limit:
        raise InvalidInput(f"The {field} is longer than {limit} characters.", field=field)
    return text


def _clean_line(value: str | None, field: str, *, required: bool, limit: int | None = None) -> str:
    """A one-line field (a subject): line breaks, tabs and other control characters become
    single spaces, since the line ends up in mail headers and lists."""
    if value and "\x00" not in value:
        value = " ".join("".join(" " if ord(c) < 32 or c == "\x7f" else c for c in value).split())
    return _clean_text(value, field, required=required, limit=limit)


def _environment(key: str | None) -> Environment | None:
    if not key:
        return None
    env = Environment.objects.filter(pk=key).first()
    if env is None:
        raise InvalidInput(f"Unknown environment {key!r}.", field="environment")
    return env


def _new_ticket(
    *,
    ticket_type: TicketType,
    subject: str,
    description: str,
    priority: str,
    channel: str,
    at: datetime,
    **fields: Any,
) -> Ticket:
    ticket = Ticket(
        number=_next_number(ticket_type),
        type=ticket_type,
        team_id=ticket_type.team_id,
        subject=subject,
        description=description,
        priority=priority,
        channel=channel,
        created_at=at,
        updated_at=at,
        **fields,
    )
    insert(ticket)
    return ticket


# --- opening -------------------------------------------------------------------------


def idempotent_ticket(actor: User, key: str) -> Ticket | None:
    """The ticket an earlier request with this Idempotency-Key opened, if any."""
    known = IdempotencyKey.objects.filter(user=actor, key=key).select_related("ticket").first()
    return known.ticket if known else None


def open_case(
    *,
    actor: User,
    subject: str,
    description: str = "",
    channel: str,
    requester: User | None = None,
    organization: Organization | None = None,
    priority: str | None = None,
    environment: str | None = None,
    idempotency_key: str | None = None,
    at: datetime | None = None,
    answered_at: datetime | None = None,
    assignee: User | None = None,
) -> Ticket:
    """Open a Customer Care case: every inquiry starts as one.

    A phone call's case is opened at answer with `at` the ring and `answered_at` the answer,
    so its first-response clock measures ring to answer, and with `assignee` the
    representative who answered, when they may work it, in the same row."""
    at = at or now()
    if idempotency_key and (known := idempotent_ticket(actor, idempotency_key)):
        return known
    subject = _clean_line(subject, "subject", required=True, limit=MAX_SUBJECT)
    description = _clean_text(description, "description", required=False)
    channel = _choice(channel, Channel, "channel")
    priority = _choice(priority or snapshot().settings.default_priority, Priority, "priority")
    if not actor.is_agent:
        # A contact opens cases for themselves, in their own organization.
        if requester is not None and requester.pk != actor.pk:
            raise InvalidInput("A customer opens requests only for themselves.", field="requester")
        requester, organization = actor, actor.organization
    elif requester is not None and organization is None:
        organization = requester.organization
    if requester is not None and requester.is_agent:
        raise InvalidInput("The requester must be a customer contact.", field="requester")
    if (
        requester is not None
        and organization
        and requester.organization_id not in (None, organization.pk)
    ):
        raise InvalidInput("The requester belongs to another organization.", field="organization")
    case_type = snapshot().types.get(CASE_TYPE)
    if case_type is None:
        raise NotFound("The service model has no Customer Care ticket type; load a model first.")
    env = _environment(environment)
    if assignee is not None and not may_work_for(assignee, case_type.team_id):
        assignee = None  # who may not work the case leaves it in the team's queue
    # Every refusal comes before the writes, so a caller's transaction stays usable and the
    # writes need no savepoint of their own (two statements fewer on the busiest write);
    # only a request with an Idempotency-Key may have to undo them alone, below.
    clock = clocks.opening_clock(channel=channel, priority=priority, at=at, answered_at=answered_at)
    with transaction.atomic(savepoint=bool(idempotency_key)):
        ticket = _new_ticket(
            ticket_type=case_type,
            subject=subject,
            description=description,
            priority=priority,
            channel=channel,
            at=at,
            requester=requester,
            organization=organization,
            environment=env,
            assignee=assignee,
            sla_due_at=clocks.case_due(clock),
        )
        record(ticket, "ticket.opened", actor=actor, at=at, channel=channel, priority=priority)
        clocks.case_opened(ticket, clock)
        if assignee is not None:
            # A new case has no escalation clock for the assignment to meet.
            record(
                ticket,
                "ticket.assigned",
                actor=assignee,
                at=answered_at or at,
                before=None,
                after=assignee.email,
            )
        if idempotency_key:
            try:
                with transaction.atomic():
                    IdempotencyKey.objects.create(user=actor, key=idempotency_key, ticket=ticket)
            except IntegrityError:
                # A concurrent request with the same key won: read its ticket first (no query
                # may run once the block is marked for rollback), then drop the case opened
                # here.
                winner = IdempotencyKey.objects.select_related("ticket").get(
                    user=actor, key=idempotency_key
                )
                transaction.set_rollback(True)
                return winner.ticket
    return ticket


# --- conversation ----------------------------------------------------------------------


def _uploads(files: Iterable[UploadedFile]) -> list[UploadedFile]:
    """The files to attach, refused before anything is written."""
    from django.conf import settings

    uploads = list(files)
    for upload in uploads:
        if upload.size is None or upload.size > settings.MAX_ATTACHMENT_BYTES:
            raise InvalidInput(f"The attachment {upload.name!r} is too large.", field="attachments")
    return uploads


def _attach(message: Message, uploads: list[UploadedFile]) -> None:
    for upload in uploads:
        name = safe_filename(upload.name or "attachment")
        # Stored under the cleaned name too: the sender's name may climb folders ("..\\").
        upload.name = name
        Attachment.objects.create(
            message=message,
            file=upload,
            filename=name,
            content_type=upload.content_type or "application/octet-stream",
            size=upload.size or 0,  # checked by _uploads
        )


def safe_filename(name: str) -> str:
    """A file name with no path, control or direction-override characters."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        ch
        for ch in name
        if ch.isprintable() and ch not in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    )
    name = name.strip(" .")
    return name[:200] or "attachment"


@transaction.atomic
def reply(
    ticket: Ticket,
    *,
    actor: User,
    body: str,
    channel: str = Channel.API,
    attachments: Iterable[UploadedFile] = (),
    at: datetime | None = None,
) -> Message:
    """A public message on the ticket: an agent's answer or the customer's reply."""
    at = at or now()
    body = _clean_text(body, "body", required=True)
    channel = _choice(channel, Channel, "channel")
    if ticket.status == Status.CLOSED:
        raise Conflict(f"{ticket.number} is closed; open a new request instead.", field="status")
    uploads = _uploads(attachments)
    message = Message(
        ticket=ticket,
        kind=Message.Kind.REPLY,
        author=actor,
        channel=channel,
        body=body,
        created_at=at,
    )
    insert(message)
    _attach(message, uploads)
    record(ticket, "ticket.replied", actor=actor, at=at, message=message.pk, channel=channel)
    clocks.public_reply(ticket, actor=actor, at=at)
    # An agent's reply goes to the customer by email; the mail app holds that rule.
    from caredesk.mail.outbound import queue_reply

    queue_reply(message)
    if actor.is_agent:
        if ticket.status == Status.NEW:
            _move(ticket, Status.OPEN, actor=actor, at=at)
    elif ticket.status in (Status.WAITING_ON_CUSTOMER, Status.RESOLVED):
        # The customer wrote back: the ticket needs an agent again.
        _move(ticket, Status.OPEN, actor=actor, at=at)
    _touch(ticket, at)
    return message


@transaction.atomic
def add_note(
    ticket: Ticket,
    *,
    actor: User,
    body: str,
    attachments: Iterable[UploadedFile] = (),
    at: datetime | None = None,
) -> Message:
    """An internal note: agents only, never shown to the customer."""
    _require_agent(actor, "write internal notes")
    at = at or now()
    body = _clean_text(body, "body", required=True)
    uploads = _uploads(attachments)
    message = Message(
        ticket=ticket,
        kind=Message.Kind.NOTE,
        author=actor,
        channel=Channel.API,
        body=body,
        created_at=at,
    )
    insert(message)
    _attach(message, uploads)
    record(ticket, "ticket.noted", actor=actor, at=at, message=message.pk)
    _touch(ticket, at)
    return message


# --- status ------------------------------------------------------------------------------


def _move(ticket: Ticket, target: str, *, actor: User, at: datetime, **data: Any) -> None:
    if ticket.status == target:
        return
    if not can_move(ticket.status, target):
        raise Conflict(
            f"{ticket.number} cannot go from {ticket.status} to {target}.", field="status"
        )
    if target == Status.ESCALATED and not ticket.is_case:
        raise Conflict("Only a Customer Care case waits as escalated.", field="status")
    before = ticket.status
    ticket.status = target
    if target == Status.RESOLVED:
        ticket.resolved_at = at
    elif target == Status.CLOSED:
        ticket.closed_at = at
    elif before == Status.RESOLVED:
        ticket.resolved_at = None
    _touch(ticket, at, "status", "resolved_at", "closed_at")
    record(ticket, "ticket.status_changed", actor=actor, at=at, before=before, after=target, **data)
    clocks.status_changed(ticket, before=before, after=target, at=at)


@transaction.atomic
def set_status(ticket: Ticket, *, actor: User, status: str, at: datetime | None = None) -> Ticket:
    _require_agent(actor, "change a ticket's status")
    allowed = [s.value for s in Status]
    if status not in allowed:
        raise InvalidInput(
            f"Unknown status {status!r}; use one of {', '.join(allowed)}.", field="status"
        )
    if status == Status.ESCALATED:
        raise Conflict("A case becomes escalated by escalating it.", field="status")
    if status == Status.RESOLVED:
        return resolve(ticket, actor=actor, at=at)
    _move(ticket, status, actor=actor, at=at or now())
    return ticket


@transaction.atomic
def resolve(ticket: Ticket, *, actor: User, at: datetime | None = None) -> Ticket:
    _require_agent(actor, "resolve tickets")
    at = at or now()
    if ticket.category_id and ticket.category and ticket.category.work_order:
        order = WorkOrder.objects.filter(ticket=ticket).first()
        if order is None or order.state != WorkOrder.State.DONE:
            state = order.state if order else "missing"
            raise Conflict(
                f"{ticket.number} needs an approved Work Order that is done before it is resolved"
                f" (the work order is {state}).",
                field="work_order",
            )
    _move(ticket, Status.RESOLVED, actor=actor, at=at)
    if ticket.origin_id:
        _release_origin(ticket, ticket.origin_id, actor=actor, at=at)
    return ticket


def _release_origin(ticket: Ticket, origin_id: int, *, actor: User, at: datetime) -> None:
    """When a case's last open escalation resolves, the case is back with Customer Care."""
    case = Ticket.objects.select_for_update().get(pk=origin_id)
    still_open = case.escalations.filter(status__in=ACTIVE).exists()
    if case.status == Status.ESCALATED and not still_open:
        _move(case, Status.OPEN, actor=actor, at=at, escalation=ticket.number)


@transaction.atomic
def close(ticket: Ticket, *, actor: User, at: datetime | None = None) -> Ticket:
    _require_agent(actor, "close tickets")
    _move(ticket, Status.CLOSED, actor=actor, at=at or now())
    return ticket


@transaction.atomic
def reopen(ticket: Ticket, *, actor: User, at: datetime | None = None) -> Ticket:
    if ticket.status != Status.RESOLVED:
        raise Conflict(
            f"Only a resolved ticket can be reopened; {ticket.number} is {ticket.status}.",
            field="status",
        )
    _move(ticket, Status.OPEN, actor=actor, at=at or now())
    return ticket


# --- people on the ticket -------------------------------------------------------------------


def may_work(agent: User, ticket: Ticket) -> bool:
    """An agent of the owning team, or an Emergency Care member (who covers every team)."""
    return may_work_for(agent, ticket.team_id)


def may_work_for(agent: User, team_id: str) -> bool:
    """`may_work` for a ticket of this team, before the ticket exists."""
    if not agent.is_active or not agent.is_agent:
        return False
    return (
        agent.team_id == team_id or agent.team_id == EMERGENCY_TEAM or agent.role == Role.EMERGENCY
    )


@transaction.atomic
def assign(
    ticket: Ticket, *, actor: User, agent: User | None, at: datetime | None = None
) -> Ticket:
    _require_agent(actor, "assign tickets")
    at = at or now()
    if agent is not None and not may_work(agent, ticket):
        raise InvalidInput(
            f"{agent.email} is not an agent of {ticket.team.name}; assign {ticket.number} to a"
            " member of the owning team or Emergency Care.",
            field="agent",
        )
    before = ticket.assignee.email if ticket.assignee else None
    ticket.assignee = agent
    after = agent.email if agent else None
    if before == after:
        return ticket
    _touch(ticket, at, "assignee")
    record(ticket, "ticket.assigned", actor=actor, at=at, before=before, after=after)
    clocks.assigned(ticket, agent=agent, at=at)
    return ticket


@transaction.atomic
def set_priority(
    ticket: Ticket, *, actor: User, priority: str, at: datetime | None = None
) -> Ticket:
    _require_agent(actor, "change priorities")
    priority = _choice(priority, Priority, "priority")
    if priority == ticket.priority:
        return ticket
    at = at or now()
    before, ticket.priority = ticket.priority, priority
    _touch(ticket, at, "priority")
    record(ticket, "ticket.priority_changed", actor=actor, at=at, before=before, after=priority)
    clocks.priority_changed(ticket, at=at)
    return ticket


# --- escalation ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Triage:
    to: str | None
    category: str | None
    reason: str


def suggest_path(text: str) -> Triage:
    """The likely escalation path for an inquiry, with its reason, from the model's keywords."""
    types = list(TicketType.objects.filter(escalation=True))
    categories = {c.key: (c.ticket_type_id, c.keywords) for c in Category.objects.all()}
    found = triage.suggest(
        text, paths={t.key: t.triage_keywords for t in types}, categories=categories
    )
    if found.to is None:
        return Triage(None, None, found.reason)
    name = next(t.name for t in types if t.key == found.to)
    return Triage(
        found.to, found.category, f"Likely {name}: {found.reason[0].lower()}{found.reason[1:]}"
    )


@transaction.atomic
def escalate(
    case: Ticket,
    *,
    actor: User,
    to: str,
    reason: str,
    category: str | None = None,
    priority: str | None = None,
    at: datetime | None = None,
) -> Ticket:
    """Escalate a case to Technical Support or Project Coordination: opens the escalated ticket."""
    _require_agent(actor, "escalate cases")
    at = at or now()
    if not case.is_case:
        raise Conflict(
            f"{case.number} is not a Customer Care case; only cases are escalated.", field="number"
        )
    if case.status not in ACTIVE:
        raise Conflict(
            f"{case.number} is {case.status}; reopen it before escalating.", field="status"
        )
    target = TicketType.objects.filter(pk=to, escalation=True).first()
    if target is None:
        paths = ", ".join(TicketType.objects.filter(escalation=True).values_list("key", flat=True))
        raise InvalidInput(f"Unknown escalation path {to!r}; use one of {paths}.", field="to")
    reason = _clean_text(reason, "reason", required=True)
    chosen = None
    if category:
        chosen = Category.objects.filter(pk=category).first()
        if chosen is None or chosen.ticket_type_id != target.key:
            keys = ", ".join(target.categories.values_list("key", flat=True)) or "none"
            raise InvalidInput(
                f"Unknown category {category!r} for {target.name}; use one of {keys}.",
                field="category",
            )
    elif target.categories.exists():
        keys = ", ".join(target.categories.values_list("key", flat=True))
        raise InvalidInput(f"Choose a {target.name} category: {keys}.", field="category")
    ticket = _new_ticket(
        ticket_type=target,
        subject=case.subject,
        description=case.description,
        priority=_choice(priority or case.priority, Priority, "priority"),
        channel=case.channel,
        at=at,
        requester_id=case.requester_id,
        organization_id=case.organization_id,
        environment_id=case.environment_id,
        category=chosen,
        origin=case,
        escalation_reason=reason,
    )
    record(
        ticket,
        "ticket.opened",
        actor=actor,
        at=at,
        origin=case.number,
        reason=reason,
        category=category,
        channel=case.channel,
        priority=ticket.priority,
    )
    record(
        case,
        "ticket.escalated",
        actor=actor,
        at=at,
        ticket=ticket.number,
        to=target.key,
        reason=reason,
    )
    clocks.escalated(case, ticket, at=at)
    _move(case, Status.ESCALATED, actor=actor, at=at, escalation=ticket.number)
    return ticket
