"""Tickets in the REST API: thin adapters over tickets.services."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from ninja import Field, Header, Query, Router, Schema, Status

from caredesk.api.schemas import (
    AssignIn,
    ErrorOut,
    EscalateIn,
    EventPage,
    MessageIn,
    MessageOut,
    MessagePage,
    PriorityIn,
    StatusIn,
    TicketIn,
    TicketOut,
    TicketPage,
    TriageOut,
    WorkOrderIn,
    WorkOrderOut,
    event_json,
    message_json,
    ticket_json,
    work_order_json,
)
from caredesk.core.errors import InvalidInput, NotFound
from caredesk.core.pagination import MAX_LIMIT, keyset_page
from caredesk.people import services as people
from caredesk.people.access import visible_agents, visible_organizations
from caredesk.people.models import User
from caredesk.servicemodel.choices import Priority
from caredesk.servicemodel.models import Team, TicketType
from caredesk.sla.models import Clock
from caredesk.tickets import services, work_orders
from caredesk.tickets.access import (
    fresh_ticket,
    get_attachment,
    get_ticket,
    visible_events,
    visible_messages,
    visible_tickets,
    work_order_of,
)
from caredesk.tickets.downloads import attachment_response
from caredesk.tickets.models import Ticket
from caredesk.tickets.states import Status as TicketStatus

router = Router(tags=["tickets"])
ERRORS: dict[int, type[Schema]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ErrorOut,
}


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _with_relations(tickets: QuerySet[Ticket], user: User) -> QuerySet[Ticket]:
    # Escalation numbers go straight into a list: one small query per page, without the
    # related-manager queryset per ticket that a plain prefetch builds (a third of a page's time).
    escalations = Prefetch(
        "escalations",
        queryset=visible_tickets(user).only("id", "number", "origin").order_by("id"),
        to_attr="escalation_list",
    )
    # Of each related row the JSON shows one column; loading only that one takes a third off
    # a page. Reading another related field in ticket_json costs a query per row: add it here.
    columns = [f.name for f in Ticket._meta.concrete_fields]
    columns += ["assignee__email", "requester__email", "organization__key", "origin__number"]
    clocks = Prefetch("clocks", queryset=Clock.objects.order_by("id"), to_attr="clock_list")
    return (
        tickets.select_related("assignee", "requester", "organization", "origin")
        .only(*columns)
        .prefetch_related(escalations, clocks)
    )


def _one(request: HttpRequest, number: str) -> Ticket:
    return get_ticket(_user(request), number)


def _fresh(request: HttpRequest, ticket: Ticket) -> dict[str, object]:
    user = _user(request)
    return ticket_json(_with_relations(fresh_ticket(user, ticket), user).get())


class TicketFilters(Schema):
    type: str | None = None
    team: str | None = None
    status: str | None = None
    priority: str | None = None
    assignee: str | None = None
    organization: str | None = None
    text: str | None = None
    limit: int | None = Field(None, ge=1, le=MAX_LIMIT)
    cursor: str | None = None


def _check_filters(filters: TicketFilters) -> None:
    """A misspelt filter answers an error naming it, not an empty list that looks like an answer."""
    known: dict[str, Callable[[], list[str]]] = {
        "type": lambda: list(TicketType.objects.values_list("key", flat=True)),
        "team": lambda: list(Team.objects.values_list("key", flat=True)),
        "status": lambda: list(TicketStatus.values),
        "priority": lambda: list(Priority.values),
    }
    for name, allowed in known.items():
        value = getattr(filters, name)
        if value and value not in (choices := allowed()):
            raise InvalidInput(
                f"Unknown {name} {value!r}; use one of {', '.join(choices)}.", field=name
            )


@router.get("/tickets", response={200: TicketPage, **ERRORS}, summary="List tickets")
def list_tickets(request: HttpRequest, filters: Query[TicketFilters]) -> dict[str, object]:
    """Newest first; filters combine; `next` is the cursor of the following page."""
    tickets = visible_tickets(_user(request))
    _check_filters(filters)
    for name in ("type", "team", "status", "priority"):
        value = getattr(filters, name)
        if value:
            tickets = tickets.filter(**{f"{name}_id" if name in ("type", "team") else name: value})
    if filters.assignee:
        if filters.assignee == "none":
            tickets = tickets.filter(assignee__isnull=True)
        else:
            agents = visible_agents(_user(request))
            agent = agents.filter(email=filters.assignee.lower()).only("id").first()
            tickets = tickets.filter(assignee_id=agent.pk if agent else 0)
    if filters.organization:
        orgs = visible_organizations(_user(request))
        org = orgs.filter(key=filters.organization).only("id").first()
        tickets = tickets.filter(organization_id=org.pk if org else 0)
    if filters.text:
        text = filters.text.strip()
        tickets = tickets.filter(Q(number=text) | Q(subject__icontains=text))
    rows, next_cursor = keyset_page(
        _with_relations(tickets, _user(request)), limit=filters.limit, cursor=filters.cursor
    )
    return {"items": [ticket_json(t) for t in rows], "next": next_cursor}


@router.post("/tickets", response={201: TicketOut, 200: TicketOut, **ERRORS}, summary="Open a case")
def create_ticket(
    request: HttpRequest,
    payload: TicketIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
) -> Status[dict[str, object]]:
    """Every inquiry opens a Customer Care case. A repeated `Idempotency-Key` answers the
    case the first request opened, with status 200."""
    actor = _user(request)
    if idempotency_key and len(idempotency_key) > 200:
        raise InvalidInput(
            "The Idempotency-Key is longer than 200 characters.", field="Idempotency-Key"
        )
    if idempotency_key and (known := services.idempotent_ticket(actor, idempotency_key)):
        return Status(200, _fresh(request, known))
    # One transaction: a new requester is not left behind when the case is refused.
    with transaction.atomic():
        requester = organization = None
        if actor.is_agent:
            if payload.organization:
                orgs = visible_organizations(actor)
                organization = orgs.filter(key=payload.organization).first()
                if organization is None:
                    raise InvalidInput(
                        f"Unknown organization {payload.organization!r}.", field="organization"
                    )
            if payload.requester:
                requester = people.find_or_create_contact(
                    payload.requester, name=payload.requester_name, organization=organization
                )
        elif payload.requester or payload.organization:
            raise InvalidInput("A customer opens requests for themselves only.", field="requester")
        ticket = services.open_case(
            actor=actor,
            subject=payload.subject,
            description=payload.description,
            channel=payload.channel,
            requester=requester,
            organization=organization,
            priority=payload.priority,
            environment=payload.environment,
            idempotency_key=idempotency_key,
        )
    # The new case holds its requester and organization already: answer from it rather
    # than reading it back (three queries fewer on the busiest write). A case still "new"
    # has no escalations: escalating moves it on, and nothing moves a ticket back to new.
    none_yet: list[str] | None = [] if ticket.status == TicketStatus.NEW else None
    return Status(201, ticket_json(ticket, escalations=none_yet))


@router.get("/tickets/{number}", response={200: TicketOut, **ERRORS}, summary="One ticket")
def get_one(request: HttpRequest, number: str) -> dict[str, object]:
    user = _user(request)
    ticket = _with_relations(visible_tickets(user), user).filter(number=number).first()
    if ticket is None:
        raise NotFound(f"No ticket {number}.", field="number")
    return ticket_json(ticket)


@router.get("/tickets/{number}/messages", response={200: MessagePage, **ERRORS}, summary="Messages")
def list_messages(
    request: HttpRequest,
    number: str,
    limit: int | None = Query(None, ge=1, le=MAX_LIMIT),
    cursor: str | None = None,
) -> dict[str, object]:
    """Oldest first. Customers see public replies only, never internal notes."""
    ticket = _one(request, number)
    rows, next_cursor = keyset_page(
        visible_messages(_user(request), ticket)
        .select_related("author")
        .prefetch_related("attachments"),
        limit=limit,
        cursor=cursor,
        newest_first=False,
    )
    return {"items": [message_json(m) for m in rows], "next": next_cursor}


@router.get(
    "/attachments/{attachment_id}",
    response={200: None, **ERRORS},
    summary="Download an attachment",
    openapi_extra={
        "responses": {
            "200": {
                "description": "The file, always as a download",
                "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def download_attachment(request: HttpRequest, attachment_id: int) -> HttpResponseBase:
    """An attachment of a message the token's user may read; served with
    `Content-Disposition: attachment` and `X-Content-Type-Options: nosniff`."""
    return attachment_response(get_attachment(_user(request), attachment_id))


@router.post("/tickets/{number}/replies", response={201: MessageOut, **ERRORS}, summary="Reply")
def post_reply(request: HttpRequest, number: str, payload: MessageIn) -> Status[dict[str, object]]:
    message = services.reply(_one(request, number), actor=_user(request), body=payload.body)
    return Status(201, message_json(message))


@router.post(
    "/tickets/{number}/notes", response={201: MessageOut, **ERRORS}, summary="Internal note"
)
def post_note(request: HttpRequest, number: str, payload: MessageIn) -> Status[dict[str, object]]:
    message = services.add_note(_one(request, number), actor=_user(request), body=payload.body)
    return Status(201, message_json(message))


@router.post(
    "/tickets/{number}/escalate", response={201: TicketOut, **ERRORS}, summary="Escalate a case"
)
def post_escalate(
    request: HttpRequest, number: str, payload: EscalateIn
) -> Status[dict[str, object]]:
    """Opens the Technical Support or Project Coordination ticket; its `origin` is the case."""
    escalated = services.escalate(
        _one(request, number),
        actor=_user(request),
        to=payload.to,
        reason=payload.reason,
        category=payload.category,
        priority=payload.priority,
    )
    return Status(201, _fresh(request, escalated))


@router.get(
    "/tickets/{number}/triage", response={200: TriageOut, **ERRORS}, summary="Triage suggestion"
)
def get_triage(request: HttpRequest, number: str) -> dict[str, object]:
    ticket = _one(request, number)
    if not _user(request).is_agent:
        raise NotFound(f"No triage for {number}.", field="number")
    found = services.suggest_path(f"{ticket.subject}\n{ticket.description}")
    return {"to": found.to, "category": found.category, "reason": found.reason}


@router.post("/tickets/{number}/assign", response={200: TicketOut, **ERRORS}, summary="Assign")
def post_assign(request: HttpRequest, number: str, payload: AssignIn) -> dict[str, object]:
    actor = _user(request)
    ticket = _one(request, number)
    agent = None
    if payload.agent:
        agents = visible_agents(actor).filter(is_active=True)
        agent = agents.filter(email=payload.agent.strip().lower()).first()
        if agent is None or not agent.is_agent:
            raise InvalidInput(f"No agent {payload.agent}.", field="agent")
    return _fresh(request, services.assign(ticket, actor=actor, agent=agent))


@router.post(
    "/tickets/{number}/priority", response={200: TicketOut, **ERRORS}, summary="Set priority"
)
def post_priority(request: HttpRequest, number: str, payload: PriorityIn) -> dict[str, object]:
    ticket = services.set_priority(
        _one(request, number), actor=_user(request), priority=payload.priority
    )
    return _fresh(request, ticket)


@router.post("/tickets/{number}/status", response={200: TicketOut, **ERRORS}, summary="Set status")
def post_status(request: HttpRequest, number: str, payload: StatusIn) -> dict[str, object]:
    ticket = _one(request, number)
    actor = _user(request)
    if payload.status == "open" and ticket.status == "resolved":
        services.reopen(ticket, actor=actor)
    elif payload.status == "closed":
        services.close(ticket, actor=actor)
    else:
        services.set_status(ticket, actor=actor, status=payload.status)
    return _fresh(request, ticket)


@router.get(
    "/tickets/{number}/work-order", response={200: WorkOrderOut, **ERRORS}, summary="Work order"
)
def get_work_order(request: HttpRequest, number: str) -> dict[str, object]:
    ticket = _one(request, number)
    order = work_order_of(_user(request), ticket)
    if order is None:
        raise NotFound(f"{number} has no work order.", field="number")
    return work_order_json(order)


@router.post(
    "/tickets/{number}/work-order", response={200: WorkOrderOut, **ERRORS}, summary="Work order"
)
def post_work_order(request: HttpRequest, number: str, payload: WorkOrderIn) -> dict[str, object]:
    """`draft` creates or edits the order; `send`, `approve`, `decline`, `revise`, `schedule`
    (with `scheduled_for`) and `done` move it along."""
    ticket = _one(request, number)
    actor = _user(request)
    if payload.action == "draft":
        order = work_orders.draft_work_order(
            ticket,
            actor=actor,
            scope=payload.scope,
            requested_by=payload.requested_by,
            estimate=payload.estimate,
        )
    else:
        order = work_orders.move_work_order(
            ticket,
            actor=actor,
            action=payload.action,
            note=payload.note,
            scheduled_for=payload.scheduled_for,
        )
    return work_order_json(order)


@router.get("/tickets/{number}/events", response={200: EventPage, **ERRORS}, summary="Events")
def list_events(
    request: HttpRequest,
    number: str,
    limit: int | None = Query(None, ge=1, le=MAX_LIMIT),
    cursor: str | None = None,
) -> dict[str, object]:
    """The ticket's append-only history, oldest first (agents only: it holds internal notes)."""
    ticket = _one(request, number)
    if not _user(request).is_agent:
        raise NotFound(f"No events for {number}.", field="number")
    events = visible_events(_user(request), ticket).select_related("actor")
    rows, next_cursor = keyset_page(events, limit=limit, cursor=cursor, newest_first=False)
    return {"items": [event_json(e) for e in rows], "next": next_cursor}
