"""Sign-in by a link sent by email, for customer contacts (many have no password at all).

The token and the contact lookups are caredesk.people.magic_links. Opening the link shows a
button; only the POST signs in, so a mail scanner that fetches links cannot use it up.
Requests are throttled per address and per client address; the answer is the same whether
or not the address has an account, so the form tells nobody who is a customer."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth import login
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string

from caredesk.people.magic_links import (
    LINK_MINUTES,
    contact_for_email,
    contact_of_link,
    link_parts,
)
from caredesk.people.models import User
from caredesk.portal.web import Form

# At most this many links per address, and per client address, in THROTTLE_SECONDS.
PER_EMAIL, PER_CLIENT, THROTTLE_SECONDS = 3, 10, 15 * 60
BACKEND = "django.contrib.auth.backends.ModelBackend"


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


def send_link(user: User) -> None:
    uid, token = link_parts(user)
    context = {
        "user": user,
        "base_url": settings.BASE_URL,
        "uid": uid,
        "token": token,
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
        user = contact_for_email(email)
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


def use_link(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    user = contact_of_link(uidb64, token)
    if user is None:
        return render(request, "registration/magic_link_used.html", status=400)
    if request.method == "POST":
        login(request, user, backend=BACKEND)
        return redirect("portal:home")
    return render(request, "registration/magic_link_confirm.html", {"link_user": user})
