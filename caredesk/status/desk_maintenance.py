"""The desk's maintenance scheduler: a window, its components, an optional target
version (an upgrade), with a preview of every notice it will send."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from caredesk.core.errors import DomainError
from caredesk.portal.web import page, user_of
from caredesk.status import preview, services
from caredesk.status.desk_forms import MaintenanceForm
from caredesk.status.desk_views import (
    all_components,
    composer,
    forbidden,
    refusal_status,
    show_domain_error,
)
from caredesk.status.models import Incident


@page(who="agent")
def new_maintenance(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    if not services.can_manage(user):
        return forbidden(request)
    components = all_components()
    if request.method != "POST":
        form = MaintenanceForm(
            initial={"environment": request.GET.get("environment", ""), "auto_transition": True},
            components=components,
        )
        return _schedule(request, form)
    form = MaintenanceForm(request.POST, components=components)
    if not form.is_valid():
        return _schedule(request, form, status=400)
    data = form.cleaned_data

    def schedule() -> Incident:
        return services.schedule_maintenance(
            actor=user,
            name=data["name"],
            body=data["body"],
            scheduled_for=data["scheduled_for"],
            scheduled_until=data["scheduled_until"],
            components=data["components"],
            target_version=data["target_version"],
            environment=data["environment"] or None,
            auto_transition=data["auto_transition"],
        )

    def move(item: Incident, status: str) -> Any:
        return services.update_maintenance(item, actor=user, status=status)

    try:
        if "publish" not in request.POST:
            return _schedule(request, form, shown=preview.maintenance(schedule, move))
        made = schedule()
    except DomainError as error:
        show_domain_error(form, error)
        return _schedule(request, form, status=refusal_status(error))
    messages.success(request, f"Maintenance scheduled: {made.name}.")
    return redirect("desk:status:incident", pk=made.pk)


def _schedule(
    request: HttpRequest,
    form: MaintenanceForm,
    *,
    shown: preview.Preview | None = None,
    status: int = 200,
) -> HttpResponse:
    return composer(request, "status/desk_maintenance_new.html", form, shown, status)
