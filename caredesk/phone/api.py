"""Call events in the generic CTI convention (POST /api/v1/cti/<token>) and GET /api/v1/calls."""

from __future__ import annotations

import hmac
import json
from datetime import date, datetime

from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Field, Query, Router, Schema

from caredesk.api.auth import TokenAuth, agent_of
from caredesk.api.schemas import ErrorOut
from caredesk.core.errors import DomainError, InvalidInput, NotFound
from caredesk.core.pagination import keyset_page
from caredesk.people.services import _digest, token_user
from caredesk.phone import cti, service_level, services
from caredesk.phone.access import visible_calls
from caredesk.phone.models import Call, CallOutcome
from caredesk.tickets.access import get_ticket

router = Router(tags=["phone"])
# A CTI event is a dozen short fields; anything much bigger is not one.
MAX_EVENT_BYTES = 16 * 1024
_INTAKE = TokenAuth("intake")

CTI_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            media: {
                "schema": {
                    "type": "object",
                    "required": ["event", "callId"],
                    "properties": {
                        "event": {"type": "string", "enum": list(cti.EVENTS)},
                        "callId": {"type": "string", "maxLength": cti.MAX_FIELD},
                        "direction": {"type": "string", "enum": list(cti.DIRECTIONS)},
                        "from": {"type": "string"},
                        "to": {"type": "string"},
                        "user[]": {"type": "array", "items": {"type": "string"}},
                        "queue": {"type": "string"},
                        "answeringNumber": {"type": "string"},
                        "cause": {"type": "string"},
                        "timestamp": {"type": "string"},
                        "origCallId": {"type": "string"},
                    },
                }
            }
            for media in ("application/x-www-form-urlencoded", "application/json")
        },
    }
}


def _error(message: str, field: str | None, status: int) -> JsonResponse:
    return JsonResponse({"message": message, "field": field}, status=status)


