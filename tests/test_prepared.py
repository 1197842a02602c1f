"""Compiled-once queries answer exactly what their querysets answer, in one statement, with
new values bound on every run (on SQLite and PostgreSQL alike)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db.models import Count, Q
from django.db.models.signals import post_save

from caredesk.core.clock import now
from caredesk.core.prepared import Prepared, insert, update
from caredesk.people.models import User
from caredesk.sla.models import Clock
from caredesk.tickets import services as tickets
from caredesk.tickets.models import Event, Ticket


def _same(a: User | None, b: User | None) -> None:
    assert a is not None and b is not None
    assert {k: v for k, v in vars(a).items() if k != "_state"} == {
        k: v for k, v in vars(b).items() if k != "_state"
    }


def test_a_prepared_lookup_answers_as_its_queryset_does(
    alice: User, bob: User, gina: User, django_assert_num_queries: Any
) -> None:
    def build(phone: str) -> Any:
        return User.objects.filter(phone=phone).select_related("organization").order_by("id")[:1]

    for user, phone in ((alice, "+12125550142"), (gina, "+14155550100")):
        user.phone = phone
        user.save(update_fields=["phone"])
    contact = Prepared(build, phone=str)
    for phone in ("+12125550142", "+14155550100", "+19995550000"):
        expected = build(phone).first()
        with django_assert_num_queries(1):  # the organization comes with it
            found = contact.first(phone=phone)
            name = found.organization.name if found and found.organization else None
        if expected is None:
            assert found is None
            continue
        _same(found, expected)
        assert name == expected.organization.name


def test_annotations_and_datetime_parameters(rep: User, rep2: User, alice: User) -> None:
    tickets.open_case(actor=rep, subject="Dialer down", channel="phone", requester=alice)

    def build(since: datetime, role: str) -> Any:
        return (
            User.objects.filter(role=role, date_joined__gte=since)
            .annotate(
                opened=Count("requested_tickets", filter=Q(requested_tickets__subject__gt=""))
            )
            .order_by("id")
        )

    joined = Prepared(build, since=datetime, role=str)
    day_ago, later = now() - timedelta(days=1), now() + timedelta(hours=1)
    for since, role in ((day_ago, "customer"), (day_ago, "representative"), (later, "customer")):
        expected = [(u.pk, u.opened) for u in build(since, role)]  # type: ignore[attr-defined]
        found = [(u.pk, u.opened) for u in joined.all(since=since, role=role)]  # type: ignore[attr-defined]
        assert found == expected
    assert [(u.pk, u.opened) for u in joined.all(since=day_ago, role="customer")] == [(alice.pk, 1)]  # type: ignore[attr-defined]
    assert len(joined.all(since=day_ago, role="representative")) == 2


def test_a_parameter_the_query_does_not_use_is_refused(rep: User) -> None:
    unused = Prepared(lambda email: User.objects.filter(role="representative"), email=str)
    with pytest.raises(TypeError, match="does not use email"):
        unused.all(email="rep@caredesk.test")
    with pytest.raises(TypeError, match="str, int or datetime"):
        Prepared(lambda ids: User.objects.filter(pk__in=ids), ids=list)


def test_a_parameter_of_a_pattern_lookup_is_refused(rep: User) -> None:
    # On SQLite the ORM escapes LIKE wildcards into the value at compile time: a later
    # address with "_" in it would match others.
    by_address = Prepared(lambda email: User.objects.filter(email__iexact=email), email=str)
    with pytest.raises(TypeError, match="pattern lookup"):
        by_address.first(email="Rep@Caredesk.test")


def _row(obj: Any) -> dict[str, Any]:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def test_insert_writes_the_row_save_writes(rep: User, alice: User) -> None:
    ticket = tickets.open_case(actor=rep, requester=alice, subject="Dialer down", channel="email")
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
        ticket = tickets.open_case(actor=rep, requester=alice, subject="x", channel="portal")
    finally:
        post_save.disconnect(receiver, sender=Clock)
    assert heard == [(Clock, Clock.objects.get(ticket=ticket).pk, True)]


def test_insert_of_a_saved_instance_is_refused_like_save(rep: User, alice: User) -> None:
    ticket = tickets.open_case(actor=rep, requester=alice, subject="x", channel="email")
    event = Event.objects.filter(ticket=ticket).first()
    assert event is not None
    with pytest.raises(Exception):  # noqa: B017 -- the database's duplicate-key error
        insert(event)


def test_update_writes_the_fields_save_writes_in_one_statement(
    rep: User, alice: User, django_assert_num_queries: Any
) -> None:
    ticket = tickets.open_case(actor=rep, requester=alice, subject="x", channel="email")
    other = tickets.open_case(actor=rep, requester=alice, subject="y", channel="email")
    ticket.subject, ticket.assignee = "Dialer down on NA4", rep
    ticket.priority = "high"  # changed on the instance, not named: not written
    with django_assert_num_queries(1):
        update(ticket, ["subject", "assignee"])
    stored = Ticket.objects.get(pk=ticket.pk)
    assert (stored.subject, stored.assignee, stored.priority) == (
        "Dialer down on NA4",
        rep,
        "medium",
    )
    assert Ticket.objects.get(pk=other.pk).subject == "y"


def test_update_still_tells_the_receivers_of_post_save(rep: User, alice: User) -> None:
    heard: list[Any] = []

    def receiver(sender: Any, instance: Any, update_fields: Any, **_: Any) -> None:
        heard.append((instance.pk, sorted(update_fields)))

    ticket = tickets.open_case(actor=rep, requester=alice, subject="x", channel="email")
    post_save.connect(receiver, sender=Ticket)
    try:
        ticket.subject = "z"
        update(ticket, ["subject"])
    finally:
        post_save.disconnect(receiver, sender=Ticket)
    assert heard == [(ticket.pk, ["subject"])]
    assert Ticket.objects.get(pk=ticket.pk).subject == "z"
