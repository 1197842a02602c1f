"""Background work of the status page, run by the worker (Huey).

The fan-out task finds who hears of an update and queues one task per subscriber, so
one unreachable address never holds up the others; each of those retries on its own
with exponential backoff, and its Delivery row keeps it to one message per update.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from django.db.models import F
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from caredesk.core.clock import now
from caredesk.core.webhooks import RETRY as WEBHOOK_RETRY
from caredesk.status import links, notices, services, subscriptions, webhooks
from caredesk.status.models import ComponentChange, Delivery, IncidentUpdate, Subscriber

log = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*"))
def advance_maintenances() -> int:
    """Start and complete scheduled maintenance on time; returns how many moved."""
    return len(services.advance_maintenances())


@db_task(retries=3, retry_delay=30)
def tell_linked_requesters(incident_id: int) -> None:
    for link_id in links.open_links(incident_id):
        tell_requester(link_id)


@db_task(retries=5, retry_delay=60, retry_backoff=2)
def tell_requester(link_id: int) -> None:
    links.tell_requester(link_id)


@db_task(retries=5, retry_delay=60, retry_backoff=2)
def send_confirmation(subscriber_id: int) -> None:
    """The one mail a pending address gets: the link that confirms it."""
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is None or subscriber.confirmed_at or subscriber.unsubscribed_at:
        return
    notices.confirmation(subscriber).send()


@db_task(retries=3, retry_delay=30)
def notify_update(update_id: int) -> None:
    update = IncidentUpdate.objects.select_related("incident").get(pk=update_id)
    for pk, url in subscriptions.audience(update.incident).values_list("pk", "url"):
        if url:
            post_update(pk, update_id)
        else:
            send_notice(pk, update_id)


@db_task(retries=3, retry_delay=30)
def notify_component_change(change_id: int) -> None:
    change = ComponentChange.objects.select_related("component").get(pk=change_id)
    audience = subscriptions.interested([change.component_id], [change.component.environment_id])
    for pk in audience.exclude(url="").values_list("pk", flat=True):
        post_component_change(pk, change_id)


@db_task(retries=5, retry_delay=60, retry_backoff=2)
def send_notice(subscriber_id: int, update_id: int) -> None:
    update = IncidentUpdate.objects.select_related("incident").get(pk=update_id)

    def mail(subscriber: Subscriber) -> None:
        notices.notice(subscriber, update).send()

    _deliver(subscriber_id, f"update:{update_id}", mail)


@db_task(**WEBHOOK_RETRY)
def post_update(subscriber_id: int, update_id: int) -> None:
    update = IncidentUpdate.objects.select_related("incident").get(pk=update_id)
    _deliver(
        subscriber_id,
        f"update:{update_id}",
        lambda s: _post(s, webhooks.incident_payload(update.incident, s)),
    )


@db_task(**WEBHOOK_RETRY)
def post_component_change(subscriber_id: int, change_id: int) -> None:
    change = ComponentChange.objects.select_related("component").get(pk=change_id)
    _deliver(
        subscriber_id,
        f"change:{change_id}",
        lambda s: _post(s, webhooks.component_payload(change, s)),
    )


def _post(subscriber: Subscriber, payload: dict[str, object]) -> None:
    body = json.dumps(payload, separators=(",", ":")).encode()
    webhooks.post(subscriber.url, body, webhooks.signed_headers(subscriber.secret, body))


def _deliver(subscriber_id: int, key: str, send: Callable[[Subscriber], None]) -> None:
    """Send once per (subscriber, key); a failure is recorded and raised for a retry,
    except one that no retry would change."""
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is None or not subscriber.is_active:
        return  # unsubscribed since the fan-out: nothing more goes out
    delivery, _ = Delivery.objects.get_or_create(
        subscriber=subscriber, key=key, defaults={"created_at": now()}
    )
    if delivery.sent_at is not None:
        return
    Delivery.objects.filter(pk=delivery.pk).update(attempts=F("attempts") + 1)
    try:
        send(subscriber)
    except (webhooks.Refused, webhooks.Undeliverable) as exc:
        Delivery.objects.filter(pk=delivery.pk).update(last_error=str(exc)[:500])
        log.warning("status notice %s to %s not delivered: %s", key, subscriber, exc)
        return
    except Exception as exc:
        Delivery.objects.filter(pk=delivery.pk).update(last_error=str(exc)[:500])
        raise
    Delivery.objects.filter(pk=delivery.pk).update(sent_at=now(), last_error="")
