"""Email over HTTP: intake (POST /api/v1/inbound/email), and who is copied on a ticket's
email replies (/api/v1/tickets/{number}/copies)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from caredesk.api.auth import TokenAuth, agent_of
from caredesk.api.schemas import ErrorOut
from caredesk.mail import ccs
from caredesk.mail.intake import ingest
from caredesk.people.models import User
from caredesk.tickets.access import get_ticket
from caredesk.tickets.models import Ticket

router = Router(tags=["email"])


class IntakeOut(Schema):
    status: str
    ticket: str | None
    reason: str
    id: int


RAW_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "One raw RFC 5322 message, exactly as received.",
        "content": {"message/rfc822": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.post(
    "/inbound/email",
    auth=TokenAuth("intake"),
    response={202: IntakeOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 413: ErrorOut},
    openapi_extra=RAW_BODY,
    summary="Take in one raw email",
)
def inbound_email(request: HttpRequest) -> Status:
    """Answers 202 for every message taken in: stored, duplicate, quarantined or ignored
    (`status` says which); 4xx only for a request that carries no message."""
    limit = settings.MAIL_MAX_BYTES
    try:
        declared = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise HttpError(413, f"The message is larger than the limit of {limit} bytes.")
    raw = request.body
    if len(raw) > limit:
        raise HttpError(413, f"The message is larger than the limit of {limit} bytes.")
    if not raw.strip():
        raise HttpError(400, "Send the raw message as the request body.")
    result = ingest(raw, source="api")
    return Status(
        202,
        {
            "status": result.status,
            "ticket": result.ticket,
            "reason": result.reason,
            "id": result.inbound_id,
        },
    )


# --- who is copied on a ticket's email replies ------------------------------------------


class CopyOut(Schema):
    email: str
    name: str = Field(..., description="The contact's name when we know them, else empty")


class CopiesOut(Schema):
    items: list[CopyOut]


class CopyIn(Schema):
    email: str = Field(..., description="The address to copy on the ticket's email replies")


COPY_ERRORS: dict[int, type[Schema]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    422: ErrorOut,
}


def _agents_ticket(request: HttpRequest, number: str) -> tuple[User, Ticket]:
    user = agent_of(request)
    return user, get_ticket(user, number)


def _copies(ticket: Ticket) -> dict[str, object]:
    return {"items": [{"email": e, "name": n} for e, n in ccs.copied(ticket).items()]}


@router.get(
    "/tickets/{number}/copies",
    response={200: CopiesOut, **COPY_ERRORS},
    summary="Who is copied on the ticket's email replies",
)
def get_copies(request: HttpRequest, number: str) -> dict[str, object]:
    """The people copied on agents' email replies: those the customer copied, as agents
    have changed the list. The requester is the To and is not listed."""
    return _copies(_agents_ticket(request, number)[1])


@router.post(
    "/tickets/{number}/copies",
    response={201: CopiesOut, **COPY_ERRORS},
    summary="Copy someone on the ticket's email replies",
)
def post_copy(request: HttpRequest, number: str, body: CopyIn) -> Status:
    """422 with the reason for the requester, our own addresses, agents, and addresses
    that bounced or answered automatically."""
    user, ticket = _agents_ticket(request, number)
    ccs.copy_on_replies(ticket, actor=user, email=body.email)
    return Status(201, _copies(ticket))


@router.delete(
    "/tickets/{number}/copies/{email}",
    response={200: CopiesOut, **COPY_ERRORS},
    summary="Stop copying someone on the ticket's email replies",
)
def delete_copy(request: HttpRequest, number: str, email: str) -> dict[str, object]:
    """They stay off even when the customer copies them again, until an agent adds them."""
    user, ticket = _agents_ticket(request, number)
    ccs.stop_copying(ticket, actor=user, email=email)
    return _copies(ticket)
