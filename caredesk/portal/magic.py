"""Sign-in by a link sent by email, for customer contacts (many have no password at all).

The link carries a signed token that expires after LINK_MINUTES and works once: its hash
covers the contact's last sign-in, which signing in changes. Opening the link shows a
button; only the POST signs in, so a mail scanner that fetches links cannot use it up.
Requests are throttled per address and per client address; the answer is the same whether
or not the address has an account, so the form tells nobody who is a customer."""

from __future__ import annotations

from datetime import datetime

from django import forms
from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.encoding import force_bytes, force_str
from django.utils.http import base36_to_int, urlsafe_base64_decode, urlsafe_base64_encode

from caredesk.core.clock import now
from caredesk.people.models import User
from caredesk.portal.web import Form
from caredesk.servicemodel.choices import Role

LINK_MINUTES = 15
# At most this many links per address, and per client address, in THROTTLE_SECONDS.
PER_EMAIL, PER_CLIENT, THROTTLE_SECONDS = 3, 10, 15 * 60
BACKEND = "django.contrib.auth.backends.ModelBackend"


class MagicLinkTokens(PasswordResetTokenGenerator):
    key_salt = "caredesk.portal.magic.MagicLinkTokens"

    def _make_hash_value(self, user: User, timestamp: int) -> str:  # type: ignore[override]
        # No password in the hash (a contact may have none); the last sign-in makes it single-use.
        login_at = "" if user.last_login is None else user.last_login.replace(microsecond=0)
        return f"{user.pk}{login_at}{timestamp}{user.email}{user.is_active}"

    def _now(self) -> datetime:
        return now().replace(tzinfo=None)

    def check_token(self, user: User | None, token: str | None) -> bool:  # type: ignore[override]
        if not super().check_token(user, token):
            return False
        ts_b36 = str(token).split("-")[0]
        try:
            issued = base36_to_int(ts_b36)
        except ValueError:
            return False
        return self._num_seconds(self._now()) - issued <= LINK_MINUTES * 60


tokens = MagicLinkTokens()


class MagicLinkForm(Form):
    email = forms.EmailField(
        label="Email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


def _allowed(key: str, limit: int) -> bool:
    """Count one more request under `key`; False once `limit` is passed in the window."""
    cache.add(key, 0, THROTTLE_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, THROTTLE_SECONDS)
        count = 1
    return count <= limit


def _contact(email: str) -> User | None:
    return User.objects.filter(
        email__iexact=email.strip(), role=Role.CUSTOMER, is_active=True
    ).first()


def send_link(user: User) -> None:
    context = {
        "user": user,
        "base_url": settings.BASE_URL,
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": tokens.make_token(user),
        "minutes": LINK_MINUTES,
    }
    subject = render_to_string("registration/magic_link-subject.txt", context).strip()
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=render_to_string("registration/magic_link-body.txt", context),
        to=[user.email],
    )
    message.attach_alternative(
        render_to_string("registration/magic_link-body.html", context), "text/html"
    )
    message.send()


def request_link(request: HttpRequest) -> HttpResponse:
    form = MagicLinkForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].strip().lower()
        client = request.META.get("REMOTE_ADDR", "")
        if not (
            _allowed(f"magic:client:{client}", PER_CLIENT)
            and _allowed(f"magic:email:{email}", PER_EMAIL)
        ):
            form.add_error(
                None,
                f"Too many sign-in links were asked for just now. Wait {THROTTLE_SECONDS // 60}"
                " minutes, or use the link you already have.",
            )
            return render(request, "registration/magic_link_form.html", {"form": form}, status=429)
        user = _contact(email)
        if user is not None:
            send_link(user)
        return redirect("portal:magic_link_sent")
    return render(
        request,
        "registration/magic_link_form.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


def link_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "registration/magic_link_sent.html", {"minutes": LINK_MINUTES})


def _user_of_link(uidb64: str) -> User | None:
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError):
        return None
    return User.objects.filter(pk=pk, role=Role.CUSTOMER, is_active=True).first()


def use_link(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    user = _user_of_link(uidb64)
    valid = user is not None and tokens.check_token(user, token)
    if not valid:
        return render(request, "registration/magic_link_used.html", status=400)
    if request.method == "POST":
        assert user is not None
        login(request, user, backend=BACKEND)
        return redirect("portal:home")
    return render(request, "registration/magic_link_confirm.html", {"link_user": user})
