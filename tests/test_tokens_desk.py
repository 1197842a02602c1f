"""API tokens in the desk: listed with last use, revoked by a POST with CSRF; revoked and
expired tokens fail at once; last use is written at most once a minute."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client

from caredesk.core.clock import now
from caredesk.core.models import AuditEntry
from caredesk.people import services as people
from caredesk.people.models import ApiToken, User


@pytest.fixture
def admin_user(model: None) -> User:
    return people.add_user("admin@caredesk.test", role="admin", password="correct horse battery")


def _signed_in(user: User, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


def _works(raw: str) -> int:
    return Client().get("/api/v1/tickets", headers={"Authorization": f"Bearer {raw}"}).status_code


def test_agents_see_their_own_tokens_and_admins_see_all(
    rep: User, rep2: User, admin_user: User
) -> None:
    mine, _ = people.create_token(rep, scope="read", name="reporting script")
    theirs, _ = people.create_token(rep2, scope="write")
    page = _signed_in(rep).get("/desk/tokens/").content.decode()
    assert mine.prefix in page and "reporting script" in page and "Read" in page
    assert theirs.prefix not in page
    everything = _signed_in(admin_user).get("/desk/tokens/").content.decode()
    assert mine.prefix in everything and theirs.prefix in everything
    assert rep2.email in everything


def test_customers_do_not_have_the_page(alice: User) -> None:
    assert _signed_in(alice).get("/desk/tokens/").status_code == 404


def test_a_revoked_token_fails_at_once(rep: User) -> None:
    token, raw = people.create_token(rep)
    assert _works(raw) == 200
    client = _signed_in(rep, csrf=True)
    page = client.get("/desk/tokens/")
    assert client.post(f"/desk/tokens/{token.pk}/revoke").status_code == 403, "CSRF is required"
    assert _works(raw) == 200
    csrf = page.cookies["csrftoken"].value
    revoked = client.post(f"/desk/tokens/{token.pk}/revoke", {"csrfmiddlewaretoken": csrf})
    assert revoked.status_code == 302
    assert _works(raw) == 401
    token.refresh_from_db()
    assert token.revoked_at is not None
    entry = AuditEntry.objects.get(action="token.revoked")
    assert entry.actor == rep and entry.changes["revoked_at"][0] is None
    assert "revoked" in client.get("/desk/tokens/").content.decode()


def test_nobody_revokes_another_agents_token_but_an_admin(
    rep: User, rep2: User, admin_user: User
) -> None:
    token, raw = people.create_token(rep2)
    assert _signed_in(rep).post(f"/desk/tokens/{token.pk}/revoke").status_code == 404
    assert _works(raw) == 200
    assert _signed_in(admin_user).post(f"/desk/tokens/{token.pk}/revoke").status_code == 302
    assert _works(raw) == 401


def test_an_expired_token_fails_at_once(rep: User) -> None:
    out, err = StringIO(), StringIO()
    call_command("token", "create", rep.email, "--expires", "7", stdout=out, stderr=err)
    raw = out.getvalue().split()[-1]
    token = ApiToken.objects.get(user=rep)
    assert token.expires_at is not None
    assert abs(token.expires_at - (now() + timedelta(days=7))) < timedelta(minutes=1)
    assert "expires" in err.getvalue()
    with time_machine.travel(token.expires_at - timedelta(seconds=1), tick=False):
        assert _works(raw) == 200
    with time_machine.travel(token.expires_at, tick=False):
        assert _works(raw) == 401
        assert 'class="token-expired"' in _signed_in(rep).get("/desk/tokens/").content.decode()


@pytest.mark.parametrize("days", ["0", "-3", "99999"])
def test_token_create_refuses_a_bad_expiry(rep: User, days: str) -> None:
    with pytest.raises(Exception, match="--expires"):
        call_command("token", "create", rep.email, "--expires", days, stdout=StringIO())
    assert not ApiToken.objects.exists()


def test_last_use_is_written_at_most_once_a_minute(
    rep: User, django_assert_num_queries: Any
) -> None:
    token, raw = people.create_token(rep)
    start = now()
    with time_machine.travel(start, tick=False):
        _works(raw)
    token.refresh_from_db()
    assert token.last_used_at == start
    with time_machine.travel(start + timedelta(seconds=59), tick=False):
        _works(raw)
        token.refresh_from_db()
        assert token.last_used_at == start, "no write within the minute"
        with django_assert_num_queries(1):  # the lookup only; no UPDATE
            people.token_user(raw)
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        _works(raw)
    token.refresh_from_db()
    assert token.last_used_at == start + timedelta(seconds=61)
    page = _signed_in(rep).get("/desk/tokens/").content.decode()
    shown = token.last_used_at.astimezone(ZoneInfo("America/New_York")).isoformat()[:16]
    assert f'datetime="{shown}' in page


def test_an_agent_creates_a_token_in_the_desk_and_sees_it_once(rep: User) -> None:
    client = _signed_in(rep)
    response = client.post("/desk/tokens/new", {"name": "wallboard", "scope": "read", "days": "30"})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    html = response.content.decode()
    raw = html.split('<code class="new-token">')[1].split("</code>")[0]
    assert _works(raw) == 200
    token = ApiToken.objects.get(user=rep)
    assert (token.name, token.scope) == ("wallboard", "read")
    assert token.expires_at is not None
    assert abs(token.expires_at - (now() + timedelta(days=30))) < timedelta(minutes=1)
    assert raw not in client.get("/desk/tokens/").content.decode(), "shown only once"
    entry = AuditEntry.objects.get(action="token.created")
    assert (entry.actor, entry.source) == (rep, "desk")


@pytest.mark.parametrize("days", ["0", "99999", "soon"])
def test_a_bad_expiry_in_the_desk_creates_nothing(rep: User, days: str) -> None:
    response = _signed_in(rep).post("/desk/tokens/new", {"scope": "read", "days": days})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()
