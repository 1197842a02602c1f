"""What every page of the desk and the portal shares: who may enter, the service's time
zone, and domain errors shown on forms."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, QueryDict
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from caredesk.core.errors import DomainError, NotFound
from caredesk.people.models import User
from caredesk.servicemodel.models import ServiceSettings
from caredesk.tickets.access import get_ticket
from caredesk.tickets.models import Ticket

View = TypeVar("View", bound=Callable[..., HttpResponseBase])


def user_of(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _zone(service: ServiceSettings) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(service.time_zone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def page(*, who: str) -> Callable[[View], View]:
    """A page for `who` ("agent", "customer" or "anyone"): anonymous visitors of a private
    page go to the sign-in form; a customer asking for an agent page gets 404, never 403.

    Times show in the service's zone (the guide's ET); the override ends with the request so
    no other page inherits it.
    """

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            user = request.user
            if who != "anyone" and not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if who == "agent" and not getattr(user, "is_agent", False):
                raise Http404("No such page.")
            service = ServiceSettings.current()
            request.service = service  # type: ignore[attr-defined]
            with timezone.override(_zone(service)):
                return view(request, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def ticket_or_404(user: User, number: str) -> Ticket:
    """The ticket if the user may see it; every other number is a plain 404."""
    try:
        return get_ticket(user, number)
    except NotFound:
        raise Http404(f"No ticket {number}.") from None


class Form(forms.Form):
    """A form whose labels carry no trailing colon (the layout sets them apart)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


def show_error(form: forms.Form, error: DomainError) -> None:
    """A refused request as a form error, on the field at fault when the form has it."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)


def back_to(request: HttpRequest, fallback: str) -> str:
    """The page the form says to return to (`next`), if it is one of ours; else `fallback`."""
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return back
    return fallback


def query_with(params: QueryDict, **changes: str | None) -> str:
    """The query string of `params` with some keys replaced (None drops them)."""
    merged = {k: v for k, v in params.items() if v}
    for key, value in changes.items():
        if value:
            merged[key] = value
        else:
            merged.pop(key, None)
    return urlencode(merged)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one name: the services check each file's size."""

    MAX_FILES = 10

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", "Attachments")
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, list | tuple) else [data] if data else []
        if len(files) > self.MAX_FILES:
            raise forms.ValidationError(f"Attach at most {self.MAX_FILES} files at a time.")
        return [super(MultipleFileField, self).clean(f, initial) for f in files]
