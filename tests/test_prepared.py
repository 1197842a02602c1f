"""Statements compiled once (caredesk.core.prepared) answer and write exactly what the ORM
does: the hot paths use them, and nothing downstream may tell the difference."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models.signals import post_save

from caredesk.core.prepared import Prepared, insert
from caredesk.people import services as people
from caredesk.people.models import ApiToken, User
from caredesk.sla.models import Clock
from caredesk.tickets import services
from caredesk.tickets.models import Event, Ticket


def _row(obj: Any) -> dict[str, Any]:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def test_a_prepared_lookup_builds_the_rows_the_orm_builds(alice: User) -> None:
    token, raw = people.create_token(alice, scope="read")
    found = people.token_user(raw)
    assert found is not None and found._state.adding is False
    orm = ApiToken.objects.select_related("user", "user__organization").get(pk=token.pk)
    assert _row(found) == {**_row(orm), "last_used_at": found.last_used_at}
    assert _row(found.user) == _row(orm.user)
    assert found.user.organization is not None
    assert _row(found.user.organization) == _row(orm.user.organization)


def test_a_lookup_that_the_orm_rewrites_cannot_be_prepared(model: None) -> None:
    by_address = Prepared(lambda email: User.objects.filter(email__iexact=email))
    with pytest.raises(ValueError, match="exact lookups"):
        by_address.first("Rep@Caredesk.test")


def test_insert_writes_the_row_save_writes(rep: User, alice: User) -> None:
    ticket = services.open_case(actor=rep, requester=alice, subject="Dialer down", channel="email")
    stored = Ticket.objects.get(pk=ticket.pk)
    assert _row(stored) == _row(ticket)
    assert stored.sla_due_at is not None and stored.clocks.get().due_at == stored.sla_due_at
    event = Event.objects.get(ticket=ticket, kind="ticket.opened")
    assert event.data == {"channel": "email", "priority": ticket.priority}
    assert event.actor == rep


def test_insert_still_tells_the_receivers_of_post_save(rep: User, alice: User) -> None:
    heard: list[Any] = []

    def receiver(sender: Any, instance: Any, created: bool, **_: Any) -> None:
        heard.append((sender, instance.pk, created))

    post_save.connect(receiver, sender=Clock)
    try:
        ticket = services.open_case(actor=rep, requester=alice, subject="x", channel="portal")
    finally:
        post_save.disconnect(receiver, sender=Clock)
    clock = Clock.objects.get(ticket=ticket)
    assert heard == [(Clock, clock.pk, True)]


def test_insert_of_a_saved_instance_is_refused_like_save(rep: User, alice: User) -> None:
    ticket = services.open_case(actor=rep, requester=alice, subject="x", channel="email")
    event = Event.objects.filter(ticket=ticket).first()
    assert event is not None
    with pytest.raises(Exception):  # noqa: B017 -- the database's duplicate-key error
        insert(event)
