"""Compiled-once queries answer exactly what their querysets answer, in one statement, with
new values bound on every run (on SQLite and PostgreSQL alike)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db.models import Count, Q

from caredesk.core.clock import now
from caredesk.core.prepared import Prepared
from caredesk.people.models import User
from caredesk.tickets import services as tickets


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
