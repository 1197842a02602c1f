"""Email intake over HTTP: POST /api/v1/inbound/email."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.errors import HttpError

from caredesk.api.auth import TokenAuth
from caredesk.api.schemas import ErrorOut
from caredesk.mail.intake import ingest

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
