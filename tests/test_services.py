"""The rules of tickets, called as every channel calls them: numbers, escalation, statuses."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from django.db import transaction

from caredesk.core.errors import Conflict, DomainError, Forbidden, InvalidInput
from caredesk.people import services as people
from caredesk.people.models import User
from caredesk.servicemodel.models import TicketCounter
from caredesk.tickets import services
from caredesk.tickets.models import Event, IdempotencyKey, Message, Ticket
from caredesk.tickets.states import TRANSITIONS, Status


def open_case(actor: User, requester: User | None = None, **kw: Any) -> Ticket:
    kw.setdefault("subject", "The dialer is broken")
    kw.setdefault("channel", "email")
    return services.open_case(actor=actor, requester=requester, **kw)


def snapshot() -> dict[str, int]:
    """Row counts a refused request must leave as they were."""
    return {
        "tickets": Ticket.objects.count(),
        "events": Event.objects.count(),
        "messages": Message.objects.count(),
        "users": User.objects.count(),
        "keys": IdempotencyKey.objects.count(),
    }


def fresh(ticket: Ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


# --- numbers -----------------------------------------------------------------------------


def test_first_three_cases_are_case_100_101_102(rep: User, alice: User) -> None:
    numbers = [open_case(rep, alice).number for _ in range(3)]
    assert numbers == ["CASE-100", "CASE-101", "CASE-102"]


def test_escalation_numbers_start_where_the_guide_says(rep: User, alice: User) -> None:
    case = open_case(rep, alice)
    tsup = services.escalate(case, actor=rep, to="technical-support", reason="Dialer down")
    pc = services.escalate(
        case,
        actor=rep,
        to="project-coordination",
        reason="Wants a new campaign",
        category="creation-request",
    )
    assert (tsup.number, tsup.origin) == ("TSUP-100", case)
    assert (pc.number, pc.origin) == ("100100", case)
    # Each type keeps its own counter: the next case is not pushed along by the escalations.
    assert open_case(rep, alice).number == "CASE-101"


def test_a_refused_open_does_not_use_up_a_number(rep: User, alice: User) -> None:
    with pytest.raises(InvalidInput):
        open_case(rep, alice, subject="   ")
    assert open_case(rep, alice).number == "CASE-100"


# --- opening -------------------------------------------------------------------------------


def test_case_of_a_customer_belongs_to_their_organization(alice: User) -> None:
    case = open_case(alice, channel="portal")
    assert case.requester == alice
    assert case.organization == alice.organization
    assert case.team_id == "customer-care"
    assert case.status == Status.NEW
    assert case.priority == "medium"  # the model's default priority
    assert list(case.events.values_list("kind", flat=True)) == ["ticket.opened"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"subject": ""}, "subject"),
        ({"subject": "  \n "}, "subject"),
        ({"subject": "x" * 301}, "subject"),
        ({"subject": "nul\x00byte"}, "subject"),
        ({"channel": "fax"}, "channel"),
        ({"priority": "urgent"}, "priority"),
        ({"environment": "NA9"}, "environment"),
    ],
)
def test_bad_input_opens_nothing(
    rep: User, alice: User, fields: dict[str, str], field: str
) -> None:
    before = snapshot()
    with pytest.raises(InvalidInput) as refused:
        open_case(rep, alice, **fields)
    assert refused.value.field == field
    assert refused.value.message
    assert snapshot() == before


def test_a_subject_is_one_line(rep: User, alice: User) -> None:
    """A subject travels in mail headers: pasted line breaks and tabs become spaces, so an
    agent's emailed answer on the case is never refused for its subject."""
    case = services.open_case(
        actor=rep, subject=" Dialer down\r\n\tsince 9:00\x0b on NA4 ", channel="phone",
        requester=alice,
    )  # fmt: skip
    assert case.subject == "Dialer down since 9:00 on NA4"
    reply = services.reply(case, actor=rep, body="We are on it.", channel="email")
    assert reply.ticket.subject == case.subject


def test_customer_cannot_open_for_someone_else(alice: User, bob: User) -> None:
    before = snapshot()
    with pytest.raises(InvalidInput):
        open_case(alice, bob)
    assert snapshot() == before


def test_an_agent_is_not_a_requester(rep: User, engineer: User) -> None:
    with pytest.raises(InvalidInput) as refused:
        open_case(rep, engineer)
    assert refused.value.field == "requester"


def test_requester_of_another_organization_is_refused(rep: User, alice: User, globex: Any) -> None:
    with pytest.raises(InvalidInput) as refused:
        open_case(rep, alice, organization=globex)
    assert refused.value.field == "organization"
    assert not Ticket.objects.exists()


