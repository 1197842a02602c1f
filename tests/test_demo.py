"""`caredesk demo`: a believable desk in an empty database, numbering that carries on after."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db.models import Count

from caredesk.core import demo
from caredesk.people.models import Organization, User
from caredesk.sla.models import Clock
from caredesk.tickets import services
from caredesk.tickets.models import Event, Message, Ticket, WorkOrder

NOW = datetime(2026, 3, 16, 15, 30, tzinfo=UTC)  # a Monday afternoon, Eastern daylight time


def _demo(*args: str) -> str:
    out = io.StringIO()
    call_command("demo", *args, verbosity=0, stdout=out)
    return out.getvalue()


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _assert_clocks_match_tickets() -> None:
    """Each case has its first-response clock, each escalation its escalation clock; a
    stopped clock has its outcome and a running one has none yet."""
    cases = Ticket.objects.filter(type_id="customer-care")
    escalations = Ticket.objects.exclude(type_id="customer-care")
    assert Clock.objects.filter(kind="first_response").count() == cases.count()
    assert Clock.objects.filter(kind="escalation").count() == escalations.count()
    assert not Clock.objects.filter(kind="first_response").exclude(ticket__in=cases).exists()
    assert not Clock.objects.filter(stopped_at__isnull=False, outcome="").exists()
    assert not Clock.objects.filter(stopped_at__isnull=True).exclude(outcome="").exists()
    unanswered = cases.filter(status="new").exclude(channel="phone")
    assert unanswered.exists()
    assert not Clock.objects.filter(ticket__in=unanswered, stopped_at__isnull=False).exists()
    assert Clock.objects.filter(outcome="met").exists()
    assert not Clock.objects.filter(due_at__isnull=True).exists()


@pytest.mark.django_db
def test_demo_fills_an_empty_database(clock):
    output = _demo()

    # The guide's model was loaded first, since none was.
    assert "Loaded the service model" in output
    assert Ticket.objects.count() == demo.DEFAULT_TICKETS
    types = dict(Ticket.objects.values_list("type_id").annotate(n=Count("id")))
    assert set(types) == {"customer-care", "technical-support", "project-coordination"}
    assert types["customer-care"] > types["technical-support"]
    assert Ticket.objects.filter(number__in=["CASE-100", "TSUP-100", "100100"]).count() == 3

    # Every escalation carries its case, and the case's timeline names it.
    escalations = Ticket.objects.exclude(type_id="customer-care").select_related("origin")
    for ticket in escalations:
        assert ticket.origin is not None and ticket.origin.type_id == "customer-care"
        assert ticket.escalation_reason
        assert Event.objects.filter(
            ticket=ticket.origin, kind="ticket.escalated", data__ticket=ticket.number
        ).exists()
    assert Ticket.objects.filter(
        status="escalated", escalations__status__in=["new", "open"]
    ).exists()

    statuses = set(Ticket.objects.values_list("status", flat=True))
    assert {"new", "open", "escalated", "resolved", "closed"} <= statuses
    assert set(Ticket.objects.values_list("priority", flat=True)) == {
        "low", "medium", "high", "critical",
    }  # fmt: skip
    assert set(Ticket.objects.values_list("channel", flat=True)) >= {"email", "phone", "portal"}
    assert {"done", "sent"} <= set(WorkOrder.objects.values_list("state", flat=True))
    assert Message.objects.filter(kind="note").exists()
    assert Message.objects.filter(kind="reply", author__role="customer").exists()

    _assert_clocks_match_tickets()

    # Everything happened in the past sixty days, none of it after "now".
    assert not Ticket.objects.filter(created_at__lt=NOW - timedelta(days=60)).exists()
    assert not Ticket.objects.filter(updated_at__gt=NOW).exists()
    assert not Event.objects.filter(created_at__gt=NOW).exists()
    assert not WorkOrder.objects.filter(ticket__category__work_order=False).exists()

    # Eight organizations with domains and contacts; agents in every team.
    assert Organization.objects.count() == 8
    assert not Organization.objects.filter(domains__isnull=True).exists()
    contacts = User.objects.filter(role="customer")
    assert all(re.fullmatch(r"\+1\d{10}", c.phone) for c in contacts)
    teams = set(User.objects.exclude(team=None).values_list("team_id", flat=True))
    assert teams == {"customer-care", "technical-support", "project-coordination", "emergency-care"}
    roles = set(User.objects.values_list("role", flat=True))
    assert roles == {
        "admin", "manager", "representative", "engineer", "coordinator", "emergency", "customer",
    }  # fmt: skip
    # Whoever answers the phone has an extension a PBX can name when the call is answered.
    answering = User.objects.filter(role__in=["representative", "emergency"])
    extensions = sorted(answering.values_list("extension", flat=True))
    assert extensions == ["201", "202", "203", "204", "205", "206", "301", "302"]
    assert not User.objects.exclude(pk__in=answering).exclude(extension="").exists()

    # The sign-in details work.
    assert "caredesk-demo" in output
    emails = re.findall(r"\S+@\S+\.example", output)
    assert any(e.startswith("admin@") for e in emails)
    for email in emails:
        assert User.objects.get(email=email).check_password("caredesk-demo"), email


@pytest.mark.django_db
def test_demo_refuses_a_database_with_tickets(rep, alice):
    services.open_case(actor=alice, subject="Dialer is broken", channel="email")

    with pytest.raises(CommandError, match="already holds 1 tickets"):
        _demo()
    assert Ticket.objects.count() == 1


@pytest.mark.parametrize("bulk", [False, True], ids=["services", "bulk"])
@pytest.mark.django_db
def test_demo_makes_exactly_n_tickets_and_numbering_carries_on(bulk, clock):
    _demo("--tickets", "57", "--bulk" if bulk else "--no-bulk")
    assert Ticket.objects.count() == 57

    cases = Ticket.objects.filter(type_id="customer-care")
    highest = max(int(n.removeprefix("CASE-")) for n in cases.values_list("number", flat=True))
    assert cases.count() == highest - 99  # CASE-100 … without a gap
    rep = User.objects.filter(role="representative").first()
    contact = User.objects.filter(role="customer").first()
    assert rep is not None and contact is not None

    case = services.open_case(actor=contact, subject="One more", channel="email")
    assert case.number == f"CASE-{highest + 1}"
    for to, category in (("technical-support", None), ("project-coordination", "platform-change")):
        escalated = services.escalate(case, actor=rep, to=to, reason="demo", category=category)
        assert Ticket.objects.filter(number=escalated.number).count() == 1
        previous = Ticket.objects.filter(type_id=to).exclude(pk=escalated.pk)
        assert escalated.number not in set(previous.values_list("number", flat=True))
        digits = [int(re.sub(r"\D", "", n)) for n in previous.values_list("number", flat=True)]
        expected = max(digits) + 1 if digits else escalated.type.first_number
        assert int(re.sub(r"\D", "", escalated.number)) == expected


@pytest.mark.django_db
def test_bulk_demo_is_consistent(clock):
    _demo("--tickets", "400", "--bulk")

    assert Ticket.objects.count() == 400
    escalations = Ticket.objects.exclude(type_id="customer-care")
    assert escalations.exists()
    assert not escalations.filter(origin=None).exists()
    assert not Ticket.objects.filter(type_id="customer-care").exclude(origin=None).exists()
    # A case waits as escalated exactly while one of its escalations is open.
    for case in Ticket.objects.filter(status="escalated"):
        assert case.escalations.filter(status__in=["new", "open", "waiting_on_customer"]).exists()
    assert not Ticket.objects.filter(status="new").exclude(assignee=None).exists()
    assert not Ticket.objects.filter(updated_at__gt=NOW).exists()
    assert not Ticket.objects.filter(created_at__lt=NOW - timedelta(days=60)).exists()
    opened = Event.objects.filter(kind="ticket.opened").values("ticket").distinct().count()
    assert opened == 400
    _assert_clocks_match_tickets()
    assert WorkOrder.objects.exists()
    assert not WorkOrder.objects.exclude(ticket__category__work_order=True).exists()


@pytest.mark.django_db
def test_demo_is_reproducible(clock):
    first = demo.generate(tickets=60, bulk=True)
    rows = list(
        Ticket.objects.order_by("id").values_list("number", "subject", "status", "priority")
    )
    assert first.tickets == 60
    # The same seed and clock again, on a fresh set of tables (rolled back by the test).
    Event.objects.all().delete()
    Message.objects.all().delete()
    WorkOrder.objects.all().delete()
    Ticket.objects.exclude(origin=None).delete()
    Ticket.objects.all().delete()
    from caredesk.servicemodel.models import TicketCounter, TicketType

    for ticket_type in TicketType.objects.all():
        TicketCounter.objects.filter(ticket_type=ticket_type).update(
            next_number=ticket_type.first_number
        )
    demo.generate(tickets=60, bulk=True)
    again = list(
        Ticket.objects.order_by("id").values_list("number", "subject", "status", "priority")
    )
    assert again == rows
