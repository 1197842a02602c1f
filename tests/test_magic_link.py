"""Sign-in by an emailed link for customer contacts: signed, expiring, single-use, throttled."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client

from caredesk.core.clock import now


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()
    yield
    cache.clear()


def ask(client: Client, email: str):
    return client.post("/signin/link/", {"email": email})


def link_in(mail) -> str:
    found = re.search(r"http://[^/\s]+(/signin/link/[^/\s]+/[^/\s]+/)", mail.body)
    assert found, mail.body
    return found[1]


def test_contact_signs_in_with_the_emailed_link_once(alice, mailoutbox):
    client = Client()
    response = ask(client, "ALICE@acme.test")
    assert response.status_code == 302 and response["Location"] == "/signin/link/sent/"
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == [alice.email] and mail.subject == "Your sign-in link"
    assert mail.alternatives and "Sign in" in mail.alternatives[0][0]
    url = link_in(mail)

    # Opening the link (as a mail scanner would) does not sign in and does not use it up.
    page = client.get(url)
    assert page.status_code == 200 and f"Sign in as {alice.email}" in page.content.decode()
    assert client.get("/requests/").status_code == 302

    assert client.post(url)["Location"] == "/"
    assert client.get("/requests/").status_code == 200
    # The second use is refused, in another browser too.
    other = Client()
    assert other.post(url).status_code == 400
    assert other.get("/requests/").status_code == 302


def test_link_expires(alice, mailoutbox):
    client = Client()
    with time_machine.travel(now(), tick=False) as clock:
        ask(client, alice.email)
        url = link_in(mailoutbox[0])
        clock.shift(timedelta(minutes=16))
        response = client.post(url)
    assert response.status_code == 400
    assert "no longer works" in response.content.decode()
    assert client.get("/requests/").status_code == 302


def test_tampered_link_is_refused(alice, mailoutbox):
    ask(Client(), alice.email)
    url = link_in(mailoutbox[0])
    assert Client().post(url[:-3] + "xx/").status_code == 400
    assert Client().post("/signin/link/notbase64/abc-def/").status_code == 400


@pytest.mark.parametrize("email", ["nobody@acme.test", "rep@caredesk.test"])
def test_unknown_addresses_and_agents_get_the_same_answer_and_no_mail(
    email, rep, alice, mailoutbox
):
    response = ask(Client(), email)
    assert response.status_code == 302 and response["Location"] == "/signin/link/sent/"
    assert mailoutbox == []


def test_links_are_throttled_per_address(alice, mailoutbox):
    client = Client()
    for _ in range(3):
        assert ask(client, alice.email).status_code == 302
    refused = ask(client, alice.email)
    assert refused.status_code == 429
    assert "Too many sign-in links" in refused.content.decode()
    assert len(mailoutbox) == 3


def test_bad_address_is_a_form_error(db):
    response = ask(Client(), "not an address")
    assert response.status_code == 400
    assert "Enter a valid email address." in response.content.decode()


def test_sign_in_page_offers_the_link(db):
    assert 'href="/signin/link/"' in Client().get("/signin/").content.decode()
