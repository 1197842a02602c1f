"""The desk's status editor (/desk/status/): thin adapters over services.py and links.py.

Every agent sees the page, the incidents and their linked tickets, and links tickets;
changing the page (component statuses and versions, incidents, maintenance) is for
managers and admins, as the services enforce. Composing shows a preview of what
subscribers will receive before anything is published (preview.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from caredesk.core.errors import DomainError
from caredesk.people.models import User
from caredesk.portal.web import page, show_error, user_of
from caredesk.status import links, preview, services, surges
from caredesk.status.desk_forms import (
    ComponentForm,
    IncidentForm,
    LinkForm,
    MaintenanceMoveForm,
    UpdateForm,
)
from caredesk.status.models import (
    MAINTENANCE_OPEN,
    UNRESOLVED,
    Component,
    Incident,
)
from caredesk.tickets.access import get_ticket

RECENT = 10


def all_components() -> list[Component]:
    return list(
        Component.objects.select_related("environment").order_by(
            "environment__position", "environment__key", "position", "name"
        )
    )


def show_domain_error(form: forms.Form, error: DomainError) -> None:
    # The services name a component's field "components.<id>"; the form calls it "c<id>".
    if error.field and error.field.startswith("components."):
        error.field = "c" + error.field.removeprefix("components.")
    show_error(form, error)


def refusal_status(error: DomainError) -> int:
    return error.status if 400 <= error.status < 500 else 400


def forbidden(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "status/desk_forbidden.html",
        {"reason": "Only managers and admins change the status page."},
        status=403,
    )


# --- the overview -----------------------------------------------------------------------


@page(who="agent")
def index(request: HttpRequest) -> HttpResponse:
    return _index(request)


def _index(
    request: HttpRequest, bound: dict[int, ComponentForm] | None = None, status: int = 200
) -> HttpResponse:
    user = user_of(request)
    components = all_components()
    bound = bound or {}
    rows = []
    for c in components:
        form = bound.get(c.pk) or ComponentForm(
            initial={"status": c.status, "version": c.version}, prefix=f"c{c.pk}"
        )
        rows.append((c, form))
    items = list(
        Incident.objects.filter(status__in=(*UNRESOLVED, *MAINTENANCE_OPEN))
        .prefetch_related("links")
        .order_by("scheduled_for", "-started_at", "-id")
    )
    context = {
        "rows": rows,
        "can_manage": services.can_manage(user),
        "incidents": [i for i in items if not i.is_maintenance],
        "maintenances": [i for i in items if i.is_maintenance],
        "recent": list(
            Incident.objects.exclude(pk__in=[i.pk for i in items]).order_by("-started_at", "-id")[
                :RECENT
            ]
        ),
        "surges": surges.surges(),
    }
    return render(request, "status/desk_index.html", context, status=status)


@require_POST
@page(who="agent")
def set_component(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    component = Component.objects.select_related("environment").filter(pk=pk).first()
    if component is None:
        raise Http404("No such component.")
    form = ComponentForm(request.POST, prefix=f"c{pk}")
    if form.is_valid():
        try:
            services.set_component(
                component,
                actor=user,
                status=form.cleaned_data["status"],
                version=form.cleaned_data["version"],
            )
        except DomainError as error:
            show_domain_error(form, error)
            return _index(request, {pk: form}, status=refusal_status(error))
        messages.success(request, f"{component.environment_id} {component.name} saved.")
        return redirect("desk:status:index")
    return _index(request, {pk: form}, status=400)


# --- incidents --------------------------------------------------------------------------


def _prefill(request: HttpRequest, components: list[Component]) -> dict[str, Any]:
    """A composer opened from a surge: its environment, components and tickets."""
    env = request.GET.get("environment", "")
    wanted = set(request.GET.getlist("component"))
    initial: dict[str, Any] = {"environment": env, "tickets": request.GET.getlist("ticket")}
    if env:
        initial["name"] = request.GET.get("name") or f"{env}: service disruption"
    for c in components:
        if str(c.pk) in wanted:
            initial[f"c{c.pk}"] = "partial_outage"
    return initial


@page(who="agent")
def new_incident(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    if not services.can_manage(user):
        return forbidden(request)
    components = all_components()
    if request.method != "POST":
        form = IncidentForm(initial=_prefill(request, components), components=components)
        return _compose(request, form)
    form = IncidentForm(request.POST, components=components)
    if not form.is_valid():
        return _compose(request, form, status=400)
    data = form.cleaned_data

    def create() -> Incident:
        return services.create_incident(
            actor=user,
            name=data["name"],
            body=data["body"],
            status=data["status"],
            impact=data["impact"] or None,
            environment=data["environment"] or None,
            components=form.component_statuses(),
        )

    try:
        if "publish" not in request.POST:
            return _compose(request, form, shown=preview.incident(create))
        # The incident and its tickets' links stand or fall together.
        with transaction.atomic():
            incident = create()
            for number in data["tickets"]:
                links.link_ticket(incident, get_ticket(user, number), actor=user)
    except DomainError as error:
        show_domain_error(form, error)
        return _compose(request, form, status=refusal_status(error))
    messages.success(request, f"Incident published: {incident.name}.")
    return redirect("desk:status:incident", pk=incident.pk)


def _compose(
    request: HttpRequest,
    form: IncidentForm,
    *,
    shown: preview.Preview | None = None,
    status: int = 200,
) -> HttpResponse:
    tickets = form["tickets"].value() or []
    return composer(request, "status/desk_incident_new.html", form, shown, status, tickets=tickets)


def composer(
    request: HttpRequest,
    template: str,
    form: forms.Form,
    shown: preview.Preview | None,
    status: int,
    **context: Any,
) -> HttpResponse:
    """A new incident's or maintenance's form, with the preview of its notices when asked."""
    context.update(form=form, preview=shown)
    return render(request, template, context, status=status)


def get_incident(pk: int) -> Incident:
    found = Incident.objects.select_related("environment").filter(pk=pk).first()
    if found is None:
        raise Http404("No such incident.")
    return found


@page(who="agent")
def incident(request: HttpRequest, pk: int) -> HttpResponse:
    return detail(request, get_incident(pk))


def detail(
    request: HttpRequest,
    item: Incident,
    *,
    bound: forms.Form | None = None,
    shown: preview.Preview | None = None,
    status: int = 200,
) -> HttpResponse:
    user = user_of(request)
    components = _affected_first(item)
    forms_by_name: dict[str, forms.Form] = {"link": LinkForm()}
    if item.is_maintenance:
        forms_by_name["move"] = MaintenanceMoveForm(
            initial={"status": _next_maintenance_status(item)}
        )
    else:
        forms_by_name["update"] = UpdateForm(
            initial={"status": item.status if item.status in UNRESOLVED else "resolved"},
            components=components,
        )
    if bound is not None:
        forms_by_name[_form_name(bound)] = bound
    ticket_links = list(
        item.links.select_related("ticket", "ticket__requester").order_by("linked_at", "pk")
    )
    context = {
        "incident": item,
        "updates": list(item.updates.select_related("actor")),
        "components": list(Component.objects.filter(incidents=item).select_related("environment")),
        "links": ticket_links,
        "open_links": [lk for lk in ticket_links if lk.ticket.status not in links.DONE],
        "can_manage": services.can_manage(user),
        "preview": shown,
        **{f"{name}_form": form for name, form in forms_by_name.items()},
    }
    return render(request, "status/desk_incident.html", context, status=status)


def _form_name(form: forms.Form) -> str:
    return {
        UpdateForm: "update",
        MaintenanceMoveForm: "move",
        LinkForm: "link",
    }[type(form)]


def _affected_first(item: Incident) -> list[Component]:
    affected = set(item.affected.values_list("component_id", flat=True))
    components = all_components()
    if item.environment_id:
        components = [c for c in components if c.environment_id == item.environment_id]
    return sorted(components, key=lambda c: c.pk not in affected)


def _next_maintenance_status(item: Incident) -> str:
    return {"scheduled": "in_progress", "in_progress": "completed"}.get(item.status, "completed")


@require_POST
@page(who="agent")
def post_update(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    item = get_incident(pk)
    if not services.can_manage(user):
        return forbidden(request)
    if item.is_maintenance:
        return _move(request, user, item)
    form = UpdateForm(request.POST, components=_affected_first(item))
    if not form.is_valid():
        return detail(request, item, bound=form, status=400)
    data = form.cleaned_data

    def post() -> Any:
        return services.update_incident(
            item,
            actor=user,
            status=data["status"],
            body=data["body"],
            impact=data["impact"] or None,
            components=form.component_statuses(),
        )

    return _publish(request, item, form, post, lambda: preview.update(post))


def _move(request: HttpRequest, user: User, item: Incident) -> HttpResponse:
    form = MaintenanceMoveForm(request.POST)
    if not form.is_valid():
        return detail(request, item, bound=form, status=400)

    def post() -> Any:
        return services.update_maintenance(
            item, actor=user, status=form.cleaned_data["status"], body=form.cleaned_data["body"]
        )

    return _publish(request, item, form, post, lambda: preview.update(post))


def _publish(
    request: HttpRequest,
    item: Incident,
    form: forms.Form,
    post: Callable[[], Any],
    show: Callable[[], preview.Preview],
) -> HttpResponse:
    try:
        if "publish" not in request.POST:
            return detail(request, get_incident(item.pk), bound=form, shown=show())
        post()
    except DomainError as error:
        show_domain_error(form, error)
        return detail(request, get_incident(item.pk), bound=form, status=refusal_status(error))
    messages.success(request, "Update published.")
    return redirect("desk:status:incident", pk=item.pk)
