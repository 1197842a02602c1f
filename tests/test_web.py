"""The desk and the portal through Django's test client: sign-in, queues, the ticket page's
actions, the portal's requests, who sees what, query counts and the CSP."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from caredesk.people.models import User
from caredesk.servicemodel.choices import Channel
from caredesk.tickets import services
from caredesk.tickets.models import Event, Message, Ticket, WorkOrder

PASSWORD = "correct horse battery"


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def case(rep: User, requester: User, subject: str = "Dialer is broken", **kw: object) -> Ticket:
    return services.open_case(
        actor=rep,
        subject=subject,
        description="Campaign 12 will not start.",
        channel=Channel.PHONE,
        requester=requester,
        **kw,
    )


# --- signing in -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/desk/", "/requests/", "/desk/tickets/CASE-100/", "/desk/new/"])
def test_anonymous_visitors_are_led_to_sign_in(db, path):
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"].startswith(f"/signin/?next={path}")


def test_anonymous_home_shows_sign_in_and_contact_points(model):
    response = Client().get("/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'action="/signin/"' in page
    assert "customercare@livevox.com" in page
    assert "(888) 477-3448" in page and "24/7" in page


def test_agent_signs_in_and_lands_on_the_desk(rep):
    client = Client()
    response = client.post("/signin/", {"username": "REP@caredesk.test", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/desk/"
    desk = client.get("/desk/")
    assert desk.status_code == 200
    assert 'href="/desk/reports/"' in desk.content.decode()


def test_customer_signs_in_and_lands_on_the_portal(alice):
    client = Client()
    response = client.post("/signin/", {"username": "alice@acme.test", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"
    portal = client.get("/").content.decode()
    assert "New request" in portal
    assert "/desk/reports/" not in portal


def test_sign_in_honours_next(rep):
    response = Client().post(
        "/signin/?next=/desk/new/",
        {"username": "rep@caredesk.test", "password": PASSWORD, "next": "/desk/new/"},
    )
    assert response["Location"] == "/desk/new/"


def test_wrong_password_is_a_clear_error(alice):
    response = Client().post("/signin/", {"username": "alice@acme.test", "password": "nope"})
    assert response.status_code == 200
    assert "do not match an account" in response.content.decode()


def test_repeated_failures_pause_sign_in(alice):
    client = Client()
    for _ in range(5):
        client.post("/signin/", {"username": "alice@acme.test", "password": "nope"})
    response = client.post("/signin/", {"username": "alice@acme.test", "password": PASSWORD})
    assert response.status_code == 429
    assert "Sign-in paused" in response.content.decode()


def test_sign_out_is_a_post(alice):
    client = signed_in(alice)
    assert client.get("/signout/").status_code == 405
    assert client.post("/signout/").status_code == 302
    assert client.get("/requests/").status_code == 302


# --- who sees what ------------------------------------------------------------------------


def test_customer_gets_404_on_the_desk(rep, alice):
    ticket = case(rep, alice)
    client = signed_in(alice)
    assert client.get("/desk/").status_code == 404
    assert client.get("/desk/new/").status_code == 404
    assert client.get(f"/desk/tickets/{ticket.number}/").status_code == 404
    response = client.post(f"/desk/tickets/{ticket.number}/note", {"note-body": "sneaky"})
    assert response.status_code == 404
    assert not Message.objects.filter(body="sneaky").exists()


def test_customer_gets_404_on_another_organizations_request(rep, alice, gina):
    acme_case = case(rep, alice)
    client = signed_in(gina)
    assert client.get(f"/requests/{acme_case.number}/").status_code == 404
    assert client.post(f"/requests/{acme_case.number}/", {"body": "hi"}).status_code == 404
    assert acme_case.number not in client.get("/requests/").content.decode()
    assert client.get("/requests/CASE-999/").status_code == 404


def test_colleagues_see_their_organizations_requests(rep, alice, bob, gina):
    ticket = case(rep, alice)
    case(rep, gina, subject="Globex only")
    page = signed_in(bob).get("/requests/").content.decode()
    assert ticket.number in page
    assert "Globex only" not in page
    assert signed_in(bob).get(f"/requests/{ticket.number}/").status_code == 200


def test_internal_note_never_appears_on_the_portal(rep, alice):
    ticket = case(rep, alice)
    agent = signed_in(rep)
    agent.post(f"/desk/tickets/{ticket.number}/note", {"note-body": "Customer is on the old plan"})
    agent.post(f"/desk/tickets/{ticket.number}/reply", {"reply-body": "We are looking into it."})
    assert (
        "Customer is on the old plan"
        in agent.get(f"/desk/tickets/{ticket.number}/").content.decode()
    )
    page = signed_in(alice).get(f"/requests/{ticket.number}/").content.decode()
    assert "We are looking into it." in page
    assert "Customer is on the old plan" not in page


# --- the desk ------------------------------------------------------------------------------


def test_search_by_number_finds_the_ticket(rep, alice):
    ticket = case(rep, alice)
    assert ticket.number == "CASE-100"
    client = signed_in(rep)
    response = client.get("/desk/", {"q": "CASE-100"})
    assert response.status_code == 302
    assert response["Location"] == "/desk/tickets/CASE-100/"
    assert client.get("/desk/", {"q": "case-100"})["Location"] == "/desk/tickets/CASE-100/"
    htmx = client.get("/desk/", {"q": "CASE-100"}, headers={"HX-Request": "true"})
    assert htmx["HX-Redirect"] == "/desk/tickets/CASE-100/"


def test_search_by_words_matches_subjects(rep, alice):
    case(rep, alice, subject="Dialer is broken")
    case(rep, alice, subject="Training for new agents")
    page = signed_in(rep).get("/desk/", {"q": "dialer"}).content.decode()
    assert "Dialer is broken" in page
    assert "Training for new agents" not in page


def test_queues_and_views(rep, engineer, alice):
    mine = case(rep, alice, subject="Mine to take")
    services.assign(mine, actor=rep, agent=rep)
    other = case(rep, alice, subject="Nobody has it")
    escalated = case(rep, alice, subject="Outage in NA3")
    tsup = services.escalate(escalated, actor=rep, to="technical-support", reason="outage")
    client = signed_in(rep)

    page = client.get("/desk/", {"view": "mine"}).content.decode()
    assert "Mine to take" in page and "Nobody has it" not in page
    page = client.get("/desk/", {"view": "unassigned"}).content.decode()
    assert "Nobody has it" in page and "Mine to take" not in page
    page = client.get("/desk/", {"view": "escalated"}).content.decode()
    assert escalated.number in page and other.number not in page
    page = client.get("/desk/", {"view": "technical-support"}).content.decode()
    assert tsup.number in page and other.number not in page
    page = client.get("/desk/", {"view": "emergency-care"}).content.decode()
    assert tsup.number in page and other.number in page


def test_htmx_filter_renders_only_the_table(rep, alice):
    case(rep, alice)
    response = signed_in(rep).get(
        "/desk/", {"view": "all", "priority": "medium"}, headers={"HX-Request": "true"}
    )
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="results"')
    assert "CASE-100" in page
    assert "<html" not in page


def test_keyset_pagination_walks_older_tickets(rep, alice, monkeypatch):
    from caredesk.desk import views

    for i in range(3):
        case(rep, alice, subject=f"Ticket {i}")
    client = signed_in(rep)
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    first = client.get("/desk/", {"view": "all"})
    older = first.context["older"]
    assert older and "cursor=" in older
    second = client.get(f"/desk/?{older}").content.decode()
    assert "CASE-100" in second and "CASE-102" not in second
    assert client.get("/desk/", {"view": "all", "cursor": "garbage"}).status_code == 200


def _desk_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/desk/", {"view": "all"})
    assert response.status_code == 200
    return len(queries)


def test_desk_list_uses_a_fixed_number_of_queries(rep, engineer, alice, bob, globex, gina):
    client = signed_in(rep)
    people = [alice, bob, gina]
    for i in range(5):
        ticket = case(rep, people[i % 3], subject=f"Question {i}")
        services.assign(ticket, actor=rep, agent=rep)
    few = _desk_queries(client)
    for i in range(25):
        ticket = case(rep, people[i % 3], subject=f"More {i}")
        if i % 2:
            services.assign(ticket, actor=rep, agent=rep)
    assert Ticket.objects.count() == 30
    assert _desk_queries(client) == few
    htmx_few = client.get("/desk/", {"view": "all"}, headers={"HX-Request": "true"})
    assert htmx_few.status_code == 200


def test_portal_list_uses_a_fixed_number_of_queries(rep, alice):
    client = signed_in(alice)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/requests/").status_code == 200
        return len(queries)

    for i in range(2):
        services.escalate(
            case(rep, alice, subject=f"Outage {i}"),
            actor=rep,
            to="technical-support",
            reason="outage",
        )
    few = count()
    for i in range(10):
        services.escalate(
            case(rep, alice, subject=f"More {i}"),
            actor=rep,
            to="technical-support",
            reason="outage",
        )
    assert count() == few


# --- the ticket page's actions ----------------------------------------------------------------


def test_ticket_page_shows_header_and_timeline(rep, alice):
    ticket = case(rep, alice)
    services.add_note(ticket, actor=rep, body="Checked the dialer logs")
    page = signed_in(rep).get(f"/desk/tickets/{ticket.number}/").content.decode()
    assert "CASE-100" in page and "Dialer is broken" in page
    assert "Acme" in page and "Alice" in page
    assert "Checked the dialer logs" in page and "Internal note" in page
    assert "opened the ticket (Phone)" in page
    assert "Likely Technical Support" in page  # the triage suggestion with its reason


def test_reply_through_the_form(rep, alice):
    ticket = case(rep, alice)
    client = signed_in(rep)
    response = client.post(f"/desk/tickets/{ticket.number}/reply", {"reply-body": "On it."})
    assert response.status_code == 302 and response["Location"] == f"/desk/tickets/{ticket.number}/"
    message = Message.objects.get(ticket=ticket)
    assert message.kind == "reply" and message.body == "On it." and message.author == rep
    ticket.refresh_from_db()
    assert ticket.status == "open"
    assert "Reply sent" in client.get(response["Location"]).content.decode()


def test_empty_reply_is_a_form_error(rep, alice):
    ticket = case(rep, alice)
    response = signed_in(rep).post(f"/desk/tickets/{ticket.number}/reply", {"reply-body": "  "})
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    assert not Message.objects.exists()


def test_note_through_the_form(rep, alice):
    ticket = case(rep, alice)
    signed_in(rep).post(f"/desk/tickets/{ticket.number}/note", {"note-body": "Internal only"})
    assert Message.objects.get(ticket=ticket).kind == "note"


def test_escalate_through_the_form(rep, alice):
    ticket = case(rep, alice)
    response = signed_in(rep).post(
        f"/desk/tickets/{ticket.number}/escalate",
        {"escalate-to": "technical-support", "escalate-reason": "Dialer outage"},
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "escalated"
    tsup = Ticket.objects.get(origin=ticket)
    assert tsup.number == "TSUP-100" and tsup.escalation_reason == "Dialer outage"
    page = signed_in(rep).get(f"/desk/tickets/{ticket.number}/").content.decode()
    assert 'href="/desk/tickets/TSUP-100/"' in page
    page = signed_in(alice).get("/requests/").content.decode()
    assert 'href="/requests/TSUP-100/"' in page


def test_escalation_refused_shows_the_services_message(rep, alice):
    ticket = case(rep, alice)
    response = signed_in(rep).post(
        f"/desk/tickets/{ticket.number}/escalate",
        {"escalate-to": "project-coordination", "escalate-reason": "Needs a change"},
    )
    assert response.status_code == 422
    assert "Choose a Project Coordination category" in response.content.decode()
    assert not Ticket.objects.filter(origin=ticket).exists()


def test_assign_through_the_form(rep, rep2, engineer, alice):
    ticket = case(rep, alice)
    client = signed_in(rep)
    client.post(f"/desk/tickets/{ticket.number}/assign", {"assign-agent": "me"})
    ticket.refresh_from_db()
    assert ticket.assignee == rep
    client.post(f"/desk/tickets/{ticket.number}/assign", {"assign-agent": str(rep2.pk)})
    ticket.refresh_from_db()
    assert ticket.assignee == rep2
    response = client.post(
        f"/desk/tickets/{ticket.number}/assign", {"assign-agent": str(engineer.pk)}
    )
    assert response.status_code == 422
    assert "is not an agent of Customer Care" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.assignee == rep2


def test_priority_and_status_through_the_forms(rep, alice):
    ticket = case(rep, alice)
    client = signed_in(rep)
    client.post(f"/desk/tickets/{ticket.number}/priority", {"priority-priority": "critical"})
    client.post(f"/desk/tickets/{ticket.number}/status", {"status-action": "resolved"})
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.status) == ("critical", "resolved")
    client.post(f"/desk/tickets/{ticket.number}/status", {"status-action": "reopen"})
    ticket.refresh_from_db()
    assert ticket.status == "open"
    client.post(f"/desk/tickets/{ticket.number}/status", {"status-action": "resolved"})
    client.post(f"/desk/tickets/{ticket.number}/status", {"status-action": "closed"})
    ticket.refresh_from_db()
    assert ticket.status == "closed"
    response = client.post(f"/desk/tickets/{ticket.number}/status", {"status-action": "reopen"})
    assert response.status_code == 409
    assert "Only a resolved ticket can be reopened" in response.content.decode()


def test_work_order_panel(rep, coordinator, alice):
    ticket = case(rep, alice, subject="Change the caller id")
    project = services.escalate(
        ticket, actor=rep, to="project-coordination", reason="change", category="platform-change"
    )
    client = signed_in(coordinator)
    url = f"/desk/tickets/{project.number}/"
    assert "Draft work order" in client.get(url).content.decode()
    response = client.post(f"{url}resolve-nothing", {})
    assert response.status_code == 404
    refused = client.post(f"{url}status", {"status-action": "resolved"})
    assert refused.status_code == 409 and "needs an approved Work Order" in refused.content.decode()
    client.post(f"{url}work-order", {"wo-scope": "New caller id on NA3", "wo-estimate": "2 days"})
    for action in ("send", "approve"):
        client.post(f"{url}work-order-move", {"wom-action": action})
    client.post(
        f"{url}work-order-move", {"wom-action": "schedule", "wom-scheduled_for": "2030-01-15T09:00"}
    )
    client.post(f"{url}work-order-move", {"wom-action": "done"})
    order = WorkOrder.objects.get(ticket=project)
    assert order.state == "done" and order.scope == "New caller id on NA3"
    assert order.scheduled_for is not None and order.scheduled_for.hour == 14  # 09:00 ET in UTC
    client.post(f"{url}status", {"status-action": "resolved"})
    project.refresh_from_db()
    assert project.status == "resolved"


def test_new_case_for_a_caller(rep, acme):
    client = signed_in(rep)
    page = client.get("/desk/new/").content.decode()
    assert 'value="phone" selected' in page
    response = client.post(
        "/desk/new/",
        {
            "requester_email": "carol@acme.test",
            "requester_name": "Carol",
            "subject": "Cannot log in",
            "description": "Since this morning",
            "priority": "high",
            "environment": "NA3",
            "channel": "phone",
        },
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert response["Location"] == f"/desk/tickets/{ticket.number}/"
    assert ticket.requester.email == "carol@acme.test" and ticket.organization == acme
    assert (ticket.channel, ticket.priority, ticket.environment_id) == ("phone", "high", "NA3")
    assert Event.objects.filter(ticket=ticket, kind="ticket.opened", actor=rep).exists()


def test_new_case_refusal_keeps_nothing(rep, engineer):
    response = signed_in(rep).post(
        "/desk/new/",
        {
            "requester_email": "engineer@caredesk.test",
            "subject": "x",
            "priority": "low",
            "channel": "phone",
        },
    )
    assert response.status_code == 400
    assert "is an agent, not a customer contact" in response.content.decode()
    assert not Ticket.objects.exists()


# --- the portal ------------------------------------------------------------------------------


def test_customer_submits_a_request_and_sees_its_number_at_once(alice, rep):
    client = signed_in(alice)
    response = client.post(
        "/",
        {
            "subject": "Report is empty",
            "description": "Since Monday",
            "environment": "NA4",
            "priority": "high",
        },
        follow=True,
    )
    ticket = Ticket.objects.get()
    assert (ticket.channel, ticket.requester, ticket.environment_id) == ("portal", alice, "NA4")
    assert response.redirect_chain[-1][0] == f"/requests/{ticket.number}/"
    assert f"Your request is {ticket.number}" in response.content.decode()
    assert ticket.number in client.get("/").content.decode()


def test_customer_request_needs_a_subject(alice):
    response = signed_in(alice).post("/", {"subject": "", "description": "x", "priority": "low"})
    assert response.status_code == 400
    assert not Ticket.objects.exists()


def test_customer_replies_on_the_portal(rep, alice):
    ticket = case(rep, alice)
    services.set_status(ticket, actor=rep, status="waiting_on_customer")
    response = signed_in(alice).post(f"/requests/{ticket.number}/", {"body": "Here are the logs"})
    assert response.status_code == 302
    message = Message.objects.get(ticket=ticket)
    assert (message.author, message.channel, message.kind) == (alice, "portal", "reply")
    ticket.refresh_from_db()
    assert ticket.status == "open"


def test_agents_visiting_the_portal_go_to_the_desk(rep):
    assert signed_in(rep).get("/")["Location"] == "/desk/"


# --- headers and assets ------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["anonymous", "rep", "alice"])
def test_csp_forbids_inline_scripts(who, request, model):
    client = Client() if who == "anonymous" else signed_in(request.getfixturevalue(who))
    response = client.get("/desk/" if who == "rep" else "/")
    policy = response["Content-Security-Policy"]
    directives = dict(
        (part.split()[0], part.split()[1:]) for part in policy.split(";") if part.strip()
    )
    assert directives["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy
    page = response.content.decode()
    assert "<script>" not in page and " style=" not in page
    assert "htmx-2.min.js" in page


def test_pages_have_a_skip_link_and_labels(rep, alice):
    ticket = case(rep, alice)
    page = signed_in(rep).get(f"/desk/tickets/{ticket.number}/").content.decode()
    assert 'href="#main"' in page and 'id="main"' in page
    assert '<label for="id_reply-body">' in page
    assert '<label for="id_note-body">' in page


def test_password_reset_by_email(alice, mailoutbox, settings):
    client = Client()
    assert 'href="/password/reset/"' in client.get("/signin/").content.decode()
    response = client.post("/password/reset/", {"email": "alice@acme.test"})
    assert response["Location"] == "/password/reset/sent/"
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["alice@acme.test"] and "Reset your" in message.subject
    assert message.alternatives  # the html part of the triple
    link = next(w for w in message.body.split() if "/password/reset/" in w)
    assert link.startswith(settings.BASE_URL)
    path = link.removeprefix(settings.BASE_URL)
    form = client.get(path, follow=True)
    assert "Choose a new password" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a brand new secret 42", "new_password2": "a brand new secret 42"},
    )
    assert done["Location"] == "/password/reset/complete/"
    signed = Client().post(
        "/signin/", {"username": "alice@acme.test", "password": "a brand new secret 42"}
    )
    assert signed.status_code == 302 and signed["Location"] == "/"


def test_password_reset_says_the_same_for_unknown_addresses(db, mailoutbox):
    response = Client().post("/password/reset/", {"email": "nobody@nowhere.test"})
    assert response["Location"] == "/password/reset/sent/"
    assert mailoutbox == []


def test_htmx_history_restore_gets_the_whole_page(rep, alice):
    case(rep, alice)
    response = signed_in(rep).get(
        "/desk/", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in response.content.decode()
    assert "HX-Request" in response["Vary"]
