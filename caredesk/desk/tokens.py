"""API tokens in the desk: each agent sees and revokes their own; admins see every token."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from caredesk.core import audit
from caredesk.core.clock import now
from caredesk.people import services as people
from caredesk.people.models import ApiToken, TokenScope, User
from caredesk.portal.web import Form, page, user_of
from caredesk.servicemodel.choices import Role

LIMIT = 500
MAX_DAYS = 3650


class NewTokenForm(Form):
    name = forms.CharField(max_length=200, required=False, label="What it is for")
    scope = forms.ChoiceField(choices=TokenScope.choices, initial=TokenScope.READ)
    days = forms.IntegerField(
        min_value=1, max_value=MAX_DAYS, required=False, initial=90, label="Expires after (days)",
        help_text="Leave empty for a token that never expires.",
    )  # fmt: skip


def visible_tokens(user: User) -> QuerySet[ApiToken]:
    tokens = ApiToken.objects.select_related("user")
    return tokens if user.role == Role.ADMIN or user.is_superuser else tokens.filter(user=user)


@page(who="agent")
def token_list(request: HttpRequest) -> HttpResponse:
    return _render(request, NewTokenForm())


@require_POST
@page(who="agent")
def create(request: HttpRequest) -> HttpResponse:
    """A token for the signed-in agent, shown on this one page and never again."""
    user = user_of(request)
    form = NewTokenForm(request.POST)
    if not form.is_valid():
        return _render(request, form, status=400)
    days = form.cleaned_data["days"]
    with transaction.atomic():
        token, raw = people.create_token(
            user,
            scope=form.cleaned_data["scope"],
            name=form.cleaned_data["name"].strip(),
            expires_at=now() + timedelta(days=days) if days else None,
        )
        audit.record(
            actor=user, source="desk", action="token.created", obj=token,
            after=audit.snapshot(token),
        )  # fmt: skip
    response = _render(request, NewTokenForm(), created=raw)
    response["Cache-Control"] = "no-store"  # the token must not stay in a cache
    return response


def _render(
    request: HttpRequest, form: NewTokenForm, *, created: str = "", status: int = 200
) -> HttpResponse:
    user = user_of(request)
    tokens = list(visible_tokens(user).order_by("revoked_at", "-created_at", "-id")[:LIMIT])
    at = now()
    for token in tokens:
        token.state = (  # type: ignore[attr-defined]
            "revoked"
            if token.revoked_at
            else "expired"
            if token.expires_at and token.expires_at <= at
            else "active"
        )
    everyone = user.role == Role.ADMIN or user.is_superuser
    context = {"tokens": tokens, "everyone": everyone, "form": form, "created": created}
    return render(request, "desk/tokens.html", context, status=status)


@require_POST
@page(who="agent")
def revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    user = user_of(request)
    with transaction.atomic():
        token = visible_tokens(user).select_for_update().filter(pk=token_id).first()
        if token is None:
            raise Http404("No such token.")
        if token.revoked_at is None:
            before = audit.snapshot(token)
            people.revoke_token(token)
            token.refresh_from_db()
            audit.record(
                actor=user,
                source="desk",
                action="token.revoked",
                obj=token,
                before=before,
                after=audit.snapshot(token),
            )
            messages.success(request, f"Token {token.prefix}… is revoked; it no longer works.")
    return redirect("desk:tokens")
