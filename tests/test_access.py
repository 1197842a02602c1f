"""Who sees what: customers see their organization's tickets only, and tokens act within
their scope. Anything a customer may not see answers 404, exactly as if it did not exist."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine

from caredesk.core.clock import now
from caredesk.people import services as people
from caredesk.people.models import Organization, User
from caredesk.tickets import services
from caredesk.tickets.access import get_ticket, visible_tickets
from caredesk.tickets.models import Event, Message, Ticket, WorkOrder


def snapshot() -> dict[str, int]:
    return {
        "tickets": Ticket.objects.count(),
        "events": Event.objects.count(),
        "messages": Message.objects.count(),
        "work_orders": WorkOrder.objects.count(),
    }


@pytest.fixture
def globex_tickets(rep: User, gina: User) -> dict[str, Ticket]:
    """A Globex case, its Project Coordination escalation with a work order, and a note."""
    case = services.open_case(actor=gina, subject="Globex dialer down", channel="portal")
    services.add_note(case, actor=rep, body="Globex is a big account")
    pc = services.escalate(
        case, actor=rep, to="project-coordination", reason="Change", category="platform-change"
    )
    from caredesk.tickets.work_orders import draft_work_order, move_work_order

    draft_work_order(pc, actor=rep, scope="Change the caller ID")
    move_work_order(pc, actor=rep, action="send")
    return {"case": case, "pc": pc}


# Every endpoint that names a ticket, with a request body that would succeed for its owner.
ENDPOINTS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("get", "/api/v1/tickets/{n}", None),
    ("get", "/api/v1/tickets/{n}/messages", None),
    ("get", "/api/v1/tickets/{n}/events", None),
    ("get", "/api/v1/tickets/{n}/triage", None),
    ("get", "/api/v1/tickets/{n}/work-order", None),
    ("post", "/api/v1/tickets/{n}/replies", {"body": "Let me in"}),
    ("post", "/api/v1/tickets/{n}/notes", {"body": "Let me in"}),
    ("post", "/api/v1/tickets/{n}/escalate", {"to": "technical-support", "reason": "x"}),
    ("post", "/api/v1/tickets/{n}/assign", {"agent": "rep@caredesk.test"}),
    ("post", "/api/v1/tickets/{n}/priority", {"priority": "critical"}),
    ("post", "/api/v1/tickets/{n}/status", {"status": "resolved"}),
    ("post", "/api/v1/tickets/{n}/work-order", {"action": "approve"}),
    ("post", "/api/v1/tickets/{n}/work-order", {"action": "decline"}),
]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
@pytest.mark.parametrize("which", ["case", "pc"])
def test_another_organizations_ticket_does_not_exist_for_a_customer(
    api: Callable[..., Any],
    alice: User,
    globex_tickets: dict[str, Ticket],
    method: str,
    path: str,
    body: dict[str, Any] | None,
    which: str,
) -> None:
    as_alice = api(alice)
    number = globex_tickets[which].number
    before = snapshot()

    def call(n: str) -> Any:
        url = path.format(n=n)
        return as_alice.get(url) if method == "get" else as_alice.post(url, body)

    real, missing = call(number), call("CASE-99999")
    assert real.status_code == 404, real.content
    # The same answer as for a number that was never given out: nothing to learn from it.
    assert real.json() == {
        k: (v.replace("CASE-99999", number) if isinstance(v, str) else v)
        for k, v in missing.json().items()
    }
    assert snapshot() == before
    assert number not in real.content.decode().replace(f"No ticket {number}.", "")


def test_lists_and_filters_never_show_another_organization(
    api: Callable[..., Any], alice: User, globex_tickets: dict[str, Ticket]
) -> None:
    as_alice = api(alice)
    for params in (
        {},
        {"organization": "globex"},
        {"text": "Globex"},
        {"text": "CASE-100"},
        {"type": "project-coordination"},
        {"status": "escalated"},
    ):
        resp = as_alice.get("/api/v1/tickets", params)
        assert resp.status_code == 200
        assert resp.json() == {"items": [], "next": None}, params


def test_an_agent_sees_every_ticket(
    api: Callable[..., Any], engineer: User, globex_tickets: dict[str, Ticket]
) -> None:
    numbers = [t["number"] for t in api(engineer).get("/api/v1/tickets").json()["items"]]
    assert numbers == ["100100", "CASE-100"]


def test_organization_sharing(
    api: Callable[..., Any], rep: User, alice: User, bob: User, acme: Organization
) -> None:
    mine = services.open_case(actor=alice, subject="Alice's reports", channel="portal")
    for_alice = services.open_case(
        actor=rep, requester=alice, subject="Alice called", channel="phone"
    )
    bobs = services.open_case(actor=bob, subject="Bob's campaign", channel="portal")
    as_bob = api(bob)

    def bob_sees() -> list[str]:
        return [t["number"] for t in as_bob.get("/api/v1/tickets").json()["items"]]

    assert acme.shares_tickets  # the default
    assert bob_sees() == [bobs.number, for_alice.number, mine.number]
    assert as_bob.get(f"/api/v1/tickets/{mine.number}").status_code == 200
    assert (
        as_bob.post(f"/api/v1/tickets/{mine.number}/replies", {"body": "Me too"}).status_code == 201
    )

    Organization.objects.filter(pk=acme.pk).update(shares_tickets=False)
    assert bob_sees() == [bobs.number]
    assert as_bob.get(f"/api/v1/tickets/{mine.number}").status_code == 404
    resp = as_bob.post(f"/api/v1/tickets/{mine.number}/replies", {"body": "Again"})
    assert resp.status_code == 404
    alice = User.objects.get(pk=alice.pk)
    assert {t.number for t in visible_tickets(alice)} == {mine.number, for_alice.number}


def test_a_contact_without_an_organization_sees_only_their_own(rep: User, alice: User) -> None:
    loner = people.find_or_create_contact("loner@example.test")
    assert loner.organization is None
    theirs = services.open_case(actor=loner, subject="Hello", channel="email")
    services.open_case(actor=rep, subject="Unfiled inquiry", channel="phone")  # no organization
    services.open_case(actor=alice, subject="Acme", channel="email")
    assert list(visible_tickets(loner)) == [theirs]


def test_customers_never_see_internal_notes(
    api: Callable[..., Any], rep: User, alice: User
) -> None:
    case = services.open_case(actor=alice, subject="Hello", channel="portal")
    services.reply(case, actor=rep, body="Public answer")
    services.add_note(case, actor=rep, body="Internal: customer is on a trial")
    services.reply(case, actor=alice, body="Thanks")
    resp = api(alice).get(f"/api/v1/tickets/{case.number}/messages")
    assert [m["body"] for m in resp.json()["items"]] == ["Public answer", "Thanks"]
    assert "trial" not in resp.content.decode()
    agent_view = api(rep).get(f"/api/v1/tickets/{case.number}/messages").json()["items"]
    assert len(agent_view) == 3
    # The event log names notes too, so it stays with agents.
    assert api(alice).get(f"/api/v1/tickets/{case.number}/events").status_code == 404


def test_get_ticket_answers_not_found_for_invisible_and_inactive(alice: User, gina: User) -> None:
    case = services.open_case(actor=gina, subject="Hello", channel="portal")
    from caredesk.core.errors import NotFound

    with pytest.raises(NotFound):
        get_ticket(alice, case.number)
    assert get_ticket(gina, case.number) == case
    gina.is_active = False
    with pytest.raises(NotFound):
        get_ticket(gina, case.number)


# --- tokens ---------------------------------------------------------------------------------


def _case(alice: User) -> Ticket:
    return services.open_case(actor=alice, subject="Hello", channel="portal")


def test_read_token_reads_but_does_not_write(
    api: Callable[..., Any], rep: User, alice: User
) -> None:
    case = _case(alice)
    reader = api(rep, scope="read")
    assert reader.get("/api/v1/tickets").status_code == 200
    assert reader.get(f"/api/v1/tickets/{case.number}").status_code == 200
    before = snapshot()
    for path, body in [
        ("/api/v1/tickets", {"subject": "New"}),
        (f"/api/v1/tickets/{case.number}/replies", {"body": "x"}),
        (f"/api/v1/tickets/{case.number}/status", {"status": "resolved"}),
    ]:
        resp = reader.post(path, body)
        assert resp.status_code == 403, resp.content
        assert "scope" in resp.json()["message"]
    assert snapshot() == before


@pytest.mark.parametrize("scope", ["intake", "status"])
def test_intake_and_status_tokens_do_not_reach_tickets(
    api: Callable[..., Any], rep: User, alice: User, scope: str
) -> None:
    case = _case(alice)
    narrow = api(rep, scope=scope)
    assert narrow.get("/api/v1/tickets").status_code == 403
    assert narrow.get(f"/api/v1/tickets/{case.number}").status_code == 403
    assert narrow.post("/api/v1/tickets", {"subject": "x"}).status_code == 403
    assert Ticket.objects.count() == 1


@pytest.mark.parametrize("scope", ["write", "all"])
def test_write_and_all_tokens_do_both(api: Callable[..., Any], rep: User, scope: str) -> None:
    client = api(rep, scope=scope)
    assert client.post("/api/v1/tickets", {"subject": "x"}).status_code == 201
    assert client.get("/api/v1/tickets").status_code == 200


def test_a_token_never_widens_its_users_rights(
    api: Callable[..., Any], gina: User, alice: User
) -> None:
    case = _case(alice)
    assert api(gina, scope="all").get(f"/api/v1/tickets/{case.number}").status_code == 404


def _assert_401(resp: Any) -> None:
    assert resp.status_code == 401, resp.content
    assert resp.json()["message"]


def test_missing_or_unknown_token_is_401(client: Any, model: None) -> None:
    _assert_401(client.get("/api/v1/tickets"))
    _assert_401(client.get("/api/v1/tickets", headers={"Authorization": "Bearer cd_nope"}))
    _assert_401(client.get("/api/v1/tickets", headers={"Authorization": "Basic cd_nope"}))


def test_revoked_token_is_refused_at_once(api: Callable[..., Any], rep: User) -> None:
    client = api(rep)
    assert client.get("/api/v1/tickets").status_code == 200
    token = people.token_user(client.token)
    assert token is not None
    people.revoke_token(token)
    _assert_401(client.get("/api/v1/tickets"))


def test_expired_token_is_refused(api: Callable[..., Any], rep: User) -> None:
    client = api(rep)
    token = people.token_user(client.token)
    assert token is not None
    token.expires_at = now() + timedelta(days=1)
    token.save()
    assert client.get("/api/v1/tickets").status_code == 200
    with time_machine.travel(now() + timedelta(days=1, seconds=1), tick=False):
        _assert_401(client.get("/api/v1/tickets"))


def test_deactivated_user_is_refused_at_once(api: Callable[..., Any], rep: User) -> None:
    client = api(rep)
    assert client.get("/api/v1/tickets").status_code == 200
    User.objects.filter(pk=rep.pk).update(is_active=False)
    _assert_401(client.get("/api/v1/tickets"))
    before = Ticket.objects.count()
    _assert_401(client.post("/api/v1/tickets", {"subject": "x"}))
    assert Ticket.objects.count() == before


def test_tokens_are_stored_hashed(rep: User) -> None:
    token, raw = people.create_token(rep, scope="read")
    assert raw.startswith("cd_") and len(raw) > 30
    assert raw not in (token.digest, token.prefix)
    assert token.digest not in raw