def _fields(request: HttpRequest) -> dict[str, list[str]]:
    """The request's fields, each a list of strings, from a form or a JSON body."""
    kind = (request.content_type or "").lower()
    if kind == "application/json":
        try:
            data = json.loads(request.body or b"null")
        except (ValueError, UnicodeDecodeError):
            raise InvalidInput("The body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise InvalidInput("The body must be a JSON object of CTI fields.")
        fields: dict[str, list[str]] = {}
        for key, value in data.items():
            values = value if isinstance(value, list) else [value]
            if any(isinstance(v, dict | list) for v in values):
                raise InvalidInput(f"{key} must be a string.", field=str(key))
            fields[str(key)] = ["" if v is None else str(v) for v in values]
        return fields
    if kind in ("application/x-www-form-urlencoded", "multipart/form-data", ""):
        return {key: request.POST.getlist(key) for key in request.POST}
    raise InvalidInput(
        "Send the event as application/x-www-form-urlencoded or application/json.",
        field="content-type",
    )


@router.post(
    "/cti/{token}",
    auth=None,
    response={200: dict, 401: ErrorOut, 403: ErrorOut, 413: ErrorOut, 422: ErrorOut},
    summary="Receive a call event (generic CTI)",
    openapi_extra=CTI_BODY,
)
def cti_event(request: HttpRequest, token: str) -> HttpResponse:
    """A PBX's call event: `newCall`, `answer` or `hangup`, as a form or JSON, in the
    convention sipgate defined and Zammad adopted (`callId`, `direction`, `from`, `to`,
    `user[]`, `queue`, `answeringNumber`, `cause`; optional `timestamp`, `origCallId`).
    The URL carries an intake token. Answers `{}`, or for an inbound newCall
    `{"action": "dial", "queue": …}` naming where caredesk routed it. A repeated event
    answers as the first did and changes nothing."""
    found = token_user(token)
    # The lookup compares keyed digests, never the secret; the final check is constant-time.
    if found is None or not hmac.compare_digest(found.digest, _digest(token)):
        return _error("Unknown or revoked token in the CTI URL.", "token", 401)
    if not _INTAKE.allows(found.scope, "POST"):
        return _error(f"This token's scope ({found.scope}) is not intake.", "token", 403)
    length = request.headers.get("Content-Length", "")
    if (length.isdigit() and int(length) > MAX_EVENT_BYTES) or len(request.body) > MAX_EVENT_BYTES:
        return _error(f"A call event is at most {MAX_EVENT_BYTES} bytes.", None, 413)
    try:
        event = cti.parse(_fields(request))
        done = services.receive(event, actor=found.user)
    except DomainError as err:
        return _error(err.message, err.field, err.status)
    return JsonResponse(done.reply)


# --- the call log ----------------------------------------------------------------------------


class CallFilters(Schema):
    since: datetime | None = Field(None, alias="from", description="Rang at or after")
    until: datetime | None = Field(None, alias="to", description="Rang before")
    queue: str | None = None
    outcome: str | None = None
    routed_to: str | None = None
    limit: int | None = None
    cursor: str | None = None


class CallOut(Schema):
    call_id: str
    direction: str
    from_: str = Field(..., alias="from")
    to: str
    caller: str
    contact: str | None
    organization: str | None
    queue: str
    routed_to: str
    overflow: bool
    emergency_hours: bool
    started_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    answered_by: str | None
    wait_seconds: float | None
    duration_seconds: float | None
    outcome: str | None
    cause: str
    ticket: str | None
    transferred_from: str | None


class CallPage(Schema):
    items: list[CallOut]
    next: str | None


def call_json(call: Call) -> dict[str, object]:
    return {
        "call_id": call.call_id,
        "direction": call.direction,
        "from": call.from_number,
        "to": call.to_number,
        "caller": call.caller,
        "contact": call.contact.email if call.contact else None,
        "organization": call.organization.key if call.organization else None,
        "queue": call.queue,
        "routed_to": call.routed_to,
        "overflow": call.overflow,
        "emergency_hours": call.emergency_hours,
        "started_at": call.started_at,
        "answered_at": call.answered_at,
        "ended_at": call.ended_at,
        "answered_by": call.answered_by.email if call.answered_by else None,
        "wait_seconds": call.wait_seconds,
        "duration_seconds": call.duration_seconds,
        "outcome": call.outcome or None,
        "cause": call.cause,
        "ticket": call.ticket.number if call.ticket else None,
        "transferred_from": call.transferred_from.call_id if call.transferred_from else None,
    }


@router.get(
    "/calls",
    response={200: CallPage, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    by_alias=True,
    summary="List calls",
)
def list_calls(request: HttpRequest, filters: Query[CallFilters]) -> dict[str, object]:
    """Newest first; `from`/`to` bound the ring time; `queue`, `routed_to` and `outcome`
    filter; `next` is the cursor of the following page."""
    calls = visible_calls(agent_of(request))
    if filters.outcome:
        if filters.outcome not in CallOutcome.values:
            raise InvalidInput(
                f"Unknown outcome {filters.outcome!r}; use one of {', '.join(CallOutcome.values)}.",
                field="outcome",
            )
        calls = calls.filter(outcome=filters.outcome)
    if filters.queue:
        calls = calls.filter(queue=filters.queue)
    if filters.routed_to:
        calls = calls.filter(routed_to=filters.routed_to)
    if filters.since:
        calls = calls.filter(started_at__gte=filters.since)
    if filters.until:
        calls = calls.filter(started_at__lt=filters.until)
    rows, next_cursor = keyset_page(
        calls.select_related(
            "contact", "organization", "answered_by", "ticket", "transferred_from"
        ),
        limit=filters.limit,
        cursor=filters.cursor,
    )
    return {"items": [call_json(c) for c in rows], "next": next_cursor}


class AttachIn(Schema):
    ticket: str = Field(..., description="The open ticket's number, e.g. CASE-100")


@router.post(
    "/calls/{call_id}/attach",
    response={
        200: CallOut,
        400: ErrorOut,
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        422: ErrorOut,
    },
    by_alias=True,
    summary="Attach a call to an open ticket",
)
def attach(request: HttpRequest, call_id: str, body: AttachIn) -> dict[str, object]:
    """Record an answered call on an open ticket: an inbound call instead of the case opened
    for it at answer (that case is resolved with a note when nothing else happened on it),
    or an agent's outbound call, which opens no case of its own."""
    user = agent_of(request)
    call = visible_calls(user).filter(call_id=call_id).first()
    if call is None:
        raise NotFound(f"No call {call_id}.", field="call_id")
    ticket = get_ticket(user, body.ticket)
    services.attach_call(call, actor=user, ticket=ticket)
    fresh = (
        visible_calls(user)
        .select_related("contact", "organization", "answered_by", "ticket", "transferred_from")
        .get(pk=call.pk)
    )
    return call_json(fresh)


# --- service level ---------------------------------------------------------------------------


class LevelQuery(Schema):
    first: date | None = Field(None, alias="from", description="First day, in the model's zone")
    last: date | None = Field(None, alias="to", description="Last day (inclusive)")
    interval: int = Field(30, description="Minutes per interval: 15, 30 or 60")
    queue: str | None = None


class FiguresOut(Schema):
    interval: str
    queue: str
    routed_to: str
    offered: int
    answered: int
    answered_in_target: int
    abandoned: int
    short_abandoned: int
    other_missed: int
    asa_seconds: float | None
    handle_seconds: float | None
    service_level: float | None
    agents_needed: int | None


class LevelOut(Schema):
    first: date = Field(..., alias="from")
    last: date = Field(..., alias="to")
    interval_minutes: int
    time_zone: str
    at: datetime
    target_seconds: float
    goal_percent: float
    rows: list[FiguresOut]
    totals: list[FiguresOut]
    overall: FiguresOut


def _level(request: HttpRequest, query: LevelQuery) -> service_level.ServiceLevel:
    agent_of(request)
    return service_level.compute(
        first=query.first, last=query.last, interval=query.interval, queue=query.queue
    )


@router.get(
    "/calls/service-level",
    response={200: LevelOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    by_alias=True,
    summary="Answer-time service level",
)
def level(request: HttpRequest, query: Query[LevelQuery]) -> dict[str, object]:
    """Offered, answered, abandoned (short abandons under 5 s apart and not offered),
    average speed of answer and the share answered within 30 s (abandons are misses), per
    interval, queue and staffing (`routed_to`: customer-care on site, emergency-care), with
    the agents each interval needs by Erlang C to answer 80% within 30 s."""
    return _level(request, query).as_dict()


@router.get(
    "/calls/service-level.csv",
    response={200: None, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Service level as CSV",
)
def level_csv(request: HttpRequest, query: Query[LevelQuery]) -> HttpResponse:
    """The same rows as CSV; cells a spreadsheet would run as formulas are quoted."""
    report = _level(request, query)
    response = HttpResponse(service_level.as_csv(report), content_type="text/csv; charset=utf-8")
    name = f"service-level-{report.first_day}-{report.last_day}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
