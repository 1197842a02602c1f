"""The rules of people: organizations, contacts, agents and API tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from caredesk.core.clock import now
from caredesk.core.errors import Conflict, InvalidInput, NotFound
from caredesk.core.prepared import Prepared
from caredesk.people.models import ApiToken, Organization, OrganizationDomain, TokenScope, User
from caredesk.servicemodel.choices import TEAM_ROLES, Role
from caredesk.servicemodel.models import Team

TOKEN_PREFIX = "cd_"  # noqa: S105 (a marker that says "caredesk token", not a secret)
# Each role's home team, when --team is not given.
DEFAULT_TEAM = {
    Role.REPRESENTATIVE: "customer-care",
    Role.ENGINEER: "technical-support",
    Role.COORDINATOR: "project-coordination",
    Role.EMERGENCY: "emergency-care",
}


def normalize_email(email: str) -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput(f"{email!r} is not an email address.", field="email") from None
    return email


def normalize_phone(number: str, region: str = "US") -> str:
    """A phone number in E.164 ("+18884773448"), or InvalidInput."""
    if not number.strip():
        return ""
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        raise InvalidInput(f"{number!r} is not a phone number.", field="phone") from None
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidInput(f"{number!r} is not a possible phone number.", field="phone")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


@transaction.atomic
def get_or_create_organization(
    name_or_key: str, *, domains: list[str] | None = None
) -> Organization:
    """The organization with this key or name; created when new."""
    text = name_or_key.strip()
    key = slugify(text)
    if not key:
        raise InvalidInput(f"{name_or_key!r} is not an organization name.", field="org")
    org = (
        Organization.objects.filter(key=key).first()
        or Organization.objects.filter(name=text).first()
    )
    if org is None:
        name = text if text != key else text.replace("-", " ").title()
        org = Organization.objects.create(key=key, name=name)
    for domain in domains or []:
        OrganizationDomain.objects.get_or_create(
            domain=domain.lower().strip(), defaults={"organization": org}
        )
    return org


@transaction.atomic
def add_user(
    email: str,
    *,
    role: str,
    team: str | None = None,
    org: str | None = None,
    name: str = "",
    password: str | None = None,
    phone: str = "",
    extension: str = "",
) -> User:
    """Add an agent (with a team) or a customer contact (of an organization)."""
    email = normalize_email(email)
    roles = [r.value for r in Role]
    if role not in roles:
        raise InvalidInput(f"Unknown role {role!r}; use one of {', '.join(roles)}.", field="role")
    if User.objects.filter(email=email).exists():
        raise Conflict(f"{email} already has an account.", field="email")
    team_obj = None
    team_key = team or DEFAULT_TEAM.get(Role(role))
    if role == Role.CUSTOMER and team:
        raise InvalidInput("A customer belongs to an organization, not a team.", field="team")
    if team_key:
        team_obj = Team.objects.filter(pk=team_key).first()
        if team_obj is None:
            known = ", ".join(Team.objects.values_list("key", flat=True)) or "none; load a model"
            raise InvalidInput(f"Unknown team {team_key!r}; use one of {known}.", field="team")
        if (
            role in TEAM_ROLES
            and team_obj.role != role
            and not (role == Role.EMERGENCY and team_obj.covers)
        ):
            raise InvalidInput(
                f"{team_obj.name} is a team of {team_obj.role}s, not of {role}s.", field="team"
            )
    organization = None
    if role == Role.CUSTOMER:
        if not org:
            raise InvalidInput("A customer needs --org, their organization.", field="org")
        organization = get_or_create_organization(org)
    elif org:
        raise InvalidInput("Only customers belong to an organization.", field="org")
    return User.objects.create_user(
        email,
        password,
        role=role,
        team=team_obj,
        organization=organization,
        name=" ".join(name.split()),
        phone=normalize_phone(phone),
        extension=extension,
        is_staff=role in (Role.ADMIN, Role.MANAGER),
        is_superuser=role == Role.ADMIN,
    )


def organization_for_email(email: str) -> Organization | None:
    domain = email.rpartition("@")[2].lower()
    found = OrganizationDomain.objects.filter(domain=domain).select_related("organization").first()
    return found.organization if found else None


# Every case opened for a requester by address looks its contact up (email is unique).
_USER_BY_EMAIL = Prepared(
    lambda email: User.objects.filter(email=email).select_related("organization")[:1], email=str
)


def user_by_email(email: str) -> User | None:
    """The user with exactly this (normalized) address, with their organization."""
    return _USER_BY_EMAIL.first(email=email)


def find_or_create_contact(
    email: str, *, name: str = "", organization: Organization | None = None
) -> User:
    """The customer contact with this address; new ones join the organization given, or the
    one that owns their email domain."""
    # No transaction of its own: the one write below has its block, which a caller's
    # transaction turns into a savepoint only when a contact is new.
    email = normalize_email(email)
    user = user_by_email(email)
    if user is None:
        try:
            with transaction.atomic():
                return User.objects.create_user(
                    email,
                    role=Role.CUSTOMER,
                    # One line: names go into mail headers (To: "Name" <address>).
                    name=" ".join(name.split())[:200],
                    organization=organization or organization_for_email(email),
                )
        except IntegrityError:
            # Two first messages from one sender at once (PostgreSQL): the other request
            # added the address a moment earlier, so use that contact.
            user = User.objects.select_related("organization").get(email=email)
    if user.is_agent:
        raise InvalidInput(f"{email} is an agent, not a customer contact.", field="requester")
    return user


def _digest(raw: str) -> str:
    # A keyed fast hash: tokens are long random strings, so no password hash is needed,
    # and lookups by digest stay one indexed query.
    return hmac.new(settings.SECRET_KEY.encode(), raw.encode(), hashlib.sha256).hexdigest()


def create_token(
    user: User, *, scope: str = TokenScope.ALL, name: str = "", expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """A new token for the user; answers the stored row and the token itself (shown once)."""
    scopes = [s.value for s in TokenScope]
    if scope not in scopes:
        raise InvalidInput(
            f"Unknown scope {scope!r}; use one of {', '.join(scopes)}.", field="scope"
        )
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=raw[:10],
        digest=_digest(raw),
        scope=scope,
        expires_at=expires_at,
    )
    return token, raw


# Every API request makes this lookup: compiled once (the digest is unique, so unordered).
_LIVE_TOKEN = Prepared(
    lambda digest: ApiToken.objects.select_related("user", "user__organization").filter(
        digest=digest, revoked_at__isnull=True
    )[:1],
    digest=str,
)


def token_user(raw: str) -> ApiToken | None:
    """The live token for this secret, or None (unknown, revoked, expired, or user inactive)."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 100:
        return None
    token = _LIVE_TOKEN.first(digest=_digest(raw))
    if token is None or not token.user.is_active:
        return None
    at = now()
    if token.expires_at is not None and token.expires_at <= at:
        return None
    # Write last use at most once a minute: a hot token must not turn every read into a write.
    if token.last_used_at is None or (at - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=at)
    return token


def revoke_token(token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now())


def get_user(email: str) -> User:
    user = User.objects.filter(email=normalize_email(email)).first()
    if user is None:
        raise NotFound(f"No user {email}.", field="email")
    return user
