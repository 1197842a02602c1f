"""Work orders of Project Coordination requests, through the API: draft, send, approve or
decline, revise, schedule, done; and no resolving before the work is done."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from caredesk.people.models import User
from caredesk.tickets import services
from caredesk.tickets.models import Event, Ticket, WorkOrder

WHEN = "2026-03-02T15:00:00Z"


@pytest.fixture
def as_coord(api: Callable[..., Any], coordinator: User) -> Any:
    return api(coordinator)


@pytest.fixture
def as_alice(api: Callable[..., Any], alice: User) -> Any:
    return api(alice)


def escalated(rep: User, alice: User, category: str) -> Ticket:
    case = services.open_case(actor=rep, requester=alice, subject="New IVR menu", channel="email")
    return services.escalate(
        case, actor=rep, to="project-coordination", reason="Needs a change", category=category
    )


@pytest.fixture
def change(rep: User, alice: User) -> Ticket:
    return escalated(rep, alice, "platform-change")


def wo(client: Any, ticket: Ticket, action: str, **fields: Any) -> Any:
    return client.post(f"/api/v1/tickets/{ticket.number}/work-order", {"action": action, **fields})


def state(ticket: Ticket) -> str:
    return WorkOrder.objects.get(ticket=ticket).state


def refused(resp: Any, status: int, field: str | None) -> None:
    assert resp.status_code == status, resp.content
    assert resp.json()["field"] == field
    assert resp.json()["message"]


def test_full_flow(as_coord: Any, as_alice: Any, change: Ticket) -> None:
    resp = wo(
        as_coord,
        change,
        "draft",
        scope="Add a menu option",
        requested_by="Alice",
        estimate="3 days",
    )
    assert resp.status_code == 200, resp.content
    order = resp.json()
    assert (order["ticket"], order["state"], order["estimate"]) == ("100100", "draft", "3 days")
    assert wo(as_coord, change, "send").json()["state"] == "sent"
    resp = wo(as_alice, change, "approve", note="Go ahead")
    assert resp.status_code == 200, resp.content
    assert (resp.json()["state"], resp.json()["decision_note"]) == ("approved", "Go ahead")
    assert resp.json()["approved_at"] is not None
    resp = wo(as_coord, change, "schedule", scheduled_for=WHEN)
    assert resp.json()["state"] == "scheduled"
    assert resp.json()["scheduled_for"].startswith("2026-03-02T15:00:00")
    resp = wo(as_coord, change, "done")
    assert (resp.json()["state"], resp.json()["done_at"] is not None) == ("done", True)
    assert as_alice.get(f"/api/v1/tickets/{change.number}/work-order").json()["state"] == "done"
    resp = as_coord.post(f"/api/v1/tickets/{change.number}/status", {"status": "resolved"})
    assert resp.status_code == 200, resp.content
    assert resp.json()["status"] == "resolved"
    kinds = list(change.events.values_list("kind", flat=True))
    for kind in (
        "work_order.drafted",
        "work_order.sent",
        "work_order.approved",
        "work_order.scheduled",
        "work_order.done",
    ):
        assert kind in kinds


def test_declined_then_revised_and_sent_again(as_coord: Any, as_alice: Any, change: Ticket) -> None:
    wo(as_coord, change, "draft", scope="Add a menu option")
    wo(as_coord, change, "send")
    resp = wo(as_alice, change, "decline", note="Too expensive")
    assert resp.json()["state"] == "declined"
    refused(wo(as_coord, change, "draft", scope="Cheaper"), 409, "state")
    assert wo(as_coord, change, "revise").json()["state"] == "draft"
    resp = wo(as_coord, change, "draft", scope="A cheaper menu option")
    assert resp.json()["scope"] == "A cheaper menu option"
    assert wo(as_coord, change, "send").json()["state"] == "sent"
    assert wo(as_alice, change, "approve").json()["state"] == "approved"


# (state to reach, action) pairs the flow refuses
ILLEGAL = [
    ("draft", "approve"),
    ("draft", "decline"),
    ("draft", "schedule"),
    ("draft", "done"),
    ("draft", "revise"),
    ("sent", "send"),
    ("sent", "schedule"),
    ("sent", "done"),
    ("sent", "revise"),
    ("approved", "send"),
    ("approved", "approve"),
    ("approved", "decline"),
    ("approved", "done"),
    ("approved", "revise"),
    ("declined", "approve"),
    ("declined", "schedule"),
    ("declined", "done"),
    ("declined", "send"),
    ("scheduled", "send"),
    ("scheduled", "approve"),
    ("scheduled", "revise"),
    ("done", "send"),
    ("done", "approve"),
    ("done", "decline"),
    ("done", "schedule"),
    ("done", "done"),
    ("done", "revise"),
]
PATH = {
    "draft": [],
    "sent": ["send"],
    "approved": ["send", "approve"],
    "declined": ["send", "decline"],
    "scheduled": ["send", "approve", "schedule"],
    "done": ["send", "approve", "schedule", "done"],
}


@pytest.mark.parametrize(("start", "action"), ILLEGAL)
def test_illegal_moves_are_refused_with_409(
    as_coord: Any, change: Ticket, start: str, action: str
) -> None:
    wo(as_coord, change, "draft", scope="Add a menu option")
    for step in PATH[start]:
        assert wo(as_coord, change, step, scheduled_for=WHEN).status_code == 200
    assert state(change) == start
    events = Event.objects.count()
    refused(wo(as_coord, change, action, scheduled_for=WHEN), 409, "action")
    assert state(change) == start
    assert Event.objects.count() == events


def test_rescheduling_is_allowed(as_coord: Any, change: Ticket) -> None:
    wo(as_coord, change, "draft", scope="x")
    for step in ("send", "approve"):
        wo(as_coord, change, step)
    wo(as_coord, change, "schedule", scheduled_for=WHEN)
    resp = wo(as_coord, change, "schedule", scheduled_for="2026-03-09T15:00:00Z")
    assert resp.json()["scheduled_for"].startswith("2026-03-09")


def test_schedule_needs_a_date(as_coord: Any, change: Ticket) -> None:
    wo(as_coord, change, "draft", scope="x")
    wo(as_coord, change, "send")
    wo(as_coord, change, "approve")
    refused(wo(as_coord, change, "schedule"), 422, "scheduled_for")
    assert state(change) == "approved"


def test_draft_needs_a_scope(as_coord: Any, change: Ticket) -> None:
    refused(wo(as_coord, change, "draft", scope="  "), 422, "scope")
    assert not WorkOrder.objects.exists()


def test_moving_before_drafting_is_refused(as_coord: Any, change: Ticket) -> None:
    refused(wo(as_coord, change, "send"), 409, "work_order")


def test_unknown_action_is_refused(as_coord: Any, change: Ticket) -> None:
    resp = wo(as_coord, change, "cancel")
    assert resp.status_code == 422
    assert resp.json()["field"] == "action"


def test_customer_may_approve_and_decline_only(
    as_coord: Any, as_alice: Any, change: Ticket
) -> None:
    refused(wo(as_alice, change, "draft", scope="My own order"), 403, None)
    wo(as_coord, change, "draft", scope="x")
    for action in ("send", "done"):
        assert wo(as_alice, change, action).status_code == 403
    wo(as_coord, change, "send")
    assert wo(as_alice, change, "approve").status_code == 200
    assert wo(as_alice, change, "schedule", scheduled_for=WHEN).status_code == 403
    assert state(change) == "approved"


def test_another_organization_cannot_touch_the_order(
    api: Callable[..., Any], as_coord: Any, gina: User, change: Ticket
) -> None:
    wo(as_coord, change, "draft", scope="x")
    wo(as_coord, change, "send")
    as_gina = api(gina)
    assert wo(as_gina, change, "approve").status_code == 404
    assert as_gina.get(f"/api/v1/tickets/{change.number}/work-order").status_code == 404
    assert state(change) == "sent"


@pytest.mark.parametrize("category", ["platform-change", "creation-request"])
@pytest.mark.parametrize("reached", [None, "draft", "sent", "approved", "declined", "scheduled"])
def test_resolve_needs_a_done_work_order(
    as_coord: Any, rep: User, alice: User, category: str, reached: str | None
) -> None:
    ticket = escalated(rep, alice, category)
    if reached:
        wo(as_coord, ticket, "draft", scope="x")
        for step in PATH[reached]:
            wo(as_coord, ticket, step, scheduled_for=WHEN)
    events = Event.objects.count()
    resp = as_coord.post(f"/api/v1/tickets/{ticket.number}/status", {"status": "resolved"})
    refused(resp, 409, "work_order")
    assert "Work Order" in resp.json()["message"]
    assert Ticket.objects.get(pk=ticket.pk).status == "new"
    assert Event.objects.count() == events


@pytest.mark.parametrize("category", ["complex-self-service", "platform-upgrade"])
def test_other_categories_resolve_without_a_work_order(
    as_coord: Any, rep: User, alice: User, category: str
) -> None:
    ticket = escalated(rep, alice, category)
    resp = as_coord.post(f"/api/v1/tickets/{ticket.number}/status", {"status": "resolved"})
    assert resp.status_code == 200, resp.content
    refused(wo(as_coord, ticket, "draft", scope="x"), 409, "category")


def test_a_case_has_no_work_order(as_coord: Any, rep: User, alice: User) -> None:
    case = services.open_case(actor=rep, requester=alice, subject="Hello", channel="email")
    refused(wo(as_coord, case, "draft", scope="x"), 409, "category")
    assert as_coord.get(f"/api/v1/tickets/{case.number}/work-order").status_code == 404
