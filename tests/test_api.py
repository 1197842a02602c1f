"""The REST API as a client sees it: shapes, numbers, errors, pagination, query counts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from caredesk.people.models import User
from caredesk.tickets import services
from caredesk.tickets.models import Event, IdempotencyKey, Message, Ticket

TICKET_FIELDS = {
    "number",
    "type",
    "subject",
    "description",
    "status",
    "priority",
    "team",
    "assignee",
    "organization",
    "requester",
    "channel",
    "environment",
    "category",
    "origin",
    "escalations",
    "created_at",
    "updated_at",
    "clocks",
}


def snapshot() -> dict[str, int]:
    return {
        "tickets": Ticket.objects.count(),
        "events": Event.objects.count(),
        "messages": Message.objects.count(),
        "users": User.objects.count(),
        "keys": IdempotencyKey.objects.count(),
    }


def assert_error(resp: Any, status: int, field: str | None) -> dict[str, Any]:
    assert resp.status_code == status, resp.content
    body = resp.json()
    assert body["field"] == field
    assert isinstance(body["message"], str) and body["message"]
    return body


@pytest.fixture
def as_rep(api: Callable[..., Any], rep: User) -> Any:
    return api(rep)


@pytest.fixture
def case(as_rep: Any, alice: User) -> dict[str, Any]:
    resp = as_rep.post(
        "/api/v1/tickets",
        {"subject": "Dialer is broken", "description": "Since 9am", "requester": alice.email},
    )
    assert resp.status_code == 201, resp.content
    return resp.json()


# --- opening and reading ---------------------------------------------------------------------


def test_open_case_answers_the_ticket(as_rep: Any, case: dict[str, Any]) -> None:
    assert set(case) == TICKET_FIELDS
    assert case["number"] == "CASE-100"
    assert case["type"] == "customer-care"
    assert case["team"] == "customer-care"
    assert case["status"] == "new"
    assert case["priority"] == "medium"
    assert case["requester"] == "alice@acme.test"
    assert case["organization"] == "acme"
    assert case["channel"] == "api"
    assert case["origin"] is None and case["escalations"] == [] and case["category"] is None
    assert as_rep.get("/api/v1/tickets/CASE-100").json() == case


def test_numbers_over_http(as_rep: Any, alice: User) -> None:
    numbers = [
        as_rep.post("/api/v1/tickets", {"subject": f"Inquiry {i}"}).json()["number"]
        for i in range(3)
    ]
    assert numbers == ["CASE-100", "CASE-101", "CASE-102"]


def test_a_new_requester_becomes_a_contact_of_the_organization(as_rep: Any, acme: Any) -> None:
    resp = as_rep.post(
        "/api/v1/tickets",
        {
            "subject": "Hello",
            "requester": "Carl@Acme.test",
            "requester_name": "Carl",
            "organization": "acme",
            "environment": "NA4",
            "priority": "high",
            "channel": "phone",
        },
    )
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert (body["requester"], body["organization"]) == ("carl@acme.test", "acme")
    assert (body["environment"], body["priority"], body["channel"]) == ("NA4", "high", "phone")
    assert User.objects.get(email="carl@acme.test").organization == acme


def test_customer_opens_for_themselves(api: Callable[..., Any], alice: User) -> None:
    resp = api(alice).post("/api/v1/tickets", {"subject": "My reports are empty"})
    assert resp.status_code == 201
    assert (resp.json()["requester"], resp.json()["organization"]) == ("alice@acme.test", "acme")


# --- escalation --------------------------------------------------------------------------


def test_escalate_to_technical_support(as_rep: Any, case: dict[str, Any]) -> None:
    resp = as_rep.post(
        "/api/v1/tickets/CASE-100/escalate", {"to": "technical-support", "reason": "Outage"}
    )
    assert resp.status_code == 201, resp.content
    tsup = resp.json()
    assert tsup["number"] == "TSUP-100"
    assert tsup["origin"] == "CASE-100"
    assert (tsup["type"], tsup["team"]) == ("technical-support", "technical-support")
    assert (tsup["requester"], tsup["organization"]) == ("alice@acme.test", "acme")
    case_now = as_rep.get("/api/v1/tickets/CASE-100").json()
    assert case_now["status"] == "escalated"
    assert case_now["escalations"] == ["TSUP-100"]
    case_events = [e["kind"] for e in as_rep.get("/api/v1/tickets/CASE-100/events").json()["items"]]
    assert "ticket.escalated" in case_events
    tsup_events = as_rep.get("/api/v1/tickets/TSUP-100/events").json()["items"]
    assert tsup_events[0]["kind"] == "ticket.opened"
    assert tsup_events[0]["data"]["origin"] == "CASE-100"
    assert tsup_events[0]["actor"] == "rep@caredesk.test"


def test_escalate_to_project_coordination(as_rep: Any, case: dict[str, Any]) -> None:
    resp = as_rep.post(
        "/api/v1/tickets/CASE-100/escalate",
        {"to": "project-coordination", "reason": "Wants a change", "category": "platform-change"},
    )
    assert resp.status_code == 201, resp.content
    pc = resp.json()
    assert (pc["number"], pc["origin"], pc["category"]) == ("100100", "CASE-100", "platform-change")
    assert pc["team"] == "project-coordination"


def test_resolving_the_escalation_returns_the_case(
    api: Callable[..., Any], as_rep: Any, engineer: User, case: dict[str, Any]
) -> None:
    as_rep.post("/api/v1/tickets/CASE-100/escalate", {"to": "technical-support", "reason": "x"})
    as_eng = api(engineer)
    assert (
        as_eng.post("/api/v1/tickets/TSUP-100/assign", {"agent": engineer.email}).status_code == 200
    )
    resp = as_eng.post("/api/v1/tickets/TSUP-100/status", {"status": "resolved"})
    assert resp.status_code == 200, resp.content
    assert resp.json()["status"] == "resolved"
    assert as_rep.get("/api/v1/tickets/CASE-100").json()["status"] == "open"


@pytest.mark.parametrize(
    ("number", "payload", "status", "field"),
    [
        ("CASE-100", {"to": "sales", "reason": "x"}, 422, "to"),
        ("CASE-100", {"to": "customer-care", "reason": "x"}, 422, "to"),
        ("CASE-100", {"to": "project-coordination", "reason": "x"}, 422, "category"),
        (
            "CASE-100",
            {"to": "project-coordination", "reason": "x", "category": "pizza"},
            422,
            "category",
        ),
        ("CASE-100", {"to": "technical-support", "reason": ""}, 422, "reason"),
        ("CASE-100", {"to": "technical-support"}, 422, "reason"),
        ("TSUP-100", {"to": "technical-support", "reason": "again"}, 409, "number"),
        ("CASE-999", {"to": "technical-support", "reason": "x"}, 404, "number"),
    ],
)
def test_bad_escalation_answers_a_clear_error_and_changes_nothing(
    as_rep: Any,
    case: dict[str, Any],
    number: str,
    payload: dict[str, str],
    status: int,
    field: str,
) -> None:
    as_rep.post("/api/v1/tickets/CASE-100/escalate", {"to": "technical-support", "reason": "x"})
    before = snapshot()
    assert_error(as_rep.post(f"/api/v1/tickets/{number}/escalate", payload), status, field)
    assert snapshot() == before


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"subject": ""}, "subject"),
        ({"subject": "   "}, "subject"),
        ({}, "subject"),
        ({"subject": "x" * 301}, "subject"),
        ({"subject": "Hi", "priority": "urgent"}, "priority"),
        ({"subject": "Hi", "channel": "fax"}, "channel"),
        ({"subject": "Hi", "environment": "NA9"}, "environment"),
        ({"subject": "Hi", "organization": "initech"}, "organization"),
        ({"subject": "Hi", "requester": "not an address"}, "email"),
        ({"subject": "Hi", "requester": "engineer@caredesk.test"}, "requester"),
        (
            {"subject": "Hi", "requester": "alice@acme.test", "organization": "globex"},
            "organization",
        ),
    ],
)
def test_bad_case_is_refused_and_changes_nothing(
    as_rep: Any, engineer: User, alice: User, globex: Any, payload: dict[str, str], field: str
) -> None:
    before = snapshot()
    assert_error(as_rep.post("/api/v1/tickets", payload), 422, field)
    assert snapshot() == before


def test_a_refused_case_creates_no_contact(as_rep: Any) -> None:
    before = snapshot()
    resp = as_rep.post("/api/v1/tickets", {"subject": " ", "requester": "newbie@initech.test"})
    assert_error(resp, 422, "subject")
    assert snapshot() == before


def test_customer_cannot_name_a_requester(api: Callable[..., Any], alice: User, bob: User) -> None:
    resp = api(alice).post("/api/v1/tickets", {"subject": "For Bob", "requester": bob.email})
    assert_error(resp, 422, "requester")
    assert not Ticket.objects.exists()


def test_unknown_number_is_404(as_rep: Any, case: dict[str, Any]) -> None:
    for path in (
        "/api/v1/tickets/CASE-999",
        "/api/v1/tickets/100100/events",
        "/api/v1/tickets/nothing/messages",
    ):
        assert_error(as_rep.get(path), 404, "number")


def test_assign_to_another_team_is_refused(
    as_rep: Any, engineer: User, case: dict[str, Any]
) -> None:
    before = snapshot()
    body = assert_error(
        as_rep.post("/api/v1/tickets/CASE-100/assign", {"agent": engineer.email}), 422, "agent"
    )
    assert engineer.email in body["message"]
    assert_error(
        as_rep.post("/api/v1/tickets/CASE-100/assign", {"agent": "who@x.test"}), 422, "agent"
    )
    assert_error(
        as_rep.post("/api/v1/tickets/CASE-100/assign", {"agent": "alice@acme.test"}), 422, "agent"
    )
    assert snapshot() == before
    assert as_rep.get("/api/v1/tickets/CASE-100").json()["assignee"] is None


def test_emergency_care_may_be_assigned_anything(
    as_rep: Any, emergency: User, case: dict[str, Any]
) -> None:
    as_rep.post("/api/v1/tickets/CASE-100/escalate", {"to": "technical-support", "reason": "x"})
    for number in ("CASE-100", "TSUP-100"):
        resp = as_rep.post(f"/api/v1/tickets/{number}/assign", {"agent": emergency.email})
        assert resp.status_code == 200, resp.content
        assert resp.json()["assignee"] == emergency.email


def test_assign_and_unassign(as_rep: Any, rep2: User, case: dict[str, Any]) -> None:
    resp = as_rep.post("/api/v1/tickets/CASE-100/assign", {"agent": "REP2@caredesk.test"})
    assert resp.json()["assignee"] == rep2.email
    resp = as_rep.post("/api/v1/tickets/CASE-100/assign", {"agent": None})
    assert resp.json()["assignee"] is None


def test_priority_and_status(as_rep: Any, case: dict[str, Any]) -> None:
    resp = as_rep.post("/api/v1/tickets/CASE-100/priority", {"priority": "critical"})
    assert resp.status_code == 200 and resp.json()["priority"] == "critical"
    assert_error(
        as_rep.post("/api/v1/tickets/CASE-100/priority", {"priority": "asap"}), 422, "priority"
    )
    assert_error(as_rep.post("/api/v1/tickets/CASE-100/status", {"status": "done"}), 422, "status")
    assert_error(
        as_rep.post("/api/v1/tickets/CASE-100/status", {"status": "closed"}), 409, "status"
    )
    for status in ("waiting_on_customer", "resolved", "open", "resolved", "closed"):
        resp = as_rep.post("/api/v1/tickets/CASE-100/status", {"status": status})
        assert resp.status_code == 200, (status, resp.content)
        assert resp.json()["status"] == status
    before = snapshot()
    assert_error(as_rep.post("/api/v1/tickets/CASE-100/status", {"status": "open"}), 409, "status")
    assert_error(as_rep.post("/api/v1/tickets/CASE-100/replies", {"body": "hello"}), 409, "status")
    assert snapshot() == before


def test_replies_and_notes(
    api: Callable[..., Any], as_rep: Any, alice: User, case: dict[str, Any]
) -> None:
    resp = as_rep.post("/api/v1/tickets/CASE-100/replies", {"body": "Looking into it"})
    assert resp.status_code == 201
    assert (resp.json()["kind"], resp.json()["author"]) == ("reply", "rep@caredesk.test")
    assert as_rep.get("/api/v1/tickets/CASE-100").json()["status"] == "open"
    assert as_rep.post("/api/v1/tickets/CASE-100/notes", {"body": "VIP"}).status_code == 201
    assert_error(as_rep.post("/api/v1/tickets/CASE-100/replies", {"body": ""}), 422, "body")
    bodies = [m["body"] for m in as_rep.get("/api/v1/tickets/CASE-100/messages").json()["items"]]
    assert bodies == ["Looking into it", "VIP"]
    as_alice = api(alice)
    assert as_alice.post("/api/v1/tickets/CASE-100/replies", {"body": "Thanks"}).status_code == 201
    assert_error(as_alice.post("/api/v1/tickets/CASE-100/notes", {"body": "x"}), 403, None)


def test_errors_are_json_for_malformed_bodies(as_rep: Any, case: dict[str, Any]) -> None:
    resp = as_rep.client.post(
        "/api/v1/tickets",
        "{not json",
        content_type="application/json",
        headers={"Authorization": f"Bearer {as_rep.token}"},
    )
    assert 400 <= resp.status_code < 500
    assert "message" in resp.json()


# --- idempotency --------------------------------------------------------------------------


def test_idempotency_key(api: Callable[..., Any], alice: User, bob: User) -> None:
    as_alice = api(alice)
    key = {"Idempotency-Key": "2b0e-42"}
    first = as_alice.post("/api/v1/tickets", {"subject": "Reports empty"}, headers=key)
    again = as_alice.post("/api/v1/tickets", {"subject": "Reports empty"}, headers=key)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["number"] == again.json()["number"] == "CASE-100"
    assert Ticket.objects.count() == 1
    other = api(bob).post("/api/v1/tickets", {"subject": "Reports empty"}, headers=key)
    assert other.status_code == 201
    assert other.json()["number"] == "CASE-101"
    assert Ticket.objects.count() == 2


def test_idempotency_key_too_long(as_rep: Any) -> None:
    resp = as_rep.post("/api/v1/tickets", {"subject": "x"}, headers={"Idempotency-Key": "k" * 201})
    assert_error(resp, 422, "Idempotency-Key")
    assert not Ticket.objects.exists()


# --- lists --------------------------------------------------------------------------------


def _open_many(rep: User, alice: User, n: int) -> list[Ticket]:
    return [
        services.open_case(actor=rep, requester=alice, subject=f"Inquiry {i}", channel="email")
        for i in range(n)
    ]


def test_list_pages_through_every_ticket_once(as_rep: Any, rep: User, alice: User) -> None:
    _open_many(rep, alice, 7)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        body = as_rep.get("/api/v1/tickets", params).json()
        seen += [t["number"] for t in body["items"]]
        pages += 1
        cursor = body["next"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == [f"CASE-{n}" for n in range(106, 99, -1)]  # newest first


def test_list_an_exact_page_has_no_next(as_rep: Any, rep: User, alice: User) -> None:
    _open_many(rep, alice, 3)
    body = as_rep.get("/api/v1/tickets", {"limit": 3}).json()
    assert len(body["items"]) == 3 and body["next"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"limit": -5}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "aWQ6eHl6"}, "cursor"),  # "id:xyz"
        (
            # "id:" and 30 nines, past any 64-bit id
            {"cursor": "aWQ6OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5"},
            "cursor",
        ),  # "id:" and 30 nines
        ({"type": "billing"}, "type"),
        ({"team": "sales"}, "team"),
        ({"status": "done"}, "status"),
        ({"priority": "urgent"}, "priority"),
    ],
)
def test_list_bad_parameters(
    as_rep: Any, case: dict[str, Any], params: dict[str, Any], field: str
) -> None:
    assert_error(as_rep.get("/api/v1/tickets", params), 422, field)


def test_list_limit_bounds(as_rep: Any, rep: User, alice: User) -> None:
    _open_many(rep, alice, 2)
    assert len(as_rep.get("/api/v1/tickets", {"limit": 1}).json()["items"]) == 1
    assert len(as_rep.get("/api/v1/tickets", {"limit": 200}).json()["items"]) == 2


def test_list_filters(as_rep: Any, rep: User, rep2: User, alice: User, gina: User) -> None:
    a, b, c = _open_many(rep, alice, 3)
    services.open_case(actor=rep, requester=gina, subject="Globex calls drop", channel="phone")
    services.escalate(a, actor=rep, to="technical-support", reason="x")
    services.set_priority(b, actor=rep, priority="critical")
    services.assign(c, actor=rep, agent=rep2)

    def numbers(**params: Any) -> list[str]:
        resp = as_rep.get("/api/v1/tickets", params)
        assert resp.status_code == 200, resp.content
        return [t["number"] for t in resp.json()["items"]]

    assert numbers(type="technical-support") == ["TSUP-100"]
    assert numbers(team="technical-support") == ["TSUP-100"]
    assert numbers(status="escalated") == ["CASE-100"]
    assert numbers(priority="critical") == ["CASE-101"]
    assert numbers(assignee=rep2.email) == ["CASE-102"]
    assert numbers(assignee="nobody@caredesk.test") == []
    assert numbers(organization="globex") == ["CASE-103"]
    assert numbers(organization="initech") == []
    assert numbers(text="calls drop") == ["CASE-103"]
    assert numbers(text="CASE-101") == ["CASE-101"]
    assert numbers(type="customer-care", organization="acme") == [
        "CASE-102",
        "CASE-101",
        "CASE-100",
    ]


# --- query counts -------------------------------------------------------------------------


def _queries(client: Any, path: str, params: dict[str, Any] | None = None) -> int:
    client.get(path, params)  # warm: the token's last use is written at most once a minute
    with CaptureQueriesContext(connection) as ctx:
        resp = client.get(path, params)
    assert resp.status_code == 200, resp.content
    return len(ctx.captured_queries)


def _busy(rep: User, engineer: User, alice: User, n: int) -> None:
    for case in _open_many(rep, alice, n):
        services.reply(case, actor=rep, body="On it")
        if case.pk % 3 == 0:
            tsup = services.escalate(case, actor=rep, to="technical-support", reason="x")
            services.assign(tsup, actor=rep, agent=engineer)


@pytest.mark.parametrize("who", ["rep", "alice"])
def test_list_costs_the_same_queries_for_5_and_40_tickets(
    request: pytest.FixtureRequest,
    api: Callable[..., Any],
    rep: User,
    engineer: User,
    alice: User,
    who: str,
) -> None:
    client = api(request.getfixturevalue(who))
    _busy(rep, engineer, alice, 5)
    small = _queries(client, "/api/v1/tickets")
    _busy(rep, engineer, alice, 35)
    large = _queries(client, "/api/v1/tickets")
    assert len(client.get("/api/v1/tickets").json()["items"]) == 50
    assert small == large
    assert large <= 4


def test_one_ticket_costs_the_same_queries_with_and_without_escalations(
    as_rep: Any, rep: User, alice: User
) -> None:
    plain, busy = _open_many(rep, alice, 2)
    services.assign(busy, actor=rep, agent=rep)
    for _ in range(3):
        services.escalate(busy, actor=rep, to="technical-support", reason="x")
    without = _queries(as_rep, f"/api/v1/tickets/{plain.number}")
    with_three = _queries(as_rep, f"/api/v1/tickets/{busy.number}")
    assert as_rep.get(f"/api/v1/tickets/{busy.number}").json()["escalations"] == [
        "TSUP-100",
        "TSUP-101",
        "TSUP-102",
    ]
    assert without == with_three
    escalated = _queries(as_rep, "/api/v1/tickets/TSUP-100")
    assert escalated == without


def test_messages_and_events_cost_the_same_for_few_and_many(
    as_rep: Any, rep: User, alice: User
) -> None:
    case = _open_many(rep, alice, 1)[0]
    services.reply(case, actor=rep, body="1")
    few = (
        _queries(as_rep, "/api/v1/tickets/CASE-100/messages"),
        _queries(as_rep, "/api/v1/tickets/CASE-100/events"),
    )
    for i in range(10):
        services.reply(case, actor=alice if i % 2 else rep, body=str(i))
    many = (
        _queries(as_rep, "/api/v1/tickets/CASE-100/messages"),
        _queries(as_rep, "/api/v1/tickets/CASE-100/events"),
    )
    assert few == many


# --- documentation ------------------------------------------------------------------------


def test_openapi_document(client: Any) -> None:
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    paths = resp.json()["paths"]
    for path in (
        "/api/v1/tickets",
        "/api/v1/tickets/{number}",
        "/api/v1/tickets/{number}/escalate",
        "/api/v1/tickets/{number}/work-order",
        "/api/v1/tickets/{number}/events",
    ):
        assert path in paths


def test_triage_suggests_the_path_to_agents_only(
    api: Callable[..., Any], as_rep: Any, alice: User, case: dict[str, Any]
) -> None:
    resp = as_rep.get("/api/v1/tickets/CASE-100/triage")
    assert resp.status_code == 200, resp.content
    assert resp.json() == {
        "to": "technical-support",
        "category": None,
        "reason": 'Likely Technical Support: the inquiry mentions "broken".',
    }
    assert api(alice).get("/api/v1/tickets/CASE-100/triage").status_code == 404
