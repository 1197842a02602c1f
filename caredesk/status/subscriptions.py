"""Subscribers of the status page: email with double opt-in, webhooks, and who hears what.

An email subscriber is pending until it follows the signed link of its confirmation mail;
nothing but that mail goes to a pending address. Its manage and unsubscribe links are
signed per subscriber and work without signing in. A webhook subscriber is added by a
manager; its URL must not point inside our network (see webhooks.check_url).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import reverse

from caredesk.core.clock import now
from caredesk.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from caredesk.people.models import User
from caredesk.status import webhooks
from caredesk.status.models import Component, Environment, Incident, IncidentUpdate, Subscriber

CONFIRM_SALT = "caredesk.status.confirm"
SUBSCRIBER_SALT = "caredesk.status.subscriber"
CONFIRM_MAX_AGE = timedelta(days=7)
# A pending address gets at most one confirmation mail in this time, however often the
# form is posted: the form must not become a way to flood someone's inbox.
RESEND_AFTER = timedelta(minutes=10)


# --- signed links -------------------------------------------------------------------------


def _absolute(path: str) -> str:
    return settings.BASE_URL + path


def confirm_url(subscriber: Subscriber) -> str:
    signed = signing.dumps(subscriber.token, salt=CONFIRM_SALT)
    return _absolute(reverse("status:confirm", args=[signed]))


def link_token(subscriber: Subscriber) -> str:
    return signing.Signer(salt=SUBSCRIBER_SALT).sign(subscriber.token)


def manage_url(subscriber: Subscriber) -> str:
    return _absolute(reverse("status:manage", args=[link_token(subscriber)]))


def unsubscribe_url(subscriber: Subscriber) -> str:
    return _absolute(reverse("status:unsubscribe", args=[link_token(subscriber)]))


def from_confirm_link(signed: str) -> Subscriber:
    try:
        token = signing.loads(signed, salt=CONFIRM_SALT, max_age=CONFIRM_MAX_AGE)
    except signing.SignatureExpired:
        raise Conflict("This confirmation link has expired; subscribe again.") from None
    except signing.BadSignature:
        raise NotFound("This confirmation link is not valid.") from None
    return _by_token(token)


def from_link(signed: str) -> Subscriber:
    try:
        token = signing.Signer(salt=SUBSCRIBER_SALT).unsign(signed)
    except signing.BadSignature:
        raise NotFound("This subscription link is not valid.") from None
    return _by_token(token)


def _by_token(token: Any) -> Subscriber:
    found = Subscriber.objects.filter(token=str(token)).first()
    if found is None:
        raise NotFound("There is no such subscription.")
    return found


# --- choices ------------------------------------------------------------------------------


def _choices(
    environments: Iterable[str], components: Iterable[int | str]
) -> tuple[list[Environment], list[Component]]:
    keys = {str(k) for k in environments if str(k).strip()}
    envs = list(Environment.objects.filter(pk__in=keys))
    unknown = keys - {e.pk for e in envs}
    if unknown:
        raise InvalidInput(
            f"There is no environment {', '.join(sorted(unknown))}.", field="environments"
        )
    ids: set[int] = set()
    for value in components:
        try:
            ids.add(int(value))
        except (TypeError, ValueError):
            raise InvalidInput(f"{value!r} is not a component id.", field="components") from None
    comps = list(Component.objects.filter(pk__in=ids))
    missing = ids - {c.pk for c in comps}
    if missing:
        raise InvalidInput(
            f"There is no component {', '.join(map(str, sorted(missing)))}.", field="components"
        )
    return envs, comps


def _set_choices(
    subscriber: Subscriber, environments: list[Environment], components: list[Component]
) -> None:
    subscriber.environments.set(environments)
    subscriber.components.set(components)


def _check_email(email: str) -> str:
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput("Enter a valid email address.", field="email") from None
    return email


# --- email subscribers --------------------------------------------------------------------


def subscribe(
    *,
    actor: User | None,
    email: str,
    environments: Iterable[str] = (),
    components: Iterable[int | str] = (),
) -> Subscriber:
    """Start a subscription; it takes effect when the confirmation link is followed.

    Answers the same whether or not the address already subscribes, so the form tells no
    one who is subscribed.
    """
    email = _check_email(email)
    envs, comps = _choices(environments, components)
    at = now()
    with transaction.atomic():
        subscriber = (
            Subscriber.objects.select_for_update()
            .filter(email__iexact=email, url="", confirmed_at=None, unsubscribed_at=None)
            .first()
        )
        if subscriber is None:
            subscriber = Subscriber.objects.create(
                email=email, token=secrets.token_urlsafe(32), created_at=at
            )
        _set_choices(subscriber, envs, comps)
        last = subscriber.confirmation_sent_at
        if last is None or last <= at - RESEND_AFTER:
            subscriber.confirmation_sent_at = at
            subscriber.save(update_fields=["confirmation_sent_at"])
            transaction.on_commit(partial(_send_confirmation, subscriber.pk))
    return subscriber


def confirm(subscriber: Subscriber, *, actor: User | None = None) -> Subscriber:
    """Confirm an address; its earlier subscriptions give way to this one."""
    at = now()
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
        if subscriber.unsubscribed_at is not None:
            raise Conflict("This subscription was cancelled; subscribe again.")
        if subscriber.confirmed_at is None:
            subscriber.confirmed_at = at
            subscriber.save(update_fields=["confirmed_at"])
            Subscriber.objects.filter(
                email__iexact=subscriber.email, url="", unsubscribed_at=None
            ).exclude(pk=subscriber.pk).update(unsubscribed_at=at)
    return subscriber


def unsubscribe(subscriber: Subscriber, *, actor: User | None = None) -> Subscriber:
    """Stop every notice to this subscriber; doing it twice changes nothing."""
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
        if subscriber.unsubscribed_at is None:
            subscriber.unsubscribed_at = now()
            subscriber.save(update_fields=["unsubscribed_at"])
    return subscriber


def unsubscribe_by_token(token: str, *, actor: User | None = None) -> Subscriber:
    """Leave by the List-Unsubscribe mailto: address (RFC 2369).

    The mail intake calls it with the subject of a message sent to that address; the
    subject is "unsubscribe <token>", and the bare token works too. A token that is not
    ours raises NotFound; unsubscribing twice changes nothing.
    """
    words = (token or "").split()
    if not words:
        raise NotFound("There is no unsubscribe token.")
    return unsubscribe(from_link(words[-1]), actor=actor)


def set_choices(
    subscriber: Subscriber,
    *,
    actor: User | None = None,
    environments: Iterable[str] = (),
    components: Iterable[int | str] = (),
) -> Subscriber:
    """Choose what to hear about; nothing chosen means the whole page."""
    if subscriber.unsubscribed_at is not None:
        raise Conflict("This subscription was cancelled; subscribe again.")
    envs, comps = _choices(environments, components)
    with transaction.atomic():
        _set_choices(subscriber, envs, comps)
    return subscriber


def _send_confirmation(subscriber_id: int) -> None:
    from caredesk.status import tasks

    tasks.send_confirmation(subscriber_id)


# --- webhook subscribers ------------------------------------------------------------------


def add_webhook(
    *,
    actor: User | None,
    url: str,
    environments: Iterable[str] = (),
    components: Iterable[int | str] = (),
) -> Subscriber:
    """A webhook subscriber, active at once; its secret signs every payload."""
    from caredesk.status.services import can_manage

    if actor is not None and not can_manage(actor):
        raise Forbidden("Only managers and admins may add webhook subscribers.")
    url = webhooks.check_url((url or "").strip())
    envs, comps = _choices(environments, components)
    at = now()
    with transaction.atomic():
        subscriber = Subscriber.objects.create(
            url=url,
            secret=secrets.token_hex(32),
            token=secrets.token_urlsafe(32),
            created_at=at,
            confirmed_at=at,
        )
        _set_choices(subscriber, envs, comps)
    return subscriber


# --- who hears what -----------------------------------------------------------------------


def active() -> QuerySet[Subscriber]:
    return Subscriber.objects.filter(confirmed_at__isnull=False, unsubscribed_at=None)


def interested(components: Iterable[int], environments: Iterable[str]) -> QuerySet[Subscriber]:
    """Active subscribers of any of these components or environments, or of everything.

    With neither (a page-wide incident) every active subscriber hears of it.
    """
    comps, envs = set(components), {e for e in environments if e}
    if not comps and not envs:
        return active()
    by_env = Subscriber.environments.through.objects.filter(subscriber_id=OuterRef("pk"))
    by_comp = Subscriber.components.through.objects.filter(subscriber_id=OuterRef("pk"))
    everything = ~Exists(by_env) & ~Exists(by_comp)
    return active().filter(
        everything
        | Q(Exists(by_env.filter(environment_id__in=envs)))
        | Q(Exists(by_comp.filter(component_id__in=comps)))
    )


def audience(incident: Incident) -> QuerySet[Subscriber]:
    components = list(incident.affected.values_list("component_id", flat=True))
    environments = set(
        Component.objects.filter(pk__in=components).values_list("environment_id", flat=True)
    )
    if incident.environment_id:
        environments.add(incident.environment_id)
    return interested(components, environments)


def notify(update: IncidentUpdate) -> None:
    """Tell the subscribers of this update, once the transaction that made it commits."""
    if update.deliver_notifications:
        transaction.on_commit(partial(_fan_out, update.pk))


def notify_component(change_id: int) -> None:
    """Tell webhook subscribers of a component's status change, after the commit."""
    transaction.on_commit(partial(_fan_out_change, change_id))


def _fan_out(update_id: int) -> None:
    from caredesk.status import tasks

    tasks.notify_update(update_id)


def _fan_out_change(change_id: int) -> None:
    from caredesk.status import tasks

    tasks.notify_component_change(change_id)
