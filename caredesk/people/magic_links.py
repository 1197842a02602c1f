"""Sign-in links for customer contacts: the signed token and the contact a link names.

The token expires after LINK_MINUTES and works once: its hash covers the contact's last
sign-in, which signing in changes. No password is part of it (many contacts have none)."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.encoding import force_bytes, force_str
from django.utils.http import base36_to_int, urlsafe_base64_decode, urlsafe_base64_encode

from caredesk.core.clock import now
from caredesk.people.models import User
from caredesk.servicemodel.choices import Role

LINK_MINUTES = 15


class MagicLinkTokens(PasswordResetTokenGenerator):
    key_salt = "caredesk.portal.magic.MagicLinkTokens"

    def _make_hash_value(self, user: User, timestamp: int) -> str:  # type: ignore[override]
        login_at = "" if user.last_login is None else user.last_login.replace(microsecond=0)
        return f"{user.pk}{login_at}{timestamp}{user.email}{user.is_active}"

    def _now(self) -> datetime:
        return now().replace(tzinfo=None)

    def check_token(self, user: User | None, token: str | None) -> bool:  # type: ignore[override]
        if not super().check_token(user, token):
            return False
        try:
            issued = base36_to_int(str(token).split("-")[0])
        except ValueError:
            return False
        return self._num_seconds(self._now()) - issued <= LINK_MINUTES * 60


tokens = MagicLinkTokens()


def contact_for_email(email: str) -> User | None:
    """The active customer contact with this address; agents sign in with a password."""
    return User.objects.filter(
        email__iexact=email.strip(), role=Role.CUSTOMER, is_active=True
    ).first()


def link_parts(user: User) -> tuple[str, str]:
    """(uidb64, token) of a new link for the contact."""
    return urlsafe_base64_encode(force_bytes(user.pk)), tokens.make_token(user)


def contact_of_link(uidb64: str, token: str) -> User | None:
    """The contact a link signs in, or None when the link is bad, used or expired."""
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError):
        return None
    user = User.objects.filter(pk=pk, role=Role.CUSTOMER, is_active=True).first()
    return user if user is not None and tokens.check_token(user, token) else None
