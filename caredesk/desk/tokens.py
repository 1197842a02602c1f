"""API tokens in the desk: each agent sees and revokes their own; admins see every token."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from caredesk.core import audit
from caredesk.core.clock import now
from caredesk.people import services as people
from caredesk.people.models import ApiToken, User
from caredesk.portal.web import page, user_of
from caredesk.servicemodel.choices import Role

LIMIT = 500


def visible_tokens(user: User) -> QuerySet[ApiToken]:
    tokens = ApiToken.objects.select_related("user")
    return tokens if user.role == Role.ADMIN or user.is_superuser else tokens.filter(user=user)


@page(who="agent")
def token_list(request: HttpRequest) -> HttpResponse:
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
    return render(request, "desk/tokens.html", {"tokens": tokens, "everyone": everyone})


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
