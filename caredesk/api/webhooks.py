"""Outgoing webhooks: managers and admins subscribe URLs to ticket and incident events."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Prefetch
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from caredesk.api import outgoing
from caredesk.api.models import EVENT_TYPES, Webhook, WebhookAttempt, WebhookDelivery
from caredesk.api.schemas import ErrorOut
from caredesk.core import audit
from caredesk.core.pagination import keyset_page
from caredesk.people.models import User

router = Router(tags=["webhooks"])
ERRORS: dict[int, type[Schema]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    422: ErrorOut,
}
LOG_SIZE = 50  # deliveries shown with a webhook, newest first


class WebhookIn(Schema):
    url: str = Field(max_length=2000)
    events: list[str] = Field(
        max_length=len(EVENT_TYPES), description=f"Any of: {', '.join(EVENT_TYPES)}."
    )
    description: str = Field("", max_length=200)


class WebhookOut(Schema):
    id: int
    url: str
    events: list[str]
    description: str
    created_by: str | None
    created_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="Signs every payload; shown only now.")


class AttemptOut(Schema):
    at: datetime
    status: int | None
    response: str
    error: str
    duration_ms: int


class DeliveryOut(Schema):
    id: int
    event: str
    created_at: datetime
    delivered_at: datetime | None
    failed_at: datetime | None
    attempts: list[AttemptOut]


class WebhookDetail(WebhookOut):
    deliveries: list[DeliveryOut]


class WebhookPage(Schema):
    items: list[WebhookOut]
    next: str | None


class PageQuery(Schema):
    limit: int | None = None
    cursor: str | None = None


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _json(hook: Webhook) -> dict[str, object]:
    return {
        "id": hook.pk,
        "url": hook.url,
        "events": hook.events,
        "description": hook.description,
        "created_by": hook.created_by.email if hook.created_by else None,
        "created_at": hook.created_at,
    }


def _delivery(d: WebhookDelivery) -> dict[str, object]:
    return {
        "id": d.pk,
        "event": d.event,
        "created_at": d.created_at,
        "delivered_at": d.delivered_at,
        "failed_at": d.failed_at,
        "attempts": [
            {
                "at": a.at,
                "status": a.status,
                "response": a.response,
                "error": a.error,
                "duration_ms": a.duration_ms,
            }
            for a in d.log.all()
        ],
    }


@router.post("", response={201: WebhookCreated, **ERRORS}, summary="Add a webhook")
def create(request: HttpRequest, payload: WebhookIn) -> Status[dict[str, object]]:
    user = _user(request)
    with transaction.atomic():
        hook = outgoing.create_webhook(
            actor=user, url=payload.url, events=payload.events, description=payload.description
        )
        audit.record(
            actor=user, source="api", action="created", obj=hook, after=audit.snapshot(hook)
        )
    return Status(201, {**_json(hook), "secret": hook.secret})


@router.get("", response={200: WebhookPage, **ERRORS}, summary="List webhooks")
def list_webhooks(request: HttpRequest, page: Query[PageQuery]) -> dict[str, object]:
    outgoing.require_manager(_user(request))
    rows, cursor = keyset_page(
        outgoing.active().select_related("created_by"), limit=page.limit, cursor=page.cursor
    )
    return {"items": [_json(h) for h in rows], "next": cursor}


@router.get("/{webhook_id}", response={200: WebhookDetail, **ERRORS}, summary="One webhook")
def get_one(request: HttpRequest, webhook_id: int) -> dict[str, object]:
    hook = outgoing.get_webhook(_user(request), webhook_id)
    recent = hook.deliveries.order_by("-id").prefetch_related(
        Prefetch("log", WebhookAttempt.objects.order_by("id"))
    )[:LOG_SIZE]
    return {**_json(hook), "deliveries": [_delivery(d) for d in recent]}


@router.delete("/{webhook_id}", response={204: None, **ERRORS}, summary="Delete a webhook")
def delete(request: HttpRequest, webhook_id: int) -> Status[None]:
    user = _user(request)
    with transaction.atomic():
        hook = outgoing.get_webhook(user, webhook_id)
        before = audit.snapshot(hook)
        outgoing.delete_webhook(hook, actor=user)
        audit.record(
            actor=user, source="api", action="deleted", obj=hook,
            before=before, after=audit.snapshot(hook),
        )  # fmt: skip
    return Status(204, None)
