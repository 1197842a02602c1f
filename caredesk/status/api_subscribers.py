"""Status subscribers in the REST API: list them, add webhook subscribers, unsubscribe."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Schema, Status

from caredesk.core.errors import NotFound
from caredesk.status import public, subscriptions
from caredesk.status.api import ERRORS, _manager, router
from caredesk.status.models import Subscriber


class WebhookIn(Schema):
    url: str
    environments: list[str] = []
    components: list[str] = []


class SubscriberOut(Schema):
    id: int
    kind: str
    email: str | None
    url: str | None
    environments: list[str]
    components: list[str]
    created_at: str
    confirmed_at: str | None
    unsubscribed_at: str | None


class WebhookOut(SubscriberOut):
    secret: str


def _subscriber_json(s: Subscriber) -> dict[str, Any]:
    return {
        "id": s.pk,
        "kind": "webhook" if s.is_webhook else "email",
        "email": s.email or None,
        "url": s.url or None,
        "environments": [e.key for e in s.environments.all()],
        "components": [str(c.pk) for c in s.components.all()],
        "created_at": public.iso(s.created_at),
        "confirmed_at": public.iso(s.confirmed_at),
        "unsubscribed_at": public.iso(s.unsubscribed_at),
    }


@router.get("/subscribers", response={200: list[SubscriberOut], **ERRORS}, summary="Subscribers")
def list_subscribers(request: HttpRequest) -> list[dict[str, Any]]:
    """Every email and webhook subscriber, pending and unsubscribed ones included."""
    _manager(request)
    found = Subscriber.objects.prefetch_related("environments", "components").order_by("pk")
    return [_subscriber_json(s) for s in found]


@router.post(
    "/subscribers", response={201: WebhookOut, **ERRORS}, summary="Add a webhook subscriber"
)
def add_webhook(request: HttpRequest, payload: WebhookIn) -> Status[dict[str, Any]]:
    """The URL gets a signed JSON POST (Statuspage's webhook shape) for each incident update
    and component status change it subscribes to. The `secret` that signs them is shown
    only in this answer. URLs on private, loopback or link-local addresses are refused."""
    actor = _manager(request)
    subscriber = subscriptions.add_webhook(
        actor=actor,
        url=payload.url,
        environments=payload.environments,
        components=payload.components,
    )
    return Status(201, {**_subscriber_json(subscriber), "secret": subscriber.secret})


@router.post(
    "/subscribers/{subscriber_id}/unsubscribe",
    response={200: SubscriberOut, **ERRORS},
    summary="Unsubscribe a subscriber",
)
def remove_subscriber(request: HttpRequest, subscriber_id: int) -> dict[str, Any]:
    actor = _manager(request)
    found = Subscriber.objects.filter(pk=subscriber_id).first()
    if found is None:
        raise NotFound(f"There is no subscriber {subscriber_id}.")
    return _subscriber_json(subscriptions.unsubscribe(found, actor=actor))