def test_idempotency_key_opens_one_case_per_user(alice: User, bob: User) -> None:
    first = open_case(alice, idempotency_key="k-1")
    again = open_case(alice, idempotency_key="k-1", subject="A retry with other words")
    other = open_case(bob, idempotency_key="k-1")
    assert again == first
    assert other != first
    assert Ticket.objects.count() == 2


def test_idempotency_race_answers_the_winner_and_keeps_one_case(
    alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two requests with one key passed the first lookup at once; the later one loses on the
    # unique key and must answer the winner's case, leaving no second case behind.
    winner = open_case(alice, idempotency_key="race")
    monkeypatch.setattr(services, "idempotent_ticket", lambda actor, key: None)
    with transaction.atomic():
        answered = open_case(alice, idempotency_key="race")
    assert answered == winner
    assert Ticket.objects.count() == 1
    assert TicketCounter.objects.get(pk="customer-care").next_number in (101, 102)


# --- escalation ----------------------------------------------------------------------------


def test_escalation_to_technical_support(rep: User, alice: User) -> None:
    case = open_case(rep, alice, environment="NA3", priority="high")
    tsup = services.escalate(case, actor=rep, to="technical-support", reason="Calls drop on NA3")
    case = fresh(case)
    assert case.status == Status.ESCALATED
    assert tsup.team_id == "technical-support"
    assert tsup.type_id == "technical-support"
    assert tsup.origin == case
    assert tsup.status == Status.NEW
    assert (tsup.requester, tsup.organization) == (alice, alice.organization)
    assert (tsup.priority, tsup.environment_id) == ("high", "NA3")
    assert tsup.escalation_reason == "Calls drop on NA3"
    assert list(case.escalations.all()) == [tsup]
    case_events = {e.kind: e.data for e in case.events.all()}
    assert case_events["ticket.escalated"]["ticket"] == "TSUP-100"
    assert case_events["ticket.status_changed"]["after"] == "escalated"
    opened = tsup.events.get(kind="ticket.opened")
    assert opened.data["origin"] == "CASE-100"
    assert opened.actor == rep


def test_escalation_to_project_coordination_carries_its_category(rep: User, alice: User) -> None:
    case = open_case(rep, alice, subject="Please add a new campaign")
    pc = services.escalate(
        case, actor=rep, to="project-coordination", reason="Creation", category="creation-request"
    )
    assert pc.number == "100100"
    assert pc.team_id == "project-coordination"
    assert pc.category_id == "creation-request"


def test_resolving_the_last_escalation_returns_the_case_to_customer_care(
    rep: User, engineer: User, coordinator: User, alice: User
) -> None:
    case = open_case(rep, alice)
    tsup = services.escalate(case, actor=rep, to="technical-support", reason="Broken")
    pc = services.escalate(
        case,
        actor=rep,
        to="project-coordination",
        reason="And a change",
        category="complex-self-service",
    )
    services.resolve(tsup, actor=engineer)
    assert fresh(case).status == Status.ESCALATED  # the Project Coordination one is still open
    services.resolve(pc, actor=coordinator)
    case = fresh(case)
    assert case.status == Status.OPEN
    last = case.events.filter(kind="ticket.status_changed").last()
    assert last is not None
    assert (last.data["before"], last.data["after"]) == ("escalated", "open")


ESCALATION_REFUSALS = [
    ({"to": "customer-care"}, InvalidInput, "to"),
    ({"to": "billing"}, InvalidInput, "to"),
    ({"to": "project-coordination"}, InvalidInput, "category"),
    ({"to": "project-coordination", "category": "gardening"}, InvalidInput, "category"),
    ({"to": "technical-support", "category": "platform-change"}, InvalidInput, "category"),
    ({"to": "technical-support", "reason": " "}, InvalidInput, "reason"),
    ({"to": "technical-support", "priority": "urgent"}, InvalidInput, "priority"),
]


@pytest.mark.parametrize(("fields", "error", "field"), ESCALATION_REFUSALS)
def test_bad_escalation_changes_nothing(
    rep: User, alice: User, fields: dict[str, str], error: type[DomainError], field: str
) -> None:
    case = open_case(rep, alice)
    before = snapshot()
    kw: dict[str, Any] = {"reason": "Because", **fields}
    with pytest.raises(error) as refused:
        services.escalate(case, actor=rep, **kw)
    assert refused.value.field == field
    assert snapshot() == before
    assert fresh(case).status == Status.NEW
    # No number was used up either.
    tsup = services.escalate(case, actor=rep, to="technical-support", reason="Now properly")
    assert tsup.number == "TSUP-100"


def test_only_a_case_is_escalated(rep: User, alice: User) -> None:
    tsup = services.escalate(open_case(rep, alice), actor=rep, to="technical-support", reason="x")
    before = snapshot()
    with pytest.raises(Conflict) as refused:
        services.escalate(
            tsup, actor=rep, to="project-coordination", reason="y", category="platform-change"
        )
    assert "not a Customer Care case" in refused.value.message
    assert snapshot() == before


def test_customers_do_not_escalate(alice: User) -> None:
    case = open_case(alice)
    with pytest.raises(Forbidden):
        services.escalate(case, actor=alice, to="technical-support", reason="Please")
    assert Ticket.objects.count() == 1


def test_escalating_a_closed_case_is_refused(rep: User, alice: User) -> None:
    case = open_case(rep, alice)
    services.resolve(case, actor=rep)
    services.close(case, actor=rep)
    with pytest.raises(Conflict):
        services.escalate(case, actor=rep, to="technical-support", reason="Too late")
    assert Ticket.objects.count() == 1


# --- status transitions ----------------------------------------------------------------------

ALL_MOVES = [(a, b) for a, b in itertools.product(Status.values, repeat=2) if a != b]


def _in_status(case: Ticket, status: str) -> Ticket:
    # A direct write puts the case where the move starts; the move itself goes through services.
    Ticket.objects.filter(pk=case.pk).update(status=status)
    return fresh(case)


@pytest.mark.parametrize(("start", "target"), ALL_MOVES)
def test_status_moves_follow_the_table(rep: User, alice: User, start: str, target: str) -> None:
    case = _in_status(open_case(rep, alice), start)
    allowed = target in TRANSITIONS[start]
    events = Event.objects.count()

    def move() -> None:
        if target == Status.ESCALATED:
            services.escalate(case, actor=rep, to="technical-support", reason="Broken")
        else:
            services.set_status(case, actor=rep, status=target)

    if allowed:
        move()
        assert fresh(case).status == target
        assert Event.objects.filter(kind="ticket.status_changed", data__after=target).exists()
    else:
        with pytest.raises(Conflict) as refused:
            move()
        assert refused.value.field in ("status", "number")
        assert fresh(case).status == start
        assert Event.objects.count() == events


def test_closed_is_final(rep: User, alice: User) -> None:
    case = open_case(rep, alice)
    services.resolve(case, actor=rep)
    services.close(case, actor=rep)
    before = snapshot()
    for attempt in (
        lambda: services.reopen(case, actor=rep),
        lambda: services.reply(case, actor=alice, body="Hello again"),
        lambda: services.reply(case, actor=rep, body="Hello again"),
        *(
            lambda s=s: services.set_status(case, actor=rep, status=s)
            for s in Status.values
            if s != Status.CLOSED  # closing a closed ticket is a no-op
        ),
    ):
        with pytest.raises(Conflict):
            attempt()
    assert snapshot() == before
    assert fresh(case).status == Status.CLOSED


def test_escalated_is_reached_only_by_escalating(rep: User, alice: User) -> None:
    case = open_case(rep, alice)
    with pytest.raises(Conflict):
        services.set_status(case, actor=rep, status="escalated")
    assert fresh(case).status == Status.NEW


def test_unknown_status_is_refused(rep: User, alice: User) -> None:
    case = open_case(rep, alice)
    with pytest.raises(InvalidInput) as refused:
        services.set_status(case, actor=rep, status="done")
    assert refused.value.field == "status"


def test_customers_do_not_set_statuses(alice: User) -> None:
    case = open_case(alice)
    with pytest.raises(Forbidden):
        services.set_status(case, actor=alice, status="resolved")
    with pytest.raises(Forbidden):
        services.close(case, actor=alice)
    assert fresh(case).status == Status.NEW


def test_resolve_then_reopen_clears_resolved_at(rep: User, alice: User) -> None:
    case = open_case(rep, alice)
    services.resolve(case, actor=rep)
    assert fresh(case).resolved_at is not None
    services.reopen(case, actor=rep)
    case = fresh(case)
    assert (case.status, case.resolved_at) == (Status.OPEN, None)


# --- conversation ---------------------------------------------------------------------------


def test_agent_reply_on_a_new_case_opens_it(rep: User, alice: User) -> None:
    case = open_case(alice)
    services.reply(case, actor=rep, body="We are on it.")
    assert fresh(case).status == Status.OPEN


@pytest.mark.parametrize("start", [Status.WAITING_ON_CUSTOMER, Status.RESOLVED])
def test_customer_reply_brings_the_case_back(rep: User, alice: User, start: str) -> None:
    case = open_case(alice)
    services.reply(case, actor=rep, body="Could you send the call id?")
    services.set_status(case, actor=rep, status=start)
    services.reply(fresh(case), actor=alice, body="Here it is: 123")
    case = fresh(case)
    assert case.status == Status.OPEN
    assert case.resolved_at is None


@pytest.mark.parametrize("start", [Status.NEW, Status.OPEN, Status.ESCALATED])
def test_customer_reply_leaves_other_statuses(rep: User, alice: User, start: str) -> None:
    case = _in_status(open_case(alice), start)
    services.reply(case, actor=alice, body="Any news?")
    assert fresh(case).status == start


def test_notes_are_for_agents(rep: User, alice: User) -> None:
    case = open_case(alice)
    note = services.add_note(case, actor=rep, body="Customer sounds upset")
    assert note.kind == Message.Kind.NOTE
    before = snapshot()
    with pytest.raises(Forbidden):
        services.add_note(case, actor=alice, body="Sneaky")
    with pytest.raises(InvalidInput):
        services.add_note(case, actor=rep, body="")
    with pytest.raises(InvalidInput):
        services.reply(case, actor=rep, body="  ")
    assert snapshot() == before


# --- assignment and priority ------------------------------------------------------------------


def test_assign_to_a_member_of_the_owning_team(rep: User, rep2: User, alice: User) -> None:
    case = open_case(rep, alice)
    services.assign(case, actor=rep, agent=rep2)
    assert fresh(case).assignee == rep2
    assert case.events.filter(kind="ticket.assigned", data__after=rep2.email).exists()


@pytest.mark.parametrize("who", ["engineer", "coordinator", "manager"])
def test_assign_to_an_agent_of_another_team_is_refused(
    request: pytest.FixtureRequest, rep: User, alice: User, who: str
) -> None:
    agent = request.getfixturevalue(who)
    case = open_case(rep, alice)
    before = snapshot()
    with pytest.raises(InvalidInput) as refused:
        services.assign(case, actor=rep, agent=agent)
    assert refused.value.field == "agent"
    assert agent.email in refused.value.message
    assert fresh(case).assignee is None
    assert snapshot() == before


def test_escalated_ticket_goes_to_its_own_team(rep: User, engineer: User, alice: User) -> None:
    tsup = services.escalate(open_case(rep, alice), actor=rep, to="technical-support", reason="x")
    services.assign(tsup, actor=rep, agent=engineer)
    assert fresh(tsup).assignee == engineer
    with pytest.raises(InvalidInput):
        services.assign(tsup, actor=rep, agent=rep)


def test_emergency_care_may_take_any_ticket(rep: User, emergency: User, alice: User) -> None:
    case = open_case(rep, alice)
    tsup = services.escalate(case, actor=rep, to="technical-support", reason="x")
    pc = services.escalate(
        case, actor=rep, to="project-coordination", reason="y", category="platform-upgrade"
    )
    for ticket in (case, tsup, pc):
        services.assign(ticket, actor=rep, agent=emergency)
        assert fresh(ticket).assignee == emergency


def test_a_deactivated_agent_is_not_assigned(rep: User, rep2: User, alice: User) -> None:
    rep2.is_active = False
    rep2.save()
    case = open_case(rep, alice)
    with pytest.raises(InvalidInput):
        services.assign(case, actor=rep, agent=rep2)


def test_customers_do_not_assign(rep: User, alice: User) -> None:
    case = open_case(alice)
    with pytest.raises(Forbidden):
        services.assign(case, actor=alice, agent=rep)


def test_set_priority(rep: User, alice: User) -> None:
    case = open_case(rep, alice)
    services.set_priority(case, actor=rep, priority="critical")
    assert fresh(case).priority == "critical"
    before = snapshot()
    with pytest.raises(InvalidInput) as refused:
        services.set_priority(case, actor=rep, priority="urgent")
    assert refused.value.field == "priority"
    services.set_priority(case, actor=rep, priority="critical")  # unchanged: no event
    assert snapshot() == before


# --- people --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "kw", "field"),
    [
        ("representative", {"team": "billing"}, "team"),
        ("engineer", {"team": "customer-care"}, "team"),
        ("representative", {"team": "emergency-care"}, "team"),
        ("customer", {}, "org"),
        ("customer", {"org": "Acme", "team": "customer-care"}, "team"),
        ("engineer", {"org": "Acme"}, "org"),
        ("wizard", {}, "role"),
    ],
)
def test_add_user_refusals(model: None, role: str, kw: dict[str, str], field: str) -> None:
    users = User.objects.count()
    with pytest.raises(InvalidInput) as refused:
        people.add_user("new@caredesk.test", role=role, **kw)
    assert refused.value.field == field
    assert User.objects.count() == users


def test_add_user_twice_is_refused(rep: User) -> None:
    with pytest.raises(Conflict):
        people.add_user("REP@caredesk.test", role="representative")


def test_phone_is_stored_in_e164(model: None) -> None:
    user = people.add_user("carl@acme.test", role="customer", org="Acme", phone="(888) 477-3448")
    assert user.phone == "+18884773448"
    with pytest.raises(InvalidInput):
        people.add_user("dan@acme.test", role="customer", org="Acme", phone="12")
