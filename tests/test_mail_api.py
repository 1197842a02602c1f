"""POST /api/v1/inbound/email: 202 for every message taken in, 4xx only for no message."""

from __future__ import annotations

import pytest
from django.test import Client
from mail_helpers import corpus_file, eml

from caredesk.people import services as people
from caredesk.people.models import User
from caredesk.tickets.models import Ticket

pytestmark = pytest.mark.django_db
URL = "/api/v1/inbound/email"


@pytest.fixture
def robot(model) -> User:
    return people.add_user("intake@caredesk.test", role="admin", name="Mail intake")


def _post(token: str | None, body: bytes, **headers: str) -> object:
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return Client().generic("POST", URL, body, content_type="message/rfc822", headers=headers)


def _token(user: User, scope: str = "intake") -> str:
    return people.create_token(user, scope=scope)[1]


def test_a_message_is_taken_in_with_202_and_its_case(robot, acme) -> None:
    response = _post(_token(robot), eml(sender="dana@acme.test"))

    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "stored" and body["ticket"] == "CASE-100"
    assert isinstance(body["id"], int) and body["reason"]
    assert Ticket.objects.get(number="CASE-100").channel == "email"


def test_duplicates_and_quarantined_messages_are_taken_in_too(robot, alice) -> None:
    token = _token(robot)
    _post(token, eml())

    again = _post(token, eml())
    broken = _post(token, corpus_file("090-deep-nesting.eml"))

    assert again.status_code == 202 and again.json()["status"] == "duplicate"
    assert broken.status_code == 202 and broken.json()["status"] == "quarantined"
    assert "nested" in broken.json()["reason"]


def test_no_message_no_token_or_too_large_is_a_clear_4xx(robot, alice, settings) -> None:
    token = _token(robot)

    assert _post(token, b"").status_code == 400
    assert _post(token, b"  \r\n").status_code == 400
    assert _post(None, eml()).status_code == 401
    assert _post("cd_not-a-token", eml()).status_code == 401
    assert _post(_token(robot, "read"), eml()).status_code == 403
    settings.MAIL_MAX_BYTES = 50
    too_large = _post(token, eml())
    assert too_large.status_code == 413 and "limit" in too_large.json()["message"]
    assert Ticket.objects.count() == 0


def test_the_endpoint_is_in_the_openapi_document(model) -> None:
    doc = Client().get("/api/v1/openapi.json").json()

    operation = doc["paths"][URL]["post"]
    assert "message/rfc822" in operation["requestBody"]["content"]
    assert "202" in operation["responses"]
