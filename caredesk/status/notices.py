"""The status page's email: the confirmation of a subscription and the notices.

Each is a template triple under status/emails/. Every notice carries RFC 8058 one-click
unsubscribe headers, so mail providers can offer an "unsubscribe" button that works
without the subscriber signing in.
"""

from __future__ import annotations

from email.utils import formataddr
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone

from caredesk.servicemodel.models import ServiceSettings
from caredesk.status import subscriptions
from caredesk.status.models import Component, IncidentUpdate, Subscriber


def _page() -> tuple[str, ZoneInfo]:
    service = ServiceSettings.current()
    name = service.status_page_name or service.name
    return name, ZoneInfo(service.time_zone or "UTC")


def _message(
    name: str, context: dict[str, Any], to: str, zone: ZoneInfo, headers: dict[str, str]
) -> EmailMultiAlternatives:
    # Times in the mail read on the page's clock, as on the page itself.
    with timezone.override(zone):
        subject = render_to_string(f"status/emails/{name}-subject.txt", context)
        text = render_to_string(f"status/emails/{name}-body.txt", context)
        html = render_to_string(f"status/emails/{name}-body.html", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=text,
        from_email=formataddr((context["page_name"], settings.DEFAULT_FROM_EMAIL)),
        to=[to],
        headers={"Auto-Submitted": "auto-generated", **headers},
    )
    message.attach_alternative(html, "text/html")
    return message


def _scope(subscriber: Subscriber) -> str:
    names = [e.key for e in subscriber.environments.all()]
    names += [f"{c.environment_id} {c.name}" for c in subscriber.components.all()]
    return ", ".join(names)


def confirmation(subscriber: Subscriber) -> EmailMultiAlternatives:
    page_name, zone = _page()
    context = {
        "page_name": page_name,
        "subscriber": subscriber,
        "scope": _scope(subscriber),
        "confirm_url": subscriptions.confirm_url(subscriber),
    }
    return _message("confirm", context, subscriber.email, zone, {})


def _domain() -> str:
    return urlsplit(settings.BASE_URL).hostname or "localhost"


def unsubscribe_headers(subscriber: Subscriber) -> dict[str, str]:
    """RFC 2369 List-Unsubscribe with RFC 8058's one-click POST."""
    url = subscriptions.unsubscribe_url(subscriber)
    mailto = f"mailto:{settings.DEFAULT_FROM_EMAIL}?subject=" + quote(
        f"unsubscribe {subscriptions.link_token(subscriber)}"
    )
    return {
        "List-Unsubscribe": f"<{url}>, <{mailto}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def notice(subscriber: Subscriber, update: IncidentUpdate) -> EmailMultiAlternatives:
    page_name, zone = _page()
    incident = update.incident
    components = list(
        Component.objects.filter(incidents=incident).order_by("environment__position", "position")
    )
    context = {
        "page_name": page_name,
        "incident": incident,
        "update": update,
        "components": components,
        "incident_url": f"{settings.BASE_URL}/status/incidents/{incident.pk}/",
        "manage_url": subscriptions.manage_url(subscriber),
        "unsubscribe_url": subscriptions.unsubscribe_url(subscriber),
    }
    domain = _domain()
    headers = {
        **unsubscribe_headers(subscriber),
        "List-Id": f"{page_name} <status.{domain}>",
        # Mail clients thread every notice of one incident together.
        "References": f"<incident-{incident.pk}@{domain}>",
    }
    return _message("notice", context, subscriber.email, zone, headers)
