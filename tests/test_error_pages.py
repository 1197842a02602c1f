"""Error pages look like the rest of the desk and say where to go next."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory
from django.views.defaults import server_error

from caredesk.people.models import User


def _as(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.django_db
def test_a_missing_page_says_so_and_leads_each_person_home(rep: User, alice: User) -> None:
    for user, way_home in (
        (rep, '<a class="button primary" href="/desk/">Back to the queues</a>'),
        (alice, "Your requests</a>"),
        (None, "Sign in</a>"),
    ):
        response = _as(user).get("/no/such/page/")
        page = response.content.decode()
        assert response.status_code == 404
        assert "<h1>Page not found</h1>" in page and way_home in page
        assert 'href="/static/caredesk/caredesk' in page  # the desk's own look


@pytest.mark.django_db
def test_a_customer_on_an_agent_page_gets_the_same_404(alice: User) -> None:
    response = _as(alice).get("/desk/reports/")
    assert response.status_code == 404 and "<h1>Page not found</h1>" in response.content.decode()


@pytest.mark.django_db
def test_an_expired_form_says_nothing_was_changed(rep: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(rep)
    response = client.post("/desk/presence/", {"status": "busy"})
    page = response.content.decode()
    assert response.status_code == 403
    assert "This form has expired" in page and "Nothing was changed" in page


def test_the_500_page_needs_neither_a_request_context_nor_the_database() -> None:
    # No django_db mark: any query here would fail the test.
    response = server_error(RequestFactory().get("/"))
    page = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in page and "caredesk.css" in page
