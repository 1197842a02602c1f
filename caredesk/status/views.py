"""The public status page and its Statuspage-compatible JSON: thin adapters over public.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_safe

from caredesk.core.clock import now
from caredesk.status import pages, public
from caredesk.status.models import Environment, Incident


def _json(request: HttpRequest, name: str) -> HttpResponse:
    body, etag = public.endpoint(name)
    # Pollers that send back the ETag get an empty 304 until the page changes.
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(body, content_type="application/json")
    response["ETag"] = etag
    # Widgets on other sites read the public API, as they read Statuspage's.
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = "public, max-age=5"
    return response


def json_view(name: str) -> Callable[[HttpRequest], HttpResponse]:
    @require_safe
    def view(request: HttpRequest) -> HttpResponse:
        return _json(request, name)

    view.__name__ = "api_v2_" + name.replace("/", "_").replace("-", "_").replace(".json", "")
    return view


UPDATED = "<!--status:updated-->"
CSRF = "<!--status:csrf-->"
HISTORY_PAGE = 25


def _fragment(template: str, context: dict[str, Any], page: public.Page) -> str:
    # Times read on the page's clock, as its visitors read them.
    with timezone.override(pages.zone_of(page)):
        return render_to_string(template, context)


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    def build(at: datetime) -> tuple[str, str]:
        page = public.Page()
        return _fragment("status/overview.html", pages.overview(page, at), page), page.page()[
            "name"
        ]

    return _cached_page(request, "index", build)


@require_safe
def environment(request: HttpRequest, key: str) -> HttpResponse:
    env = get_object_or_404(Environment, pk=key)

    def build(at: datetime) -> tuple[str, str]:
        page = public.Page()
        return _fragment(
            "status/environment.html", pages.environment(page, env, at), page
        ), page.page()["name"]

    return _cached_page(request, f"env:{env.key}", build, env.name)


def _cached_page(
    request: HttpRequest, key: str, build: Callable[[datetime], tuple[str, str]], title: str = ""
) -> HttpResponse:
    """A public page from the cache: its content, and for anonymous visitors (nearly all
    of them) the whole document, so a request costs one stamp query and two replaces."""
    at = now()
    # The HTML also depends on the clock (today's uptime), so it is rebuilt each minute.
    minute = at.replace(second=0, microsecond=0)
    current = public.stamp()
    content, name = public.cached(f"html:{key}", lambda: build(at), current=current, tag=minute)
    if not _anonymous(request):
        return _titled(request, content, name, title)
    document = public.cached(
        f"doc:{key}",
        lambda: _shell(request, content, name, title),
        current=current,
        tag=minute,
    )
    return HttpResponse(_personal(request, document, at))


def _anonymous(request: HttpRequest) -> bool:
    # No session and no flash messages: the shell renders the same for every such visitor.
    cookies = request.COOKIES
    return settings.SESSION_COOKIE_NAME not in cookies and "messages" not in cookies


def _shell(request: HttpRequest, content: str, name: str, title: str) -> str:
    context = {
        "title": f"{title} · {name}" if title else name,
        "page_name": name,
        # Rendered from our templates; the per-request parts are markers, replaced later.
        "content": mark_safe(content),  # noqa: S308
    }
    return render_to_string("status/shell.html", context, request=request)


def _personal(request: HttpRequest, document: str, at: datetime) -> str:
    updated = format_html(
        'Updated <time datetime="{}" data-updated>{}</time>', public.iso(at), "a few seconds ago"
    )
    document = document.replace(UPDATED, updated, 1)
    if CSRF in document:
        document = document.replace(CSRF, _csrf_field(request))
    return document


def _titled(request: HttpRequest, content: str, name: str, title: str = "") -> HttpResponse:
    return HttpResponse(_personal(request, _shell(request, content, name, title), now()))


def _csrf_field(request: HttpRequest) -> str:
    # Cached fragments are shared by every visitor; the subscribe form's token is not.
    return format_html(
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">', get_token(request)
    )


@require_safe
def incident(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(Incident, pk=pk)
    page = public.Page()
    context = {
        "page": page,
        "incident": item,
        "updates": list(item.updates.all()),
        "components": list(item.components.order_by("environment__position", "position")),
    }
    return _titled(
        request, _fragment("status/incident.html", context, page), page.page()["name"], item.name
    )


@require_safe
def history(request: HttpRequest) -> HttpResponse:
    try:
        number = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        number = 1
    page = public.Page()
    start = (number - 1) * HISTORY_PAGE
    items = list(
        Incident.objects.exclude(kind=Incident.Kind.MAINTENANCE, status="scheduled")
        .prefetch_related("updates")
        .order_by("-started_at", "-id")[start : start + HISTORY_PAGE + 1]
    )
    context = {
        "page": page,
        "items": items[:HISTORY_PAGE],
        "newer": number - 1 if number > 1 else None,
        "older": number + 1 if len(items) > HISTORY_PAGE else None,
    }
    return _titled(
        request, _fragment("status/history.html", context, page), page.page()["name"], "History"
    )
