"""The public status page and its Statuspage-compatible JSON: thin adapters over public.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_safe

from caredesk.core.clock import now
from caredesk.status import pages, public
from caredesk.status.models import Environment, Incident


def _json(request: HttpRequest, name: str) -> HttpResponse:
    response = HttpResponse(public.endpoint_bytes(name), content_type="application/json")
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
HISTORY_PAGE = 25


def _fragment(template: str, context: dict[str, Any], page: public.Page) -> str:
    # Times read on the page's clock, as its visitors read them.
    with timezone.override(pages.zone_of(page)):
        return render_to_string(template, context)


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    at = now()
    holder: dict[str, public.Page] = {}

    def build() -> tuple[str, str]:
        page = holder.setdefault("page", public.Page())
        return _fragment("status/overview.html", pages.overview(page, at), page), page.page()[
            "name"
        ]

    # The HTML also depends on the clock (today's uptime), so it is rebuilt each minute.
    content, name = public.cached("html:index", build, tag=at.replace(second=0, microsecond=0))
    return _titled(request, content, name)


def _titled(request: HttpRequest, content: str, name: str, title: str = "") -> HttpResponse:
    at = now()
    updated = format_html(
        'Updated <time datetime="{}" data-updated>{}</time>', public.iso(at), "a few seconds ago"
    )
    return render(
        request,
        "status/shell.html",
        {
            "title": f"{title} · {name}" if title else name,
            "page_name": name,
            # Rendered from our templates; only the per-request time goes in.
            "content": mark_safe(content.replace(UPDATED, updated, 1)),  # noqa: S308
        },
    )


@require_safe
def environment(request: HttpRequest, key: str) -> HttpResponse:
    at = now()
    env = get_object_or_404(Environment, pk=key)

    def build() -> tuple[str, str]:
        page = public.Page()
        return _fragment(
            "status/environment.html", pages.environment(page, env, at), page
        ), page.page()["name"]

    content, name = public.cached(
        f"html:env:{env.key}", build, tag=at.replace(second=0, microsecond=0)
    )
    return _titled(request, content, name, env.name)


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
