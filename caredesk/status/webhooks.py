"""Status-page webhook payloads, in Statuspage's webhook shape.

{"meta", "page", "incident"} or {"meta", "page", "component_update", "component"}. Where
a URL may point, how payloads are signed and how they are delivered is the shared webhook
transport's (caredesk.core.webhooks); its names are re-exported here for the status app.
"""

from __future__ import annotations

from typing import Any

from caredesk.core.clock import now
from caredesk.core.webhooks import (
    Refused,
    Undeliverable,
    check_url,
    post,
    resolve,
    signature,
    signed_headers,
)
from caredesk.status import public
from caredesk.status.models import ComponentChange, Incident, Subscriber

__all__ = [
    "Refused",
    "Undeliverable",
    "check_url",
    "component_payload",
    "incident_payload",
    "post",
    "resolve",
    "signature",
    "signed_headers",
]

DOCUMENTATION = "https://support.atlassian.com/statuspage/docs/enable-webhook-notifications/"


# --- payloads -----------------------------------------------------------------------------


def _head(page: public.Page, subscriber: Subscriber) -> dict[str, Any]:
    from caredesk.status.subscriptions import unsubscribe_url

    status = page.status()
    return {
        "meta": {
            "unsubscribe": unsubscribe_url(subscriber),
            "documentation": DOCUMENTATION,
            "generated_at": public.iso(now()),
        },
        "page": {
            "id": page.id,
            "status_indicator": status.indicator,
            "status_description": status.description,
        },
    }


def incident_payload(incident: Incident, subscriber: Subscriber) -> dict[str, Any]:
    page = public.Page()
    fresh = page.incidents(incident.kind).get(pk=incident.pk)
    return {**_head(page, subscriber), "incident": page.incident(fresh)}


def component_payload(change: ComponentChange, subscriber: Subscriber) -> dict[str, Any]:
    page = public.Page()
    component = change.component
    return {
        **_head(page, subscriber),
        "component_update": {
            "created_at": public.iso(change.at),
            "new_status": change.status,
            "old_status": change.old_status,
            "id": str(change.pk),
            "component_id": str(component.pk),
        },
        "component": {
            "created_at": public.iso(component.created_at),
            "id": str(component.pk),
            "name": component.name,
            "status": component.status,
            "environment": component.environment_id,
            "version": component.version or None,
        },
    }
