"""Outgoing webhooks: who may subscribe, what each event sends, and one delivery attempt.

Ticket events come from the event log (`tickets.events.record` hands each mapped kind to
`ticket_event` once its transaction commits); incident events from the status page's one
place that posts an incident update. Each (webhook, event) is a WebhookDelivery holding
the exact body, delivered by the worker (caredesk.api.tasks) with the shared transport's
SSRF guard, signature and retry policy (caredesk.core.webhooks).
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, QuerySet

from caredesk.api.models import EVENT_TYPES, Webhook, WebhookAttempt, WebhookDelivery
from caredesk.core import webhooks
from caredesk.core.clock import now
from caredesk.core.errors import Forbidden, InvalidInput, NotFound
from caredesk.core.ttl import Kept
from caredesk.people.models import User
from caredesk.servicemodel.choices import Role

log = logging.getLogger(__name__)

MANAGERS = frozenset({Role.MANAGER, Role.ADMIN})
# How many 307/308 redirects a delivery follows (each hop checked like the first).
REDIRECTS = 3
# Event-log kinds that are webhook events; a status change counts only when it resolves.
TICKET_KINDS = {
    "ticket.opened": "ticket.opened",
    "ticket.replied": "ticket.replied",
    "ticket.escalated": "ticket.escalated",
    "ticket.assigned": "ticket.assigned",
    "sla.breached": "ticket.breached",
    "ticket.status_changed": "ticket.resolved",
}


def require_manager(actor: User) -> None:
    if actor.role not in MANAGERS:
        raise Forbidden("Only managers and admins manage webhooks.")


def _check_events(events: Iterable[Any]) -> list[str]:
    chosen = []
    for event in events:
        if event not in EVENT_TYPES:
            raise InvalidInput(
                f"Unknown event {event!r}; use any of {', '.join(EVENT_TYPES)}.", field="events"
            )
        if event not in chosen:
            chosen.append(event)
    if not chosen:
        raise InvalidInput("Choose at least one event.", field="events")
    return chosen


def create_webhook(
    *, actor: User, url: str, events: Iterable[Any], description: str = ""
) -> Webhook:
    """A webhook, active at once; its secret (shown to its creator) signs every payload."""
    require_manager(actor)
    url = webhooks.check_url((url or "").strip())
    chosen = _check_events(events)
    if len(description) > 200:
        raise InvalidInput("The description is longer than 200 characters.", field="description")
    with transaction.atomic():
        return Webhook.objects.create(
            url=url,
            events=chosen,
            secret=secrets.token_hex(32),
            description=description.strip(),
            created_by=actor,
            created_at=now(),
        )


def active() -> QuerySet[Webhook]:
    return Webhook.objects.filter(deleted_at=None)


def get_webhook(actor: User, webhook_id: int) -> Webhook:
    require_manager(actor)
    found = active().filter(pk=webhook_id).first()
    if found is None:
        raise NotFound(f"There is no webhook {webhook_id}.")
    return found


def delete_webhook(webhook: Webhook, *, actor: User) -> Webhook:
    """Stop deliveries at once, queued retries included; the log stays."""
    require_manager(actor)
    with transaction.atomic():
        Webhook.objects.filter(pk=webhook.pk, deleted_at=None).update(deleted_at=now())
        _subscriptions.forget_after_commit()  # an update sends no signal
    webhook.refresh_from_db()
    return webhook


# --- fan-out ------------------------------------------------------------------------------


def webhook_event(kind: str, data: dict[str, Any]) -> str | None:
    """The webhook event type of an event-log row, or None when it is not one."""
    if kind == "ticket.status_changed" and data.get("after") != "resolved":
        return None
    return TICKET_KINDS.get(kind)


@dataclass(frozen=True)
class Subscription:
    webhook_id: int
    events: frozenset[str]


def _read_subscriptions() -> tuple[Subscription, ...]:
    return tuple(
        Subscription(pk, frozenset(events)) for pk, events in active().values_list("pk", "events")
    )


# Every committed ticket event asks, and most instances have no webhook: the active ones are
# read at most every SUBSCRIPTIONS_TTL seconds per process. A change in this process is seen
# at once (saves by the signal, the deletion's queryset update by hand); other
# processes see it within the TTL, and a delivery queued for a webhook deleted meanwhile is
# not sent (`attempt` reads the webhook again).
SUBSCRIPTIONS_TTL = 2.0
_subscriptions = Kept(_read_subscriptions, ttl=SUBSCRIPTIONS_TTL)
_subscriptions.forget_on_save(Webhook)
forget_subscriptions = _subscriptions.forget


def _subscribed(kind: str) -> list[int]:
    """The ids of the active webhooks subscribed to `kind`."""
    return [s.webhook_id for s in _subscriptions.get() if kind in s.events]


def ticket_event(event_id: int, kind: str) -> None:
    """Queue a delivery of this event-log row to every webhook of its type."""
    from caredesk.api.schemas import event_json, message_json, ticket_json
    from caredesk.tickets.models import Event, Message

    hooks = _subscribed(kind)
    if not hooks:  # the usual case: no need to read the event back
        return
    event = Event.objects.select_related("actor", "ticket").filter(pk=event_id).first()
    if event is None:
        return
    payload: dict[str, Any] = {
        "event": kind,
        "created_at": event.created_at,
        "ticket": ticket_json(event.ticket),
        "change": event_json(event),
    }
    if kind == "ticket.replied":
        message = Message.objects.select_related("author").filter(pk=event.data.get("message"))
        found = message.first()
        payload["message"] = message_json(found) if found is not None else None
    _queue(hooks, kind, payload)


def incident_event(update_id: int) -> None:
    """Queue a delivery of this status-page incident update (created, updated, resolved)."""
    from caredesk.status import public
    from caredesk.status.models import Incident, IncidentUpdate

    update = IncidentUpdate.objects.select_related("incident").filter(pk=update_id).first()
    if update is None or update.incident.kind != Incident.Kind.INCIDENT:
        return
    first = not update.incident.updates.filter(pk__lt=update.pk).exists()
    kind = (
        "incident.created"
        if first
        else "incident.resolved"
        if update.status == "resolved"
        else "incident.updated"
    )
    hooks = _subscribed(kind)
    if not hooks:
        return
    page = public.Page()
    incident = page.incidents(update.incident.kind).get(pk=update.incident_id)
    _queue(
        hooks,
        kind,
        {"event": kind, "created_at": update.created_at, "incident": page.incident(incident)},
    )


def _queue(hooks: list[int], kind: str, payload: dict[str, Any]) -> None:
    from caredesk.api import tasks

    # Read again: another process may have deleted one within the subscriptions' TTL (only
    # when some webhook is subscribed, so this costs nothing on an instance without them).
    hooks = list(active().filter(pk__in=hooks).order_by("pk").values_list("pk", flat=True))
    at = now()
    for hook in hooks:
        delivery = WebhookDelivery.objects.create(
            webhook_id=hook, event=kind, body="", created_at=at
        )
        body = {"id": delivery.pk, **payload}
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            body=json.dumps(body, cls=DjangoJSONEncoder, separators=(",", ":"))
        )
        tasks.deliver(delivery.pk)


# --- one attempt --------------------------------------------------------------------------


class RetryLater(Exception):
    """The receiver failed in a way a later attempt may not (no answer, 4xx/5xx)."""


def attempt(delivery_id: int) -> WebhookDelivery | None:
    """Send a delivery once and log the attempt; raises RetryLater when worth retrying."""
    delivery = WebhookDelivery.objects.select_related("webhook").filter(pk=delivery_id).first()
    if delivery is None or delivery.delivered_at or delivery.failed_at:
        return delivery
    hook = delivery.webhook
    if hook.deleted_at is not None:
        return delivery
    body = delivery.body.encode()
    headers = webhooks.signed_headers(
        hook.secret,
        body,
        **{"X-Caredesk-Event": delivery.event, "X-Caredesk-Delivery": str(delivery.pk)},
    )
    at = now()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=F("attempts") + 1)
    try:
        response = webhooks.send(hook.url, body, headers, redirects=REDIRECTS)
    except webhooks.Refused as exc:
        WebhookAttempt.objects.create(delivery=delivery, at=at, error=exc.message[:500])
        WebhookDelivery.objects.filter(pk=delivery.pk).update(failed_at=at)
        log.warning("webhook delivery %s refused: %s", delivery.pk, exc.message)
        return delivery
    except OSError as exc:
        WebhookAttempt.objects.create(delivery=delivery, at=at, error=str(exc)[:500] or repr(exc))
        raise RetryLater(str(exc)) from exc
    WebhookAttempt.objects.create(
        delivery=delivery,
        at=at,
        status=response.status,
        response=response.excerpt,
        duration_ms=response.duration_ms,
        error="" if response.ok else _why(response),
    )
    if response.ok:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(delivered_at=now())
    elif response.redirect:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(failed_at=at)
    else:
        raise RetryLater(f"{response.url} answered {response.status}.")
    return delivery


def give_up(delivery_id: int) -> None:
    WebhookDelivery.objects.filter(pk=delivery_id, delivered_at=None).update(failed_at=now())


def _why(response: webhooks.Response) -> str:
    if response.redirect:
        return (
            f"{response.url} answered {response.status}; only 307 and 308 redirects are"
            f" followed, at most {REDIRECTS}."
        )
    return f"{response.url} answered {response.status}."
