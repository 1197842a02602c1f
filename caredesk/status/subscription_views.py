"""Subscribe, confirm, manage and unsubscribe: thin adapters over subscriptions.py.

None of them needs signing in: the signed link is the subscriber's key.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from caredesk.core.errors import DomainError, NotFound
from caredesk.people.models import User
from caredesk.status import pages, public, subscriptions
from caredesk.status.models import Subscriber
from caredesk.status.views import _titled


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], title: str, status: int = 200
) -> HttpResponse:
    page = public.Page()
    with timezone.override(pages.zone_of(page)):
        content = render_to_string(template, {"page": page, **context}, request=request)
    response = _titled(request, content, page.page()["name"], title)
    response.status_code = status
    # Signed links are in these URLs; keep them out of other sites' logs and shared caches.
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "private, no-store"
    return response


def _actor(request: HttpRequest) -> User | None:
    user = getattr(request, "user", None)
    return user if isinstance(user, User) and user.is_authenticated else None


def _message(
    request: HttpRequest, heading: str, message: str, *, status: int = 200, **extra: Any
) -> HttpResponse:
    return _render(
        request,
        "status/message.html",
        {"heading": heading, "message": message, **extra},
        heading,
        status,
    )


def _error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return _message(request, "This link does not work", exc.message, status=exc.status)


@require_http_methods(["GET", "POST"])
def subscribe(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _render(request, "status/subscribe.html", {}, "Subscribe")
    email = request.POST.get("email", "")
    envs = request.POST.getlist("environments")
    comps = request.POST.getlist("components")
    try:
        subscriptions.subscribe(
            actor=_actor(request), email=email, environments=envs, components=comps
        )
    except DomainError as exc:
        context = {
            "error": exc.message,
            "email": email,
            "chosen_envs": set(envs),
            "chosen_comps": {int(c) for c in comps if c.isdigit()},
        }
        return _render(request, "status/subscribe.html", context, "Subscribe", exc.status)
    return _message(
        request,
        "Check your inbox",
        f"We sent a link to {email.strip()}. Follow it to confirm your subscription; "
        "nothing else is sent until you do.",
    )


def _manage(
    request: HttpRequest, subscriber: Subscriber, *, notice: str = "", error: str = ""
) -> HttpResponse:
    signed = subscriptions.link_token(subscriber)
    context = {
        "subscriber": subscriber,
        "notice": notice,
        "error": error,
        "chosen_envs": {e.key for e in subscriber.environments.all()},
        "chosen_comps": {c.pk for c in subscriber.components.all()},
        "manage_path": reverse("status:manage", args=[signed]),
        "unsubscribe_path": reverse("status:unsubscribe", args=[signed]),
    }
    return _render(request, "status/subscription.html", context, "Your subscription")


@require_http_methods(["GET"])
def confirm(request: HttpRequest, signed: str) -> HttpResponse:
    try:
        subscriber = subscriptions.confirm(subscriptions.from_confirm_link(signed))
    except DomainError as exc:
        return _error(request, exc)
    return _manage(request, subscriber, notice="Your subscription is confirmed.")


@require_http_methods(["GET", "POST"])
def manage(request: HttpRequest, signed: str) -> HttpResponse:
    try:
        subscriber = subscriptions.from_link(signed)
    except NotFound as exc:
        return _error(request, exc)
    if request.method == "GET":
        return _manage(request, subscriber)
    try:
        subscriptions.set_choices(
            subscriber,
            actor=_actor(request),
            environments=request.POST.getlist("environments"),
            components=request.POST.getlist("components"),
        )
    except DomainError as exc:
        return _manage(request, subscriber, error=exc.message)
    return _manage(request, subscriber, notice="Saved.")


# RFC 8058: a mail provider POSTs "List-Unsubscribe=One-Click" here, with no cookie and no
# CSRF token; the signed URL alone authorizes it. A GET only asks, because mail scanners
# follow links.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, signed: str) -> HttpResponse:
    try:
        subscriber = subscriptions.from_link(signed)
    except NotFound as exc:
        return _error(request, exc)
    if request.method == "GET":
        if subscriber.unsubscribed_at is not None:
            return _message(request, "Unsubscribed", f"{subscriber} gets no more notices.")
        return _message(
            request,
            "Unsubscribe?",
            f"Stop every status notice to {subscriber}.",
            form_action=request.path,
            button="Unsubscribe",
        )
    subscriptions.unsubscribe(subscriber, actor=_actor(request))
    return _message(request, "Unsubscribed", f"{subscriber} gets no more notices.")
